package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestNoCacheFlag: --no-cache neither reads nor writes the cache folder.
func TestNoCacheFlag(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DSCHEMA_CACHE_DIR", dir)
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "schema"), 0o755); err != nil {
		t.Fatal(err)
	}
	schema := "domain: lab\ndescription: A test domain.\ntables:\n  - name: runs\n    description: Runs.\n    columns:\n      - {name: run_id, type: VARCHAR, description: \"Run id.\"}\n"
	if err := os.WriteFile(filepath.Join(root, "schema", "lab.yaml"), []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errs, code := runCmd(t, "gen", "--root", root, "--no-cache"); code != 0 {
		t.Fatalf("gen --no-cache = %s %s", out, errs)
	}
	if out, errs, code := runCmd(t, "check", "--root", root, "--no-cache"); code != 0 {
		t.Fatalf("check --no-cache = %s %s", out, errs)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("--no-cache wrote %d cache entries", len(entries))
	}
	if out, errs, code := runCmd(t, "check", "--root", root); code != 0 {
		t.Fatalf("check = %s %s", out, errs)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("check wrote %d cache entries, want 2 (replay, canonical)", len(entries))
	}
}
