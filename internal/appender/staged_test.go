package appender

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
)

// TestAppendJSONString: the text is JSON as encoding/json writes it, with
// each byte that is not part of valid UTF-8 as U+FFFD, and the JSON text is
// itself valid UTF-8.
func TestAppendJSONString(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
	}{
		{"plain", "arc_easy", `"arc_easy"`},
		{"empty", "", `""`},
		{"quote and backslash", `say "hi" \ bye`, `"say \"hi\" \\ bye"`},
		{"controls", "a\x00b\tc\nd\x1f", `"a\u0000b\u0009c\u000ad\u001f"`},
		{"DEL and HTML characters stay", "\x7f<>&", "\"\x7f<>&\""},
		{"valid multibyte", "é—😀\u2028", "\"é—😀\u2028\""},
		{"a real U+FFFD stays", "\ufffd", "\"\ufffd\""},
		{"invalid byte", "a\xffb", "\"a\ufffdb\""},
		{"Latin-1 text", "caf\xe9", "\"caf\ufffd\""},
		{"truncated sequence at the end", "ok\xe2\x82", "\"ok\ufffd\ufffd\""},
		{"truncated sequence before ASCII", "\xc3(", "\"\ufffd(\""},
		{"UTF-16 surrogate", "\xed\xa0\x80", "\"\ufffd\ufffd\ufffd\""},
		{"overlong slash", "\xc0\xaf", "\"\ufffd\ufffd\""},
		{"lone continuation bytes", "\x80\xbf", "\"\ufffd\ufffd\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := string(AppendJSONString([]byte("x"), c.in))
			if got != "x"+c.want {
				t.Errorf("AppendJSONString(%q) = %q, want %q", c.in, got[1:], c.want)
			}
			checkJSONString(t, c.in, []byte(got[1:]))
		})
	}
}

// checkJSONString checks out, the JSON text of s: valid UTF-8, valid JSON,
// and the same string as encoding/json's text for s decodes to.
func checkJSONString(t *testing.T, s string, out []byte) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Fatalf("AppendJSONString(%q) = %q: not UTF-8", s, out)
	}
	var got string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("AppendJSONString(%q) = %q: %v", s, out, err)
	}
	ref, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var want string
	if err := json.Unmarshal(ref, &want); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("AppendJSONString(%q) reads back as %q, encoding/json's as %q", s, got, want)
	}
}

// FuzzAppendJSONString: any Go string becomes valid UTF-8 JSON text that
// reads back as encoding/json's text for it does.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"arc_easy", "", `"\`, "\x00\x1f\x7f", "é😀", "a\xffb", "\xed\xa0\x80", "ok\xe2\x82", "\ufffd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkJSONString(t, s, AppendJSONString(nil, s))
	})
}

func TestAppendJSONScalar(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{string(AppendJSONScalar(nil, true)), "true"},
		{string(AppendJSONScalar(nil, "a\xff")), "\"a\ufffd\""},
		{string(AppendJSONScalar(nil, 0.1)), "0.1"},
		{string(AppendJSONScalar(nil, float32(0.1))), "0.1"},
		{string(AppendJSONScalar(nil, 1e21)), "1e+21"},
		{string(AppendJSONScalar(nil, 3.0)), "3"},
		{string(AppendJSONScalar(nil, math.NaN())), "NaN"},
		{string(AppendJSONScalar(nil, math.Inf(1))), "Infinity"},
		{string(AppendJSONScalar(nil, float32(math.Inf(-1)))), "-Infinity"},
		{string(AppendJSONScalar(nil, math.Copysign(0, -1))), "-0.0"},
		{string(AppendJSONScalar(nil, int8(-128))), "-128"},
		{string(AppendJSONScalar(nil, int64(math.MinInt64))), "-9223372036854775808"},
		{string(AppendJSONScalar(nil, uint64(math.MaxUint64))), "18446744073709551615"},
		{string(AppendJSONScalar(nil, uint8(255))), "255"},
	} {
		if c.got != c.want {
			t.Errorf("AppendJSONScalar = %s, want %s", c.got, c.want)
		}
	}
}

func TestNestedJSON(t *testing.T) {
	for _, c := range []struct {
		name string
		got  any
		want any
	}{
		{"map sorted", MapJSON(map[string]float64{"b": 2, "a": 0.5, "\xff": 1}, false), "{\"a\":0.5,\"b\":2,\"\ufffd\":1}"},
		{"nil map, nullable", MapJSON[int64](nil, true), nil},
		{"nil map, not null", MapJSON[int64](nil, false), "{}"},
		{"list", ListJSON([]string{"x", "y\n"}, false), `["x","y\u000a"]`},
		{"nil list, nullable", ListJSON[bool](nil, true), nil},
		{"nil list, not null", ListJSON[bool](nil, false), "[]"},
		{"JSON text", JSONText([]byte(`{"a":1}`)), `{"a":1}`},
		{"nil JSON text", JSONText(nil), nil},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestNewStagedRefuses(t *testing.T) {
	for _, c := range []struct {
		name    string
		columns []string
		stages  []Stage
		want    string
	}{
		{"more columns than stages", []string{"a", "b"}, []Stage{{Type: "VARCHAR"}}, "2 columns, 1 stages"},
		{"a type that cannot be staged", []string{"a", "scores"}, []Stage{{Type: "VARCHAR"}, {Type: "MAP(VARCHAR, DOUBLE)"}}, "column scores: MAP(VARCHAR, DOUBLE) cannot be staged"},
		{"DECIMAL", []string{"d"}, []Stage{{Type: "DECIMAL(10,2)"}}, "column d: DECIMAL(10,2) cannot be staged"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := NewStaged(nil, "t", c.columns, c.stages)
			if err == nil || a != nil || !strings.Contains(err.Error(), "open appender on t: "+c.want) {
				t.Errorf("NewStaged = %v, %v; want an error with %q", a, err, c.want)
			}
		})
	}
	for name, want := range map[string]bool{"DOUBLE": true, "JSON": true, "UBIGINT": true, "DECIMAL(10,2)": false, "double": false, "": false} {
		if got := StageType(name); got != want {
			t.Errorf("StageType(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestDecimal(t *testing.T) {
	dec := func(v int64, scale uint8) duckdb.Decimal {
		return duckdb.Decimal{Width: 38, Scale: scale, Value: big.NewInt(v)}
	}
	for _, c := range []struct {
		name    string
		in      duckdb.Decimal
		wantErr bool
	}{
		{"fits", dec(125, 2), false},
		{"widest", dec(9_999_999_999, 2), false},
		{"negative widest", dec(-9_999_999_999, 2), false},
		{"one digit too wide", dec(10_000_000_000, 2), true},
		{"negative too wide", dec(-10_000_000_000, 2), true},
		{"other scale", dec(125, 3), true},
		{"no digits", duckdb.Decimal{Scale: 2}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := Decimal(c.in, 10, 2)
			if c.wantErr {
				if err == nil {
					t.Errorf("Decimal(%v) = %v, want an error", c.in, v)
				}
				return
			}
			d, ok := v.(duckdb.Decimal)
			if err != nil || !ok || d.Width != 10 || d.Scale != 2 || d.Value.Cmp(c.in.Value) != 0 {
				t.Errorf("Decimal(%v) = %#v, %v; want the value as DECIMAL(10,2)", c.in, v, err)
			}
		})
	}
	if v, err := DecimalPtr(nil, 10, 2); v != nil || err != nil {
		t.Errorf("DecimalPtr(nil) = %v, %v; want NULL", v, err)
	}
	bad := dec(1, 5)
	if _, err := DecimalPtr(&bad, 10, 2); err == nil {
		t.Error("DecimalPtr(scale 5) into DECIMAL(10,2): no error")
	}
}

// TestNarrowSign: a negative value never becomes a huge unsigned one,
// even where the bits survive the round trip (uint64).
func TestNarrowSign(t *testing.T) {
	if v, err := Narrow[uint64](-1); err == nil {
		t.Errorf("Narrow[uint64](-1) = %d, want an error", v)
	}
	if v, err := Narrow[uint64](math.MaxInt64); err != nil || v != math.MaxInt64 {
		t.Errorf("Narrow[uint64](MaxInt64) = %d, %v", v, err)
	}
	if v, err := Narrow[uint32](-1); err == nil {
		t.Errorf("Narrow[uint32](-1) = %d, want an error", v)
	}
	if v, err := FromFloat[int64](math.Ldexp(1, 63)); err == nil {
		t.Errorf("FromFloat[int64](2^63) = %d, want an error", v)
	}
	if v, err := FromFloat[int64](-math.Ldexp(1, 63)); err != nil || v != math.MinInt64 {
		t.Errorf("FromFloat[int64](-2^63) = %d, %v", v, err)
	}
	if v, err := FromFloat[uint64](-1); err == nil {
		t.Errorf("FromFloat[uint64](-1) = %d, want an error", v)
	}
}

// TestFromJSON: FromJSON reads the JSON texts staged rows hold as the
// casts it replaced do, value for value (NaN, ±Infinity, -0.0, the
// smallest and largest doubles, int64's ends, NULLs at every level, empty
// lists and maps, fields in any order), for the schema's nested types and
// a type whose names need quoting; and it refuses, as they do, what does
// not fit the type, but for the one difference its comment names: a key
// that is no field of a STRUCT, which it ignores.
func TestFromJSON(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	answers := "STRUCT(is_greedy BOOLEAN, logits_per_byte DOUBLE, logits_per_char DOUBLE, logits_per_token DOUBLE, num_chars BIGINT, num_tokens BIGINT, num_tokens_all BIGINT, sum_logits DOUBLE, sum_logits_uncond DOUBLE)[]"
	for _, c := range []struct {
		typ    string
		texts  []string
		refuse []string
	}{
		{"DOUBLE[]", []string{`[1.5,NaN,Infinity,-Infinity,-0.0,1.7976931348623157e+308,null,5e-324,0.1,1E5,-0,9007199254740993]`, `[]`, `null`},
			[]string{`["x"]`, `{"a":1}`, `[1,`}},
		{"MAP(VARCHAR, DOUBLE)", []string{`{"a":1,"b":null,"c":-0.0,"":2,"d\"e":NaN,"é":-Infinity}`, `{}`, `null`},
			[]string{`{"a":"x"}`, `[1]`}},
		{answers, []string{
			`[{"is_greedy":true,"logits_per_byte":-Infinity,"logits_per_char":NaN,"logits_per_token":-0.0,"num_chars":9223372036854775807,"num_tokens":-9223372036854775808,"num_tokens_all":0,"sum_logits":1.7976931348623157e+308,"sum_logits_uncond":5e-324},null]`,
			`[{"sum_logits_uncond":1,"sum_logits":2,"num_tokens_all":3,"num_tokens":4,"num_chars":5,"logits_per_token":6,"logits_per_char":7,"logits_per_byte":8,"is_greedy":false}]`,
			`[{"is_greedy":null,"logits_per_byte":null,"logits_per_char":null,"logits_per_token":null,"num_chars":null,"num_tokens":null,"num_tokens_all":null,"sum_logits":null,"sum_logits_uncond":null}]`, `[]`},
			[]string{`[{"is_greedy":true,"num_chars":1.5}]`, `[{"is_greedy":"yes"}]`, `[{"num_chars":9223372036854775808}]`}},
		{`STRUCT("it's" INTEGER, "q""x" VARCHAR)`, []string{`{"it's":1,"q\"x":"a'b"}`, `{"it's":null,"q\"x":null}`}, []string{`{"it's":"one"}`}},
	} {
		t.Run(c.typ, func(t *testing.T) {
			for _, text := range c.texts {
				var cast, read string
				q := fmt.Sprintf("SELECT CAST(CAST(CAST($1 AS JSON) AS %[1]s) AS VARCHAR), CAST(%[2]s AS VARCHAR), CAST(CAST(CAST($1 AS JSON) AS %[1]s) AS JSON)::VARCHAR IS NOT DISTINCT FROM CAST(%[2]s AS JSON)::VARCHAR", c.typ, FromJSON("$1", c.typ))
				var same bool
				var castN, readN sql.NullString
				if err := db.QueryRow(q, text).Scan(&castN, &readN, &same); err != nil {
					t.Fatalf("%s: %v", text, err)
				}
				cast, read = castN.String, readN.String
				if castN != readN || !same {
					t.Errorf("%s: the casts read %q, FromJSON %q", text, cast, read)
				}
			}
			if strings.HasPrefix(c.typ, "STRUCT") {
				// The difference: a key that is not a field.
				text := `{"it's":1,"q\"x":"a","extra":2}`
				if strings.HasSuffix(c.typ, "[]") {
					text = `[{"is_greedy":true,"logits_per_byte":1,"logits_per_char":1,"logits_per_token":1,"num_chars":1,"num_tokens":1,"num_tokens_all":1,"sum_logits":1,"sum_logits_uncond":1,"extra":2}]`
				}
				var x any
				errCast := db.QueryRow(fmt.Sprintf("SELECT CAST(CAST($1 AS JSON) AS %s)", c.typ), text).Scan(&x)
				var read string
				errRead := db.QueryRow("SELECT CAST("+FromJSON("$1", c.typ)+" AS VARCHAR)", text).Scan(&read)
				if errCast == nil || errRead != nil || strings.Contains(read, "2") {
					t.Errorf("%s: the casts' error %v; FromJSON read %q, %v; want the casts to refuse it and FromJSON to leave the key out", text, errCast, read, errRead)
				}
			}
			for _, text := range c.refuse {
				var x any
				errCast := db.QueryRow(fmt.Sprintf("SELECT CAST(CAST($1 AS JSON) AS %s)", c.typ), text).Scan(&x)
				errRead := db.QueryRow("SELECT "+FromJSON("$1", c.typ), text).Scan(&x)
				if errCast == nil || errRead == nil {
					t.Errorf("%s: the casts' error %v, FromJSON's %v; want both refused", text, errCast, errRead)
				}
			}
		})
	}
}
