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
