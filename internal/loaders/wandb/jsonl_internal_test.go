package wandb

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/loaders"
)

func TestPyJSON(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{`{"a": NaN, "b": -Infinity, "c": Infinity}`, `{"a": 0  , "b": 0        , "c": 0       }`},
		{`{"NaN": "NaN", "x": "Infinity"}`, `{"NaN": "NaN", "x": "Infinity"}`}, // in strings: kept
		{`{"a": "\"NaN"}`, `{"a": "\"NaN"}`},
		{`[NaN,1.5e-05]`, `[0  ,1.5e-05]`},
		{`{"aNaN": 1}`, `{"aNaN": 1}`},
	} {
		if got := string(loaders.PyJSON([]byte(c.in))); got != c.want {
			t.Errorf("loaders.PyJSON(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestMalformedLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		data string
		line int
		ok   bool
	}{
		{"{\"a\": 1}\n{\"a\": NaN}\n\n[1, 2]\n", 0, false},
		{"{\"a\": 1}\n{\"a\": 2\n{\"a\": 3}\n", 2, true},
		{"{\"a\": 1} {\"b\": 2}\n", 1, true},
		{"{\"a\": 1}\n{\"a\": \"unterminated}\n", 2, true},
	} {
		p := filepath.Join(dir, "f.jsonl")
		if err := os.WriteFile(p, []byte(c.data), 0o644); err != nil {
			t.Fatal(err)
		}
		line, why, ok := malformedLine(p)
		if ok != c.ok || line != c.line {
			t.Errorf("%q: line %d (%s) ok %v, want line %d ok %v", c.data, line, why, ok, c.line, c.ok)
		}
	}
}

// FuzzPyJSON: pyJSON keeps the length and every byte outside replaced
// tokens; text without the tokens comes back unchanged; a line Python's
// json.dumps could write (valid JSON once tokens are replaced) is not
// called malformed.
func FuzzPyJSON(f *testing.F) {
	for _, s := range []string{`{"a": NaN}`, `[Infinity, -Infinity]`, `{"NaN": "x\"NaN"}`, `{"a": 1e400}`, `NaNNaN`, `"\\"`, `{"a":-Infinityx}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := loaders.PyJSON([]byte(s))
		if len(out) != len(s) {
			t.Fatalf("length %d -> %d", len(s), len(out))
		}
		if !strings.Contains(s, "NaN") && !strings.Contains(s, "Infinity") && !bytes.Equal(out, []byte(s)) {
			t.Fatalf("changed text without tokens: %q -> %q", s, out)
		}
		for i := range out {
			if out[i] != s[i] && out[i] != '0' && out[i] != ' ' {
				t.Fatalf("byte %d changed to %q", i, out[i])
			}
		}
		if strings.ContainsAny(s, "\n\r") || !json.Valid(out) {
			return
		}
		p := filepath.Join(t.TempDir(), "f.jsonl")
		if err := os.WriteFile(p, []byte(s+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if line, why, bad := malformedLine(p); bad {
			t.Fatalf("valid line called malformed at %d: %s", line, why)
		}
	})
}
