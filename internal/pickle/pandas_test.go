package pickle

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestPandas1 decodes what pandas 1.5 writes (testdata/write_fixtures.py,
// pandas1()) with protocols 0, 2, 4 and 5: frames indexed by Int64Index
// (after sort_values and a row filter), UInt64Index, Float64Index,
// DatetimeIndex, CategoricalIndex and TimedeltaIndex; a frame of extension
// columns (categorical, Int64, UInt8, Float64, boolean, string, timedelta,
// tz-aware datetimes); text protocol 0 escapes; tz-aware Timestamps. Every
// value is what pandas itself reads back from the file.
func TestPandas1(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	inParis := func(y, mo, d, h int) time.Time { return time.Date(y, time.Month(mo), d, h, 0, 0, 0, paris) }
	for _, file := range []string{"pandas1_p0.pkl", "pandas1_p2.pkl", "pandas1_p4.pkl", "pandas1_p5.pkl"} {
		t.Run(file, func(t *testing.T) {
			d := decodeFile(t, file).(*Dict)
			frame := func(k string) *DataFrame {
				v, _ := d.Get(k)
				df, ok := v.(*DataFrame)
				if !ok {
					t.Fatalf("%s is a %s", k, TypeName(v))
				}
				return df
			}
			for _, c := range []struct {
				frame string
				name  any
				index []any
				cols  map[string][]any
			}{
				{"sorted", nil, []any{int64(1), int64(2), int64(0)},
					map[string][]any{"x": {1.0, 2.0, 3.0}, "n": {int64(10), int64(20), int64(30)}}},
				{"filtered", nil, []any{int64(0), int64(2)},
					map[string][]any{"x": {3.0, 2.0}, "n": {int64(30), int64(20)}}},
				{"uint", "u", []any{uint64(1 << 63), uint64(5)}, map[string][]any{"x": {1.0, 2.0}}},
				{"dt", "when", []any{time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), NaTv}, map[string][]any{"x": {int64(1), int64(2)}}},
				{"cat", nil, []any{"b", "a", "b"}, map[string][]any{"x": {int64(1), int64(2), int64(3)}}},
				{"td", nil, []any{time.Second, NaTv}, map[string][]any{"x": {int64(1), int64(2)}}},
			} {
				df := frame(c.frame)
				if df.Index.Name != c.name || !reflect.DeepEqual(df.Index.Values, c.index) || df.Index.Range {
					t.Errorf("%s index = %#v %#v, want %#v %#v", c.frame, df.Index.Name, df.Index.Values, c.name, c.index)
				}
				for name, want := range c.cols {
					if got := frameColumn(t, df, name); !reflect.DeepEqual(got, want) {
						t.Errorf("%s[%s] = %#v, want %#v", c.frame, name, got, want)
					}
				}
			}
			if ix := frame("float").Index.Values; len(ix) != 2 || ix[0] != 0.5 || !math.IsNaN(ix[1].(float64)) {
				t.Errorf("float index = %v", ix)
			}

			checkPandas1Ext(t, frame("ext"), inParis)

			if got := frameColumn(t, frame("text"), "s"); !reflect.DeepEqual(got, []any{"☃", "a\\b\nc", "é", `\u2603`, "\r\x00\x1a", "😀"}) {
				t.Errorf("text = %q", got)
			}
			v, _ := d.Get("stamps")
			stamps := v.([]any)
			if s := stamps[0].(time.Time); !s.Equal(inParis(2025, 7, 1, 12)) || s.Location().String() != "Europe/Paris" {
				t.Errorf("stamps[0] = %v", s)
			}
			if s := stamps[1].(time.Time); !s.Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) || s.Location() == time.UTC {
				t.Errorf("stamps[1] = %v, want aware UTC", s)
			}
		})
	}
}

// checkPandas1Ext checks pandas1()'s frame of extension columns: nulls of
// each extension dtype, tz-aware datetimes in their zone, and each block's
// dtype.
func checkPandas1Ext(t *testing.T, ext *DataFrame, inParis func(y, mo, d, h int) time.Time) {
	t.Helper()
	if !reflect.DeepEqual(ext.Columns, []any{"cat", "int", "u8", "flt", "bool", "str", "td", "tz", "utc"}) || !ext.Index.Range || ext.Len() != 4 {
		t.Fatalf("ext: columns %v, %d rows", ext.Columns, ext.Len())
	}
	for name, want := range map[string][]any{
		"cat":  {"lo", "hi", nil, "lo"},
		"int":  {int64(1), nil, int64(-3), int64(1 << 40)},
		"u8":   {uint64(0), uint64(255), nil, uint64(7)},
		"flt":  {0.5, nil, 1.5, -2.0},
		"bool": {true, nil, false, true},
		"str":  {"a", nil, "ü☃", ""},
		"td":   {24*time.Hour + time.Second, NaTv, -time.Microsecond, time.Duration(0)},
	} {
		if got := frameColumn(t, ext, name); !reflect.DeepEqual(got, want) {
			t.Errorf("ext[%s] = %#v, want %#v", name, got, want)
		}
	}
	for name, want := range map[string][]any{
		"tz":  {inParis(2025, 7, 1, 12), NaTv, inParis(2025, 1, 1, 0), inParis(2025, 3, 30, 3)},
		"utc": {time.Date(2025, 7, 1, 12, 0, 0, 5e8, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), NaTv, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		got := frameColumn(t, ext, name)
		for i, w := range want {
			wt, isTime := w.(time.Time)
			gt, ok := got[i].(time.Time)
			switch {
			case !isTime && got[i] != w:
				t.Errorf("ext[%s][%d] = %v, want %v", name, i, got[i], w)
			case isTime && (!ok || !gt.Equal(wt)):
				t.Errorf("ext[%s][%d] = %v, want %v", name, i, got[i], w)
			case isTime && name == "tz" && gt.Location().String() != "Europe/Paris":
				t.Errorf("ext[tz][%d] in %v, want Europe/Paris", i, gt.Location())
			case isTime && name == "utc" && (gt.Location() == time.UTC || gt.Location().String() != "UTC"):
				t.Errorf("ext[utc][%d] in %v, want an aware UTC", i, gt.Location())
			}
		}
	}
	wantDtypes := []string{"category", "Int64", "UInt8", "Float64", "boolean", "string", "", "datetime64[ns, Europe/Paris]", "datetime64[ns, UTC]"}
	for _, b := range ext.Blocks {
		if got, want := b.Dtype, wantDtypes[b.Columns[0]]; got != want {
			t.Errorf("block of column %d: dtype %q, want %q", b.Columns[0], got, want)
		}
	}
}

// frameColumn is df's column name, or a fatal error.
func frameColumn(t *testing.T, df *DataFrame, name string) []any {
	t.Helper()
	c, err := df.ColumnByName(name)
	if err != nil {
		t.Fatalf("column %s: %v", name, err)
	}
	return c
}

// TestRangeIndex: a RangeIndex's length is computed without overflow, at
// the ends of int64 too, for either sign of step.
func TestRangeIndex(t *testing.T) {
	const lo = -1 << 62
	for _, c := range []struct {
		name              string
		start, stop, step int64
		want              []any
	}{
		{"step 2", 0, 5, 2, []any{int64(0), int64(2), int64(4)}},
		{"negative step", 5, 0, -2, []any{int64(5), int64(3), int64(1)}},
		{"at -2**62", lo, lo + 3, 1, []any{int64(lo), int64(lo + 1), int64(lo + 2)}},
		{"down to -2**63", math.MinInt64 + 2, math.MinInt64, -1, []any{int64(math.MinInt64 + 2), int64(math.MinInt64 + 1)}},
		{"wide step", lo, 1 << 62, 1 << 62, []any{int64(lo), int64(0)}},
		{"all of int64", math.MinInt64, math.MaxInt64, 1 << 62, []any{int64(math.MinInt64), int64(lo), int64(0), int64(1 << 62)}},
		{"all of int64 down", math.MaxInt64, math.MinInt64, -1 << 62, []any{int64(math.MaxInt64), int64(math.MaxInt64 - 1<<62), int64(math.MaxInt64 - 2<<62), int64(math.MaxInt64 - 3<<62)}},
		{"empty", 0, 0, 1, []any{}},
		{"backwards", 3, 0, 1, []any{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := Decode(newPW(4).rangeIndex(vInt(c.start), vInt(c.stop), vInt(c.step)).stop())
			ix, ok := v.(*Index)
			if err != nil || !ok || !ix.Range || !reflect.DeepEqual(ix.Values, c.want) {
				t.Errorf("RangeIndex(%d, %d, %d) = %#v, %v; want %v", c.start, c.stop, c.step, v, err, c.want)
			}
		})
	}
	pe := decodeError(t, newPW(4).rangeIndex(vInt(0), vInt(5), vInt(0)).stop())
	if !strings.Contains(pe.Msg, "RangeIndex(0, 5, 0): not read") {
		t.Errorf("step 0: %v", pe)
	}
}
