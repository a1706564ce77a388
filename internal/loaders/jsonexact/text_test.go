package jsonexact_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/dschema/dschema/internal/loaders/jsonexact"
)

// TestTextProblem: the bytes and escapes a QA line may not hold, found at
// their byte; everything else passes.
func TestTextProblem(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, in string
		at       int
		why      string // "" for none
	}{
		{"ascii", `{"a": "b"}`, 0, ""},
		{"utf-8", `{"a": "é 😀"}`, 0, ""},
		{"escapes", `{"a": "\" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00"}`, 0, ""},
		{"an escaped backslash before u", `{"a": "\\ud800"}`, 0, ""},
		{"not UTF-8", "{\"a\": \"x\xff\"}", 8, `bytes that are not UTF-8 ("\xff\"}")`},
		{"truncated UTF-8", "{\"a\": \"\xc3\"}", 7, `bytes that are not UTF-8 ("\xc3\"}")`},
		{"lone high surrogate", `{"a": "x\ud800"}`, 8, `the escape "\\ud800", a lone UTF-16 surrogate (not a Unicode character)`},
		{"lone low surrogate", `{"a": "\udc00\udc00"}`, 7, `the escape "\\udc00", a lone UTF-16 surrogate (not a Unicode character)`},
		{"high then not low", `{"a": "\ud800\u0041"}`, 7, `the escape "\\ud800", a lone UTF-16 surrogate (not a Unicode character)`},
		{"high at the end", `"\ud800`, 1, `the escape "\\ud800", a lone UTF-16 surrogate (not a Unicode character)`},
		{"second pair broken", `"\ud83d\ude00\ud83d"`, 13, `the escape "\\ud83d", a lone UTF-16 surrogate (not a Unicode character)`},
		{"unknown escape", `{"a": "\x41"}`, 7, `the escape "\\x", which JSON does not have`},
		{"short \\u", `{"a": "\u12"}`, 7, `the escape "\\u12\"}", which JSON does not have`},
		{"backslash at the end", `"\`, 1, "a backslash at the end"},
	} {
		t.Run(c.name, func(t *testing.T) {
			at, why := jsonexact.TextProblem([]byte(c.in))
			if why != c.why || (why != "" && at != c.at) {
				t.Errorf("TextProblem(%q) = %d, %q, want %d, %q", c.in, at, why, c.at, c.why)
			}
		})
	}
}

// TestControlByte: the first byte below 0x20 at every place in and
// across the 8-byte words the scan reads; 0x20, 0x7F and UTF-8's high
// bytes are not control bytes.
func TestControlByte(t *testing.T) {
	t.Parallel()
	base := []byte(`{"a": "é \u00e9 ~ x"} 0123456789`) // 0x20 and up, and 0xC3 0xA9
	if got := jsonexact.ControlByte(base); got != -1 {
		t.Fatalf("ControlByte(%q) = %d, want -1", base, got)
	}
	if got := jsonexact.ControlByte([]byte{0x7f, 0x20, 0xff, 0x80, 0x20, 0x20, 0x20, 0x20, 0x7f}); got != -1 {
		t.Errorf("0x7F, 0x20, 0xFF, 0x80: %d, want -1", got)
	}
	for _, c := range []byte{0x00, 0x01, '\t', '\n', '\r', 0x1f} {
		for at := range base {
			b := append([]byte(nil), base...)
			b[at] = c
			if at+1 < len(b) {
				b[at+1] = 0x01 // a second one after it: the first is named
			}
			if got := jsonexact.ControlByte(b); got != at {
				t.Errorf("byte %#x at %d: ControlByte = %d", c, at, got)
			}
		}
	}
}

// TestStrictNumber: JSON's number grammar, and NaN, Inf, -Inf (PyInf's
// Infinity); not what only fastjson reads.
func TestStrictNumber(t *testing.T) {
	t.Parallel()
	for _, n := range []string{"0", "-0", "7", "-7", "10", "0.5", "-0.5", "1e5", "1E+5", "1e-5", "1.5e-300", "123456789012345678901234", "0e0", "NaN", "Inf", "-Inf"} {
		if !jsonexact.StrictNumber([]byte(n)) {
			t.Errorf("StrictNumber(%q) = false, want true", n)
		}
	}
	for _, n := range []string{"", "-", "+1", "007", "00", "-01", ".5", "5.", "1.2.3", "1e", "1e+", "1.e5", "--1", "nan", "inf", "-nan", "+Inf", "Infinity", "NaN1", "1_000", "0x10"} {
		if jsonexact.StrictNumber([]byte(n)) {
			t.Errorf("StrictNumber(%q) = true, want false", n)
		}
	}
}

// TestStrict: a lax number or a key twice anywhere in a value is refused,
// naming the number, or the key and its object's path; objects past
// smallObject's 24 keys are checked through a map, and both sides of that
// edge find a key twice wherever its first time was.
func TestStrict(t *testing.T) {
	t.Parallel()
	keys := func(n int, last string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, `"k%d": %d, `, i, i)
		}
		b.WriteString(last + "}")
		return b.String()
	}
	for _, c := range []struct {
		name, in string
		want     string // "" for none
		is       error
	}{
		{"JSON", `{"a": [1, -0.5e3, {"b": NaN}], "c": {"d": "d"}, "e": -Infinity}`, "", nil},
		{"the same key in two objects", `{"a": {"x": 1}, "b": {"x": 2}, "x": [{"x": 3}, {"x": 4}]}`, "", nil},
		{"a lax number", `{"a": {"b": [1, 007]}}`, "a number JSON does not allow: 007", jsonexact.ErrLaxNumber},
		{"a key twice at the top", `{"doc_id": 1, "x": 2, "doc_id": 3}`, `a key twice in one object: "doc_id" in the top-level object`, jsonexact.ErrKeyTwice},
		{"in metrics", `{"doc_id": 1, "metrics": {"acc": 1, "f1": 0.5, "acc": 0}}`, `a key twice in one object: "acc" in metrics`, jsonexact.ErrKeyTwice},
		{"in an answer", `{"model_output": [{"a": 1}, {"a": 1}, {"b": 1, "a": 2, "b": true}]}`, `a key twice in one object: "b" in model_output[2]`, jsonexact.ErrKeyTwice},
		{"deep, odd keys", `{"a b": [{"": {"c": {"z": 1, "z": 1}}}]}`, `a key twice in one object: "z" in "a b"[0]."".c`, jsonexact.ErrKeyTwice},
		{"an empty key", `{"": 1, "": 1}`, `a key twice in one object: "" in the top-level object`, jsonexact.ErrKeyTwice},
		{"keys alike in length, first and last byte", `{"axb": 1, "ayb": 2, "a": 3, "": 4}`, "", nil},
		{"a key twice after one alike", `{"axb": 1, "ayb": 2, "ayb": 3}`, `a key twice in one object: "ayb" in the top-level object`, jsonexact.ErrKeyTwice},
		{"the same key escaped", `{"a": 1, "\u0061": 2}`, `a key twice in one object: "a" in the top-level object`, jsonexact.ErrKeyTwice},
		{"the first problem counts", `{"a": 01, "b": 1, "b": 2}`, "a number JSON does not allow: 01", jsonexact.ErrLaxNumber},
		{"24 keys, none twice", keys(23, `"k24": 0`), "", nil},
		{"24 keys, the 24th twice", keys(23, `"k1": 0`), `a key twice in one object: "k1" in the top-level object`, jsonexact.ErrKeyTwice},
		{"25 keys, none twice", keys(24, `"k25": 0`), "", nil},
		{"25 keys, the 25th twice", keys(24, `"k24": 0`), `a key twice in one object: "k24" in the top-level object`, jsonexact.ErrKeyTwice},
		{"40 keys, the 40th twice, first past 24", keys(39, `"k30": 0`), `a key twice in one object: "k30" in the top-level object`, jsonexact.ErrKeyTwice},
		{"40 keys, none twice", keys(39, `"k40": 0`), "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := fastjson.Parse(string(jsonexact.PyInf([]byte(c.in))))
			if err != nil {
				t.Fatal(err)
			}
			_, err = jsonexact.Strict(v, nil)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || err.Error() != c.want || !errors.Is(err, c.is)):
				t.Errorf("got %v, want %s (%v)", err, c.want, c.is)
			}
		})
	}
}
