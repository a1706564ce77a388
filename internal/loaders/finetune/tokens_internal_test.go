package finetune

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/loaders"
)

// TestConfigTokens: each key's value as the text holds it, the first of
// equal keys, Python's NaN and Infinity as values; nothing from text that
// is not an object.
func TestConfigTokens(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ text, want string }{
		{`{"learning_rate": 3e-05, "seed": 7}`, "learning_rate=3e-05 seed=7"},
		{`{"seed": 1, "seed": 2}`, "seed=1"},
		{`{"learning_rate": NaN, "seed": -Infinity}`, "learning_rate=NaN seed=-Infinity"},
		{`{"learning_rate": "5e-05", "other": {"seed": 3}}`, `learning_rate="5e-05"`},
		{`{"learning_rate": [1, 2.50]}`, "learning_rate=[1, 2.50]"},
		{`[1, 2]`, ""}, {`null`, ""}, {``, ""}, {`{"seed": `, ""},
	} {
		got := configTokens(tt.text, "learning_rate", "seed")
		var parts []string
		for _, k := range []string{"learning_rate", "seed"} {
			if v, ok := got[k]; ok {
				parts = append(parts, k+"="+v.String)
			}
		}
		if s := strings.Join(parts, " "); s != tt.want {
			t.Errorf("configTokens(%s) = %s, want %s", tt.text, s, tt.want)
		}
	}
}

// FuzzConfigTokens: any text; a value found is a piece of the text that
// is one JSON value (NaN and Infinity read as Python writes them).
func FuzzConfigTokens(f *testing.F) {
	for _, s := range []string{`{"seed": 1}`, `{"seed": NaN, "seed": 2}`, `{"a": {"seed": 1}, "seed": "x"}`, `{"seed": -Infinity}`, `{`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for k, v := range configTokens(text, "seed", "a") {
			if !strings.Contains(text, v.String) {
				t.Fatalf("%s = %q is not in the text", k, v.String)
			}
			if !json.Valid(loaders.PyJSON([]byte(v.String))) {
				t.Fatalf("%s = %q is not one JSON value", k, v.String)
			}
		}
	})
}
