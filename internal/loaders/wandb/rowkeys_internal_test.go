package wandb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/loaders"
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
		stop, ok := topKeys([]byte(c.line), func(k string) bool { seen = append(seen, k); return false })
		if got := strings.Join(seen, "|"); got != c.keys || ok != c.ok || stop {
			t.Errorf("%s: keys %q ok %v stop %v, want %q ok %v", c.line, got, ok, stop, c.keys, c.ok)
		}
	}
	// f returning true stops the scan at that key.
	var seen []string
	stop, ok := topKeys([]byte(`{"a": 1, "b": 2, "c": 3}`), func(k string) bool { seen = append(seen, k); return k == "b" })
	if !stop || !ok || strings.Join(seen, "|") != "a|b" {
		t.Errorf("stop at b: seen %v stop %v ok %v", seen, stop, ok)
	}
}

// TestCheckRowKeys: the first line with a key the layout has no place for
// is named (blank lines counted); a malformed line before it is named
// instead; a cancelled scan returns the context's error.
func TestCheckRowKeys(t *testing.T) {
	t.Parallel()
	h := &histSource{rowKeys: []string{"run_id", "step", "metrics"}}
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
