package pickle

import (
	"errors"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// numpyTime reads the text numpy writes for a datetime64 (str(x)): a
// year of any sign and length, then as many fields as the unit has.
func numpyTime(t *testing.T, s string) any {
	t.Helper()
	if s == "NaT" {
		return NaTv
	}
	m := regexp.MustCompile(`^(-?\d+)(?:-(\d\d)(?:-(\d\d)(?:T(\d\d)(?::(\d\d)(?::(\d\d)(?:\.(\d+))?)?)?)?)?)?$`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("numpy time %q: not read", s)
	}
	n := func(i, def int) int {
		if m[i] == "" {
			return def
		}
		v, _ := strconv.Atoi(m[i])
		return v
	}
	frac := (m[7] + "000000000")[:9]
	ns, _ := strconv.Atoi(frac)
	return time.Date(n(1, 0), time.Month(n(2, 1)), n(3, 1), n(4, 0), n(5, 0), n(6, 0), ns, time.UTC)
}

// TestDatetimeUnits decodes datetime64 and timedelta64 arrays in every
// unit numpy has from ns to Y, with multiples (10ns, 25m, 3h, 2W, 5Y),
// before 1970 and past 2262, as numpy wrote them (testdata/write_fixtures.py,
// units()), and checks each value against the text numpy wrote beside it;
// and numpy's unitless NaT, as a scalar and in an array. A unit it did not
// know used to read as NaT, or refuse the pickle.
func TestDatetimeUnits(t *testing.T) {
	for _, file := range []string{"units_p2.pkl", "units_p4.pkl"} {
		t.Run(file, func(t *testing.T) {
			d := decodeFile(t, file).(*Dict)
			get := func(d *Dict, k string) any {
				v, ok := d.Get(k)
				if !ok {
					t.Fatalf("no key %q", k)
				}
				return v
			}
			dts := get(d, "datetime64").(*Dict)
			if len(dts.Keys) != 15 {
				t.Errorf("%d datetime64 units, want 15", len(dts.Keys))
			}
			for i, k := range dts.Keys {
				pair := dts.Values[i].(Tuple)
				a, texts := pair[0].(*Array), pair[1].([]any)
				if a.Dtype.Kind != 'M' || a.Dtype.Unit != k {
					t.Errorf("%s: dtype %s", k, a.Dtype)
				}
				for j, text := range texts {
					want := numpyTime(t, text.(string))
					raw := a.At(j).(int64)
					got, err := a.Dtype.Value(raw)
					if err != nil || got != want && !(isTime(got) && got.(time.Time).Equal(want.(time.Time)) && got.(time.Time).Location() == time.UTC) {
						t.Errorf("%s[%d] = %v, %v; want %v (numpy's %s)", k, j, got, err, want, text)
					}
					tm, err := a.Dtype.Time(raw)
					if want == NaTv && !errors.Is(err, ErrNaT) || want != NaTv && (err != nil || !tm.Equal(want.(time.Time))) {
						t.Errorf("%s: Time(%d) = %v, %v; want %v", k, raw, tm, err, want)
					}
				}
			}
			tds := get(d, "timedelta64").(*Dict)
			for i, k := range tds.Keys {
				pair := tds.Values[i].(Tuple)
				a, nanos := pair[0].(*Array), pair[1].([]any)
				for j, ns := range nanos {
					var want any = NaTv
					if ns != nil {
						want = time.Duration(ns.(int64))
					}
					if got, err := a.Dtype.Value(a.At(j)); err != nil || got != want {
						t.Errorf("timedelta64[%s][%d] = %v, %v; want %v", k, j, got, err, want)
					}
				}
			}
			for k, want := range map[string]any{
				"nat": NaTv, "nat_td": NaTv, "month": time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), "hours": 5 * time.Hour,
			} {
				if got := get(d, k); got != want {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
			nat := get(d, "nat_array").(*Array)
			if got, err := nat.Dtype.Value(nat.At(0)); got != NaTv || err != nil || nat.Dtype.Unit != "" {
				t.Errorf("nat_array = %v, %v (unit %q), want NaT", got, err, nat.Dtype.Unit)
			}
		})
	}
}

func isTime(v any) bool { _, ok := v.(time.Time); return ok }

// TestDatetimeUnitsRefused: what a datetime64 or timedelta64 cannot give
// exactly is an error naming the value and the unit, never NaT: a unit
// numpy has and Go's time has not (ps), a value of no unit that is not
// NaT, a time beyond what the decoder reads, a month-long timedelta, a
// timedelta beyond time.Duration.
func TestDatetimeUnitsRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		d    Dtype
		v    int64
		want string
	}{
		{"ps", Dtype{Kind: 'M', Size: 8, Unit: "ps"}, 1, `datetime64 unit "ps" is not read`},
		{"generic", Dtype{Kind: 'M', Size: 8}, 5, "datetime64 5 without a unit"},
		{"years beyond", Dtype{Kind: 'M', Size: 8, Unit: "Y"}, 1 << 40, "datetime64 1099511627776[Y] is beyond"},
		{"seconds beyond", Dtype{Kind: 'M', Size: 8, Unit: "s"}, 1<<62 + 1, "datetime64 4611686018427387905[s] is beyond"},
		{"weeks beyond", Dtype{Kind: 'M', Size: 8, Unit: "1073741824W"}, math.MaxInt64, "is beyond"},
		{"timedelta months", Dtype{Kind: 'm', Size: 8, Unit: "M"}, 2, "timedelta64 2[M]: a unit of no fixed length"},
		{"timedelta days beyond", Dtype{Kind: 'm', Size: 8, Unit: "D"}, 1e6, "timedelta64 1000000[D] is beyond time.Duration"},
		{"timedelta generic", Dtype{Kind: 'm', Size: 8}, 1, "timedelta64 1 without a unit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.d.Value(c.v)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Value(%d) of %s = %v, %v; want an error %q", c.v, &c.d, got, err, c.want)
			}
			if c.d.Kind == 'M' {
				if tm, err := c.d.Time(c.v); err == nil || errors.Is(err, ErrNaT) {
					t.Errorf("Time(%d) of %s = %v, %v; want an error that is not NaT", c.v, &c.d, tm, err)
				}
			}
		})
	}
	// Far but within: a large multiple of a week, exactly.
	d := Dtype{Kind: 'M', Size: 8, Unit: "100000W"}
	if got, err := d.Time(1); err != nil || !got.Equal(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 700000)) {
		t.Errorf("Time(1) of %s = %v, %v", &d, got, err)
	}

	// In a pickle: a unit numpy has and this decoder does not read is
	// refused at the dtype, naming it.
	p := newPW(4)
	p.ndarray([]int64{1}, func(p *pw) { p.dtypeUnit("M8", "ps", 1) }, i8(1))
	pe := decodeError(t, p.stop())
	if !strings.Contains(pe.Msg, `numpy datetime unit b"ps"×1 is not read`) {
		t.Errorf("M8[ps]: %v", pe)
	}
}

// TestTimestampValue: a pandas Timestamp's value is read however the
// pickle spells the int (LONG1 as CPython writes it, LONG1 and LONG4 with
// extra sign bytes, protocol 0's L and I lines); a value beyond int64 is
// refused, naming it.
func TestTimestampValue(t *testing.T) {
	const ns = 1735787045000000001 // 2025-01-02T03:04:05.000000001Z
	want := time.Unix(0, ns).UTC()
	long := func(extra int) func(*pw) { // LONG1 of 8 bytes and extra zero bytes
		return func(p *pw) {
			b := make([]byte, 8+extra)
			for i := 0; i < 8; i++ {
				b[i] = byte(uint64(ns) >> (8 * i))
			}
			p.op(0x8a, byte(len(b))).op(b...)
		}
	}
	stamp := func(proto int, value func(*pw)) []byte {
		p := newPW(proto).global("pandas._libs.tslibs.timestamps", "_unpickle_timestamp").op('(')
		value(p)
		return p.op('N', 'N', 'K', 10, 't', 'R').stop()
	}
	for name, data := range map[string][]byte{
		"LONG1":          stamp(2, long(0)),
		"LONG1 9 bytes":  stamp(2, long(1)),
		"LONG1 16 bytes": stamp(4, long(8)),
		"LONG4": stamp(4, func(p *pw) {
			b := make([]byte, 12)
			for i := 0; i < 8; i++ {
				b[i] = byte(uint64(ns) >> (8 * i))
			}
			p.op(0x8b).u32(uint32(len(b))).op(b...)
		}),
		"protocol 0 L": stamp(0, func(p *pw) { p.op([]byte("L1735787045000000001L\n")...) }),
		"protocol 0 I": stamp(0, func(p *pw) { p.op([]byte("I1735787045000000001\n")...) }),
	} {
		t.Run(name, func(t *testing.T) {
			v, err := Decode(data)
			if got, ok := v.(time.Time); err != nil || !ok || !got.Equal(want) {
				t.Errorf("Decode = %#v, %v; want %v", v, err, want)
			}
		})
	}
	beyond := new(big.Int).Lsh(big.NewInt(1), 63)
	pe := decodeError(t, stamp(4, vBig(beyond)))
	if !strings.Contains(pe.Msg, "Timestamp value 9223372036854775808 is beyond int64") {
		t.Errorf("2**63: %v", pe)
	}
}
