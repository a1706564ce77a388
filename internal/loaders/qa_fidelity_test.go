package loaders_test

import (
	"archive/tar"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/loaders"
)

// qaPred is a prediction line of doc with native id native (JSON text)
// and four answer choices; more is further "key": value text.
func qaPred(doc int, native, more string) string {
	choice := `{"is_greedy": false, "logits_per_byte": -1.5, "logits_per_char": -1.0, "logits_per_token": -2.0, "num_chars": 4, "num_tokens": 2, "num_tokens_all": 20, "sum_logits": -4.0, "sum_logits_uncond": -6.0}`
	if more != "" {
		more = ", " + more
	}
	return fmt.Sprintf(`{"doc_id": %d, "native_id": %s, "label": 1, "metrics": {"acc_raw": 1, "correct_choice": 1}, "model_output": [%s, %s, %s, %s], "task_hash": "t", "model_hash": "m"%s}`+"\n",
		doc, native, choice, choice, choice, choice, more)
}

// writeQAFiles writes files (by path under root) and returns root.
func writeQAFiles(t *testing.T, root string, files map[string]string) string {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, data)
	}
	return root
}

// loadQARefused loads path, which must fail with a *loaders.FileError,
// into a database that holds a good load (made first when it holds
// none), and checks the database is as it was.
func loadQARefused(t *testing.T, v *env, path string, opts loaders.Options) *loaders.FileError {
	t.Helper()
	if v.scalar("SELECT count(*) FROM dschema_loads") == "0" {
		ok := writeQAFiles(t, filepath.Join(t.TempDir(), "c4_4M_15"), map[string]string{"step-2500/boolq-predictions.jsonl": qaPred(0, "1", "")})
		v.loadKind(loaders.QAKind, ok, loaders.Options{})
	}
	before := v.snapshot() + v.qaSnapshot()
	_, err := v.e.Load(v.ctx, loaders.QAKind, path, opts)
	if err == nil {
		t.Fatalf("Load(%s) loaded, want an error", path)
	}
	var fe *loaders.FileError
	if !errors.As(err, &fe) {
		t.Fatalf("Load(%s) = %v, not a *loaders.FileError", path, err)
	}
	if after := v.snapshot() + v.qaSnapshot(); after != before {
		t.Errorf("the database changed: %s", firstDiff(strings.Split(after, "\n"), strings.Split(before, "\n")))
	}
	return fe
}

// TestQALineOffset: a malformed line's error names its member, its line
// and the exact byte offset of its start in the member, counted in the
// member's own bytes (after a blank line, CRLF endings and a line longer
// than the reader's buffer), in a tarball and in a folder alike.
func TestQALineOffset(t *testing.T) {
	// Lines: qaLine with CRLF (127 bytes), a blank line (1), a line of
	// 3 MiB + 1000 bytes with its newline (longer than the reader's 1 MiB
	// buffer, and not a multiple of it, so the reader holds bytes past it),
	// the malformed line at 128 + 3 MiB + 1000.
	long := qaPred(1, `"b"`, `"pad": "`+strings.Repeat("x", 3<<20+1000-len(qaPred(1, `"b"`, `"pad": ""`)))+`"`)
	content := strings.TrimSuffix(qaLine, "\n") + "\r\n" + "\n" + long + `{"doc_id": 2,,}` + "\n"
	if len(qaLine) != 126 || len(long) != 3<<20+1000 {
		t.Fatalf("the fixture moved: lines of %d and %d bytes", len(qaLine), len(long))
	}
	member := "c4/4M/seed-2/step-1250/arc_easy-predictions.jsonl"
	dir := t.TempDir()
	tarball := filepath.Join(dir, "c4.tar.gz")
	if err := os.WriteFile(tarball, tarGz(t,
		&tar.Header{Name: "c4/4M/seed-2/step-1250/boolq-predictions.jsonl", Typeflag: tar.TypeReg}, qaLine,
		&tar.Header{Name: member, Typeflag: tar.TypeReg}, content), 0o644); err != nil {
		t.Fatal(err)
	}
	folder := writeQAFiles(t, filepath.Join(dir, "c4_4M_2"), map[string]string{"step-1250/arc_easy-predictions.jsonl": content})
	v := newEnv(t)
	for _, c := range []struct{ path, place string }{
		{tarball, "member " + member + " line 4 (byte 3146856 of the member)"},
		{folder, "member step-1250/arc_easy-predictions.jsonl line 4 (byte 3146856 of the member)"},
	} {
		fe := loadQARefused(t, v, c.path, loaders.Options{})
		if fe.Place != c.place || !strings.HasPrefix(fe.Msg, "malformed JSON: ") || fe.Err == nil {
			t.Errorf("Load(%s) = %q at %q (underlying %v), want malformed JSON at %q", c.path, fe.Msg, fe.Place, fe.Err, c.place)
		}
	}
}
