package qa

import (
	"math"
	"testing"

	"github.com/valyala/fastjson"
)

// TestExactFloat holds the numbers a double column takes as written and
// the ones it refuses (they go to extra), through one reused buffer,
// around the edges: 2^53 and 2^53+1, int64's ends, beyond int64, beyond a
// double, below the smallest double, NaN and the infinities as fastjson
// reads them after pyInf.
func TestExactFloat(t *testing.T) {
	cases := []struct {
		text string
		want float64
		ok   bool
	}{
		{"0", 0, true},
		{"-0", math.Copysign(0, -1), true},
		{"-0.0", math.Copysign(0, -1), true},
		{"1.5", 1.5, true},
		{"1E5", 1e5, true},
		{"0.1", 0.1, true},
		// fastjson's Float64 is one ulp off for these.
		{"3e-05", 3e-05, true},
		{"5e-06", 5e-06, true},
		{"-5e-6", -5e-06, true},
		{"123.456e-5", 0.00123456, true},
		{"1.7976931348623157e308", math.MaxFloat64, true},
		{"9007199254740992", 1 << 53, true},
		{"9007199254740993", 0, false},
		{"-9007199254740993", 0, false},
		{"9223372036854775807", 0, false},
		{"-9223372036854775808", -(1 << 63), true},
		{"18446744073709551616", 0, false},
		{"1e400", 0, false},
		{"1e-400", 0, false}, // below the smallest double: 0 is not what was written
		{"-2.5e-350", 0, false},
		{"4.9e-324", 5e-324, true}, // the smallest double, as its shortest text rounds
		{"0e-400", 0, true},
		{"0.000e5", 0, true},
		{"NaN", math.NaN(), true},
		{"Inf", math.Inf(1), true},
		{"-Inf", math.Inf(-1), true},
		{"0", 0, true}, // after long texts: the buffer is reused
	}
	var buf []byte
	var p fastjson.Parser
	for _, c := range cases {
		v, err := p.Parse(c.text)
		if err != nil {
			t.Fatalf("%s: %v", c.text, err)
		}
		got, ok := exactFloatBuf(v, &buf)
		same := math.Float64bits(got) == math.Float64bits(c.want) || (math.IsNaN(got) && math.IsNaN(c.want))
		if ok != c.ok || (ok && !same) {
			t.Errorf("%s: %v, %v; want %v, %v", c.text, got, ok, c.want, c.ok)
		}
	}
}
