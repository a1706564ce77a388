package wandb

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/jsonexact"
)

// TestTopKeys: the scan that refuses keys read_json would drop sees a
// line's top-level keys only (not nested keys, not string values that look
// like keys), undoes escapes, and gives up on lines it cannot follow.
func TestTopKeys(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		line string
		keys string // the keys seen, joined by |
		ok   bool
	}{
		{`{"run_id": "a", "step": 1}`, "run_id|step", true},
		{`  {"a":{"b":{"c":1}},"d":[{"e":2}],"f":NaN}  `, "a|d|f", true},
		{`{"a": "x\", \"fake\": 1", "b": "{\"g\":1}"}`, "a|b", true},
		{`{"a\\": 1, "b\\\"c": 2}`, `a\|b\"c`, true},
		{`{"run\u005fid": 1}`, "run_id", true},
		{`{"a": "}", "b": "]"}`, "a|b", true},
		{`{}`, "", true},
		{``, "", true},
		{`{"a": [1, 2], "b": {"c": [3, {"d": 4}]}, "e": -Infinity}`, "a|b|e", true},
		{`{"a": "unterminated}`, "a", false},
		{`{"a": {"b": 1}`, "a", false},
		{`{"a": 1}}`, "a", false},
		{`{"a": 1} {"b": 2}`, "a", false},
		{`[{"a": 1}]`, "", false},
		{`"text"`, "", false},
	} {
		var seen []string
		stop, ok := topKeys([]byte(c.line), func(k []byte) bool { seen = append(seen, string(k)); return false })
		if got := strings.Join(seen, "|"); got != c.keys || ok != c.ok || stop {
			t.Errorf("%s: keys %q ok %v stop %v, want %q ok %v", c.line, got, ok, stop, c.keys, c.ok)
		}
	}
	// f returning true stops the scan at that key.
	var seen []string
	stop, ok := topKeys([]byte(`{"a": 1, "b": 2, "c": 3}`), func(k []byte) bool { seen = append(seen, string(k)); return string(k) == "b" })
	if !stop || !ok || strings.Join(seen, "|") != "a|b" {
		t.Errorf("stop at b: seen %v stop %v ok %v", seen, stop, ok)
	}
}

// TestCheckRowKeys: the first line with a key the layout has no place for
// is named (blank lines counted); a malformed line before it is named
// instead; a cancelled scan returns the context's error.
func TestCheckRowKeys(t *testing.T) {
	t.Parallel()
	h := &histSource{jsonl: true, rowKeys: []string{"run_id", "step", "metrics"}}
	row := `{"run_id": "r", "step": 1, "metrics": {"run_name": 1}}` + "\n"
	for _, c := range []struct{ name, text, want string }{
		{"clean", row + row, ""},
		{"key on line 4", row + "\n" + row + `{"run_id": "r", "run_name": "x"}` + "\n" + row, `line 4: key "run_name" is not one of run_id, step, metrics`},
		{"key on the last line, no newline", row + `{"extra": {}}`, `line 2: key "extra" is not one of`},
		{"malformed before", row + `{"run_id": "r" "step": 1}` + "\n" + `{"x": 1}` + "\n", "line 2: malformed JSON"},
	} {
		p := filepath.Join(t.TempDir(), "h.jsonl")
		if err := os.WriteFile(p, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		err := checkRowKeys(context.Background(), p, h)
		var fe *loaders.FileError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (!errors.As(err, &fe) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want a FileError with %q", c.name, err, c.want)
		}
	}
	p := filepath.Join(t.TempDir(), "h.jsonl")
	if err := os.WriteFile(p, []byte(strings.Repeat(row, 10000)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := checkRowKeys(ctx, p, h); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestTinyNumber: the numbers a double cannot hold but as 0, found outside
// strings, at their byte; 0 itself, the smallest doubles, numbers in
// strings and keys, and words pass.
func TestTinyNumber(t *testing.T) {
	t.Parallel()
	zeros := strings.Repeat("0", 400)
	for _, c := range []struct {
		line, lit string
		at        int
	}{
		{`{"a": 1e-400}`, "1e-400", 6},
		{`{"a": [1, {"b": -2.5E-350}]}`, "-2.5E-350", 16},
		{`[1e-400]`, "1e-400", 1},
		{`{"a": 2e-324}`, "2e-324", 6},                     // half the smallest double rounds to 0
		{`{"a": 0.` + zeros + `1}`, "0." + zeros + "1", 6}, // no exponent at all
		{`{"a": 1e-300, "b": 0.1e-400}`, "0.1e-400", 19},
		{`{"a": 2.5e-324}`, "", 0}, // rounds up to the smallest double
		{`{"a": 4.9e-324}`, "", 0},
		{`{"a": 0e-999, "b": -0.0e-500, "c": 0.` + zeros + `}`, "", 0}, // zero written small is zero
		{`{"a": 1e-300, "b": 1E-307}`, "", 0},
		{`{"a": "1e-400", "1e-400": 1, "c": "x 0.` + zeros + `1"}`, "", 0}, // in strings and keys
		{`{"a": "\"", "b": 1e-400}`, "1e-400", 17},                         // after an escaped quote
		{`{"a": Infinity, "b": NaN, "c": -1e-30}`, "", 0},
		{``, "", 0},
	} {
		lit, at := tinyNumber([]byte(c.line))
		if string(lit) != c.lit || at != c.at {
			t.Errorf("%.60s: %q at %d, want %q at %d", c.line, lit, at, c.lit, c.at)
		}
	}
}

// FuzzLineChecks: on any line, topKeys and tinyNumber do not fail; on a
// line that is JSON, tinyNumber finds a number too small for a double
// exactly when encoding/json reads one (a number whose text has a digit
// other than 0 before its exponent but whose double is 0), and topKeys
// gives an object's top-level keys in order.
func FuzzLineChecks(f *testing.F) {
	for _, s := range []string{`{"a": 1e-400}`, `{"a": [1, {"b": -2.5E-350}]}`, `{"a": "1e-400", "1e-400": 2e-324}`, `{"a": 4.9e-324}`,
		`{"a": 0e-999, "b\"": 1e-300}`, `[0.000000000000000000000000000000000000000000000000000000000000000000001]`, `{"k\\u0041": {"x": 1}, "y": [1, 2]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		lit, at := tinyNumber(b)
		var keys []string
		_, ok := topKeys(b, func(k []byte) bool { keys = append(keys, string(k)); return false })
		if strings.ContainsAny(s, "\n\r") || !json.Valid(b) {
			return
		}
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		tiny := false
		obj := strings.HasPrefix(strings.TrimSpace(s), "{")
		depth, wantKeys, wantKey := 0, []string(nil), false
		for {
			tok, err := d.Token()
			if err != nil {
				break
			}
			switch v := tok.(type) {
			case json.Delim:
				if v == '{' || v == '[' {
					depth++
					wantKey = depth == 1
				} else if depth--; depth == 1 {
					wantKey = true // a nested value ends: a key comes next
				}
			case string:
				if depth == 1 && obj && wantKey {
					wantKeys = append(wantKeys, v)
					wantKey = false
				} else if depth == 1 {
					wantKey = true
				}
			default:
				if n, isNum := v.(json.Number); isNum {
					f, _ := strconv.ParseFloat(string(n), 64)
					if jsonexact.Underflows([]byte(n), f) {
						tiny = true
					}
				}
				if depth == 1 {
					wantKey = true
				}
			}
		}
		if tiny != (lit != nil) {
			t.Fatalf("%q: tinyNumber %q at %d; encoding/json finds one: %v", s, lit, at, tiny)
		}
		if lit != nil && !strings.HasPrefix(s[at:], string(lit)) {
			t.Fatalf("%q: %q is not at byte %d", s, lit, at)
		}
		if obj && (!ok || strings.Join(keys, "\x00") != strings.Join(wantKeys, "\x00")) {
			t.Fatalf("%q: topKeys %q (ok %v), want %q", s, keys, ok, wantKeys)
		}
	})
}
