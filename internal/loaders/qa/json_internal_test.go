package qa

import (
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/valyala/fastjson"

	"github.com/dschema/dschema/internal/appender"
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

// TestPlainNumber: the texts written as they are, and those written as
// their double's shortest text, at the edges of plainNumber's rule.
func TestPlainNumber(t *testing.T) {
	for _, c := range []struct {
		text  string
		plain bool
	}{
		{"0", true}, {"-0", false}, {"-0.0", true}, {"0.0", true}, {"-0e0", true},
		{"1", true}, {"-17", true}, {"1.5", true}, {"1.50", true}, {"1E5", true}, {"2.5e-3", true}, {"1e+16", true},
		{"999999999999999", true}, {"-999999999999999", true}, // 15 digits: a double holds every such integer
		{"9999999999999999", false}, {"9007199254740993", false}, // 16
		{"0.1234567890123456", true}, {"-1.2345678901234567", true}, // 17 digits
		{"1.23456789012345678", false}, {"0.12345678901234567", false}, // 18
		{"1e280", true}, {"1e-280", true}, {"-9.9999999999999999e280", true},
		{"1e281", false}, {"1e-281", false}, {"1e0280", true}, {"5e-324", false}, {"1.7976931348623157e308", false},
		{"NaN", false}, {"Inf", false}, {"-Inf", false},
		{"007", false}, {"+1", false}, {".5", false}, {"5.", false}, {"1e", false}, {"1e+", false}, {"-", false}, {"", false}, {"1.5x", false},
	} {
		if got := plainNumber([]byte(c.text)); got != c.plain {
			t.Errorf("plainNumber(%q) = %v, want %v", c.text, got, c.plain)
		}
	}
}

// TestAppendExactFloat: the text a double column's value is written as,
// and the numbers it refuses (left unwritten), one buffer reused.
func TestAppendExactFloat(t *testing.T) {
	var buf []byte
	var p fastjson.Parser
	for _, c := range []struct {
		text, want string
		ok         bool
	}{
		{"1.50", "1.50", true}, {"1E5", "1E5", true}, {"-0", "-0.0", true}, {"-0.0", "-0.0", true},
		{"9007199254740992", "9.007199254740992e+15", true}, {"999999999999999", "999999999999999", true}, {"9007199254740993", "", false},
		{"0.123456789012345678", "0.12345678901234568", true}, {"1e300", "1e+300", true}, {"1e400", "", false},
		{"4.9e-324", "5e-324", true}, {"1e-400", "", false}, {"NaN", "NaN", true}, {"-Inf", "-Infinity", true}, {"0", "0", true},
	} {
		v, err := p.Parse(c.text)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendExactFloat([]byte("x"), v, &buf)
		if ok != c.ok || (ok && string(got) != "x"+c.want) || (!ok && string(got) != "x") {
			t.Errorf("%s: %s, %v; want x%s, %v", c.text, got, ok, c.want, c.ok)
		}
	}
}

// TestPlainNumberReadsAlike holds the rule plainNumber stands on: for
// every text it takes, DuckDB's reading of JSON as DOUBLE (the staged
// INSERT's appender.FromJSON) reads the same double as strconv.ParseFloat, bit for bit (-0.0
// too). The texts: shortest, 17-digit and fixed forms of random doubles,
// and random digit strings (up to 19 digits) with random points and
// exponents up to ±330, of which plainNumber takes some.
func TestPlainNumberReadsAlike(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(18, 2026))
	texts := []string{"-0", "-0.0", "-0e0", "-0.000e-5", "0e5", "-0.0e+280", "1e280", "-1e-280", "99999999999999999e263", "0.00000000000000001e-280", "123456789.0", "100000.0"}
	for len(texts) < 60000 {
		switch rng.IntN(4) {
		case 0, 1:
			f := math.Float64frombits(rng.Uint64())
			switch rng.IntN(3) {
			case 0:
				texts = append(texts, strconv.FormatFloat(f, 'g', -1, 64))
			case 1:
				texts = append(texts, strconv.FormatFloat(f, 'e', 16, 64))
			default:
				texts = append(texts, strconv.FormatFloat(f, 'g', 17, 64))
			}
		default:
			n := 1 + rng.IntN(19)
			d := make([]byte, n)
			for i := range d {
				d[i] = byte('0' + rng.IntN(10))
			}
			if d[0] == '0' && n > 1 {
				d[0] = '1'
			}
			s := string(d)
			if p := rng.IntN(n + 1); p > 0 && p < n {
				s = s[:p] + "." + s[p:]
			} else if d[0] == '0' {
				s = "0." + s[1:] + "1"
			}
			if rng.IntN(2) == 0 {
				s += fmt.Sprintf("e%d", rng.IntN(661)-330)
			}
			if rng.IntN(2) == 0 {
				s = "-" + s
			}
			texts = append(texts, s)
		}
	}
	var plain []string
	for _, s := range texts {
		if plainNumber([]byte(s)) {
			plain = append(plain, s)
		}
	}
	if len(plain) < 30000 {
		t.Fatalf("only %d of %d texts plain", len(plain), len(texts))
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT unnest("+appender.FromJSON("?", "DOUBLE[]")+")", "["+strings.Join(plain, ",")+"]")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for ; rows.Next(); i++ {
		var got float64
		if err := rows.Scan(&got); err != nil {
			t.Fatal(err)
		}
		want, err := strconv.ParseFloat(plain[i], 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%s: DuckDB reads %v (%#x), strconv %v (%#x, %v)", plain[i], got, math.Float64bits(got), want, math.Float64bits(want), err)
		}
	}
	if err := rows.Err(); err != nil || i != len(plain) {
		t.Fatalf("%d of %d read: %v", i, len(plain), err)
	}
}
