package jsonexact_test

import (
	"testing"

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
