package appender

import (
	"math"
	"math/big"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
)

func TestNarrow(t *testing.T) {
	tests := []struct {
		in   int64
		ok8  bool
		ok32 bool
	}{
		{44, true, true}, {127, true, true}, {128, false, true}, {-128, true, true}, {-129, false, true},
		{300, false, true}, {math.MaxInt32 + 1, false, false}, {math.MinInt32, false, true},
	}
	for _, tt := range tests {
		if _, err := Narrow[int8](tt.in); (err == nil) != tt.ok8 {
			t.Errorf("Narrow[int8](%d) error = %v, want ok=%v", tt.in, err, tt.ok8)
		}
		if _, err := Narrow[int32](tt.in); (err == nil) != tt.ok32 {
			t.Errorf("Narrow[int32](%d) error = %v, want ok=%v", tt.in, err, tt.ok32)
		}
	}
	if _, err := Narrow[uint8](-1); err == nil {
		t.Errorf("Narrow[uint8](-1) = nil error")
	}
}

func TestFromFloat(t *testing.T) {
	for _, f := range []float64{3.7, math.NaN(), math.Inf(1), 1e20, 0.5} {
		if v, err := FromFloat[int64](f); err == nil {
			t.Errorf("FromFloat[int64](%v) = %d, want an error", f, v)
		}
	}
	if v, err := FromFloat[int32](-3); err != nil || v != -3 {
		t.Errorf("FromFloat[int32](-3) = %d, %v", v, err)
	}
}

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in      string
		w, s    uint8
		want    int64 // unscaled
		wantErr bool
	}{
		{"1.25", 10, 2, 125, false},
		{"-0.5", 10, 2, -50, false},
		{"1.255", 10, 2, 0, true},
		{"123456789", 10, 2, 0, true},
		{"abc", 10, 2, 0, true},
	}
	for _, tt := range tests {
		d, err := ParseDecimal(tt.in, tt.w, tt.s)
		if (err != nil) != tt.wantErr || (err == nil && (d.Value.Int64() != tt.want || d.Scale != tt.s)) {
			t.Errorf("ParseDecimal(%q, %d, %d) = %v, %v; want unscaled %d (error %v)", tt.in, tt.w, tt.s, d.String(), err, tt.want, tt.wantErr)
		}
	}
}

func TestMapIsSorted(t *testing.T) {
	m := map[string]float64{"c": 3, "a": 1, "b": 2}
	for range 20 {
		om := Map(m, false).(duckdb.OrderedMap)
		keys := om.Keys()
		if keys[0] != "a" || keys[1] != "b" || keys[2] != "c" {
			t.Fatalf("Map keys = %v, want sorted", keys)
		}
	}
	if Map[string, float64](nil, true) != nil {
		t.Errorf("nil nullable map is not NULL")
	}
	if om, ok := Map[string, float64](nil, false).(duckdb.OrderedMap); !ok || om.Len() != 0 {
		t.Errorf("nil NOT NULL map is not an empty MAP")
	}
}

// FuzzParseDecimal: an accepted string is stored exactly (the stored
// integer over 10^scale is the string's value) within the column's width;
// a refused one is not a number, has too many fraction digits, or is too wide.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"1.25", "-0.001", "1e3", "99999999.99", "100000000", "0.005", "1/3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 {
			return // big.Rat reads exponents such as 1e99999999 slowly: not the property
		}
		d, err := ParseDecimal(s, 10, 2)
		want, ok := new(big.Rat).SetString(s)
		if err != nil {
			if ok {
				scaled := new(big.Rat).Mul(want, big.NewRat(100, 1))
				if scaled.IsInt() && len(new(big.Int).Abs(scaled.Num()).String()) <= 10 {
					t.Fatalf("ParseDecimal(%q) refused a value that fits DECIMAL(10,2): %v", s, err)
				}
			}
			return
		}
		if !ok || d.Scale != 2 || d.Width != 10 || d.Value == nil {
			t.Fatalf("ParseDecimal(%q) = %+v", s, d)
		}
		if got := new(big.Rat).SetFrac(d.Value, big.NewInt(100)); got.Cmp(want) != 0 {
			t.Fatalf("ParseDecimal(%q) stores %s, want %s", s, got.RatString(), want.RatString())
		}
		if len(new(big.Int).Abs(d.Value).String()) > 10 {
			t.Fatalf("ParseDecimal(%q) = %s: wider than 10 digits", s, d.Value)
		}
	})
}

// FuzzNarrow: Narrow and FromFloat succeed exactly when the value fits, and
// then return it unchanged.
func FuzzNarrow(f *testing.F) {
	for _, v := range []int64{0, 127, 128, -128, -129, 255, 1 << 40, -1} {
		f.Add(v, float64(v)+0.5)
	}
	f.Fuzz(func(t *testing.T, v int64, x float64) {
		n, err := Narrow[int8](v)
		if fits := v >= -128 && v <= 127; fits != (err == nil) || (fits && int64(n) == v) != fits {
			t.Fatalf("Narrow[int8](%d) = %d, %v", v, n, err)
		}
		u, err := Narrow[uint8](v)
		if fits := v >= 0 && v <= 255; fits != (err == nil) || (fits && int64(u) != v) {
			t.Fatalf("Narrow[uint8](%d) = %d, %v", v, u, err)
		}
		i, err := FromFloat[int32](x)
		fits := x == math.Trunc(x) && x >= math.MinInt32 && x <= math.MaxInt32
		if fits != (err == nil) || (fits && float64(i) != x) {
			t.Fatalf("FromFloat[int32](%v) = %d, %v", x, i, err)
		}
	})
}
