package pickle

import (
	"errors"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func decodeFile(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	v, err := Decode(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// TestValues decodes the same values written by CPython (pandas 1.5 /
// numpy 1) with protocols 0, 1, 2, 4 and 5, and under numpy 2's module
// names, and checks every one exactly.
func TestValues(t *testing.T) {
	bigInt, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	f32 := func(f float32) float64 { return float64(f) }
	for _, file := range []string{"values_p0.pkl", "values_p1.pkl", "values_p2.pkl", "values_p4.pkl", "values_p5.pkl", "values_p2_np2.pkl", "values_p4_np2.pkl"} {
		t.Run(file, func(t *testing.T) {
			d, ok := decodeFile(t, file).(*Dict)
			if !ok {
				t.Fatalf("top value %T, want *Dict", d)
			}
			get := func(k string) any {
				v, ok := d.Get(k)
				if !ok {
					t.Fatalf("no key %q", k)
				}
				return v
			}
			want := map[string]any{
				"none": nil, "true": true, "false": false, "int": int64(-7), "big": bigInt, "float": 2.5,
				"inf": math.Inf(-1), "str": "naïve ✓ 😀", "bytes": []byte{0, 0xff, 'a', 'b'},
				"list":      []any{int64(1), "two", 3.0, nil, []any{int64(4)}},
				"tuple":     Tuple{int64(1), Tuple{int64(2), int64(3)}},
				"set":       &Set{Items: []any{int64(1), int64(2), int64(3)}},
				"frozenset": &Set{Items: []any{"x"}, Frozen: true},
				"slice":     &Slice{int64(1), int64(10), int64(2)},
				"bytearray": []byte("xy"),
				"datetime":  time.Date(2025, 8, 19, 5, 36, 1, 123456000, time.UTC),
				"date":      time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC),
				"timedelta": 24*time.Hour + 2*time.Second + 3*time.Microsecond,
				"scalar_f8": 2.5, "scalar_i8": int64(-3), "scalar_bool": true,
				"scalar_m8": time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
			}
			for k, w := range want {
				if got := get(k); !reflect.DeepEqual(got, w) {
					t.Errorf("%s = %#v, want %#v", k, got, w)
				}
			}
			if f := get("nan").(float64); !math.IsNaN(f) {
				t.Errorf("nan = %v", f)
			}
			dict := get("dict").(*Dict)
			if !reflect.DeepEqual(dict.Keys, []any{int64(1), "k"}) || dict.Values[0] != "one" {
				t.Errorf("dict = %#v", dict)
			}
			if od := get("ordered").(*Dict); !od.Ordered || !reflect.DeepEqual(od.Keys, []any{"b", "a"}) || !reflect.DeepEqual(od.Values, []any{int64(1), int64(2)}) {
				t.Errorf("ordered = %#v", od)
			}
			aware := get("aware").(time.Time)
			if _, off := aware.Zone(); off != 7200 || !aware.Equal(time.Date(2025, 1, 2, 1, 4, 5, 0, time.UTC)) {
				t.Errorf("aware = %v", aware)
			}
			arr := func(k string) *Array {
				a, ok := get(k).(*Array)
				if !ok {
					t.Fatalf("%s is %T, want *Array", k, get(k))
				}
				return a
			}
			f8 := arr("f8").Data.([]float64)
			if len(f8) != 4 || f8[0] != 1.5 || !math.IsNaN(f8[1]) || !math.Signbit(f8[2]) || !math.IsInf(f8[3], 1) {
				t.Errorf("f8 = %v", f8)
			}
			if got := arr("f4").Data; !reflect.DeepEqual(got, []float64{f32(0.25), f32(-1)}) {
				t.Errorf("f4 = %v", got)
			}
			for _, k := range []string{"i8", "i8f"} {
				a := arr(k)
				if !reflect.DeepEqual(a.Shape, []int{2, 3}) || a.At(0, 2) != int64(3) || a.At(1, 0) != int64(4) || a.Fortran != (k == "i8f") {
					t.Errorf("%s: shape %v fortran %v data %v", k, a.Shape, a.Fortran, a.Data)
				}
			}
			if got := arr("i4").Data; !reflect.DeepEqual(got, []int64{-1, math.MaxInt32}) {
				t.Errorf("i4 = %v", got)
			}
			if got := arr("u1").Data; !reflect.DeepEqual(got, []uint64{0, 255}) {
				t.Errorf("u1 = %v", got)
			}
			if got := arr("b1").Data; !reflect.DeepEqual(got, []bool{true, false, true}) {
				t.Errorf("b1 = %v", got)
			}
			if got := arr("obj").Data; !reflect.DeepEqual(got, []any{"a", nil, 1.5, []any{int64(1), int64(2)}}) {
				t.Errorf("obj = %#v", got)
			}
			m8 := arr("m8")
			ts := m8.Data.([]int64)
			if first, err := m8.Dtype.Time(ts[0]); err != nil || !first.Equal(time.Date(2025, 1, 1, 0, 0, 0, 5e8, time.UTC)) || ts[1] != NaT || m8.Dtype.Unit != "ns" {
				t.Errorf("m8 = %v %s", ts, m8.Dtype)
			}
			if got := arr("U").Data; !reflect.DeepEqual(got, []string{"ab", "ü✓"}) {
				t.Errorf("U = %v", got)
			}
			if got := arr("big_endian").Data; !reflect.DeepEqual(got, []float64{1, 2}) {
				t.Errorf("big_endian = %v", got)
			}
		})
	}
}

// TestRefused: a pickle that would call os.system is refused, naming the
// module, the class and the byte offset of the opcode; nothing runs.
func TestRefused(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "system.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decode(b)
	var re *RefusedError
	if !errors.As(err, &re) || !errors.Is(err, ErrRefused) {
		t.Fatalf("Decode = %v, want a RefusedError", err)
	}
	if re.Module != "posix" || re.Name != "system" || re.Offset != 45 {
		t.Errorf("refused %s.%s at byte %d, want posix.system at 45 (%v)", re.Module, re.Name, re.Offset, err)
	}
	if b[re.Offset] != 0x93 {
		t.Errorf("byte %d is 0x%02x, not STACK_GLOBAL", re.Offset, b[re.Offset])
	}
}

// TestBroken: truncated and corrupt pickles are errors with a place, never
// panics; a crafted length asks for no allocation.
func TestBroken(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "values_p4.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := os.ReadFile(filepath.Join("testdata", "values_p2.pkl"))
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated at half", good[:len(good)/2], "byte "},
		{"truncated before STOP", good[:len(good)-1], "byte 2: FRAME: length 1805, but only 1804 bytes are left"},
		{"no STOP", []byte{0x80, 2, 'N'}, "byte 3: truncated: the pickle ends without STOP"},
		{"protocol 2 truncated", p2[:len(p2)-10], "byte "},
		{"empty", nil, "byte 0: empty input: not a pickle"},
		{"not a pickle", []byte("PAR1 this is parquet"), "byte 0: not a pickle"},
		{"unknown opcode", []byte{0x80, 4, 0xff}, "byte 2: unknown opcode 0xff"},
		{"huge BINUNICODE8", []byte{0x80, 4, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a', '.'}, "byte 2: BINUNICODE8: length 1152921504606846975, but only 2 bytes are left"},
		{"huge FRAME", []byte{0x80, 4, 0x95, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 'N', '.'}, "byte 2: FRAME: length 4294967295"},
		{"trailing bytes", []byte{0x80, 4, 'N', '.', 'N'}, "byte 4: 1 bytes after the end of the pickle"},
		{"REDUCE of a non-callable", []byte{0x80, 4, 'N', ')', 'R', '.'}, "byte 4: REDUCE: a None is not callable here"},
		{"unknown protocol", []byte{0x80, 9, 'N', '.'}, "byte 0: protocol 9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Decode = %v, want %q", err, c.want)
			}
		})
	}
}

// TestFrames decodes pandas DataFrames (seven unconsolidated blocks: float,
// int, object strings, object mixed, datetime with NaT, bool, float), a
// named string index, an empty frame, and Timestamps with NaT, as pandas
// 1.5 writes them with protocols 0, 1, 2, 4 and 5, and under numpy 2's
// names.
func TestFrames(t *testing.T) {
	for _, file := range []string{"frames_p0.pkl", "frames_p1.pkl", "frames_p2.pkl", "frames_p4.pkl", "frames_p5.pkl", "frames_p4_np2.pkl"} {
		t.Run(file, func(t *testing.T) {
			d := decodeFile(t, file).(*Dict)
			v, _ := d.Get("df")
			df, ok := v.(*DataFrame)
			if !ok {
				t.Fatalf("df is %T", v)
			}
			if !reflect.DeepEqual(df.Columns, []any{"f", "i", "s", "o", "t", "b", "f2"}) || df.Len() != 3 || !df.Index.Range || len(df.Blocks) != 7 {
				t.Fatalf("columns %v, %d rows, range %v, %d blocks", df.Columns, df.Len(), df.Index.Range, len(df.Blocks))
			}
			col := func(name string) []any {
				c, err := df.ColumnByName(name)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			f := col("f")
			if f[0] != 1.5 || !math.IsNaN(f[1].(float64)) || f[2] != 3.0 {
				t.Errorf("f = %v", f)
			}
			for name, want := range map[string][]any{
				"i":  {int64(1), int64(2), int64(3)},
				"s":  {"a", nil, "c"},
				"o":  {[]any{1.0, 2.0}, 0.5, nil},
				"t":  {time.Date(2025, 1, 1, 0, 0, 0, 5e8, time.UTC), NaTv, time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)},
				"b":  {true, false, true},
				"f2": {0.25, 0.5, 0.75},
			} {
				if got := col(name); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", name, got, want)
				}
			}
			v, _ = d.Get("named")
			named := v.(*DataFrame)
			if named.Index.Name != "run" || !reflect.DeepEqual(named.Index.Values, []any{"r1", "r2"}) || named.Index.Range {
				t.Errorf("named index = %#v", named.Index)
			}
			v, _ = d.Get("empty")
			if e := v.(*DataFrame); e.Len() != 0 || !reflect.DeepEqual(e.Columns, []any{"a"}) {
				t.Errorf("empty = %#v", e)
			}
			v, _ = d.Get("stamps")
			if got := v.([]any); !reflect.DeepEqual(got, []any{time.Date(2025, 1, 2, 3, 4, 5, 5e8, time.UTC), NaTv}) {
				t.Errorf("stamps = %#v", got)
			}
		})
	}
}
