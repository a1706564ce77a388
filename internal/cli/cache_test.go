package cli

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMigrateUpNewDatabaseFromTheCache: a new database starts from the
// verified cached copy, records when it was made, and is what the
// migrations make; an existing file is migrated as before.
func TestMigrateUpNewDatabaseFromTheCache(t *testing.T) {
	t.Parallel()
	migratedDB(t) // the template: the cache now holds the migrated database
	start := time.Now().UTC()
	db := filepath.Join(t.TempDir(), "new.duckdb")
	out, errs, code := runCmd(t, "migrate", "up", "--db", db)
	if code != 0 || !strings.Contains(out, "applied 00001_init.sql (from the cached, verified database of this migration set)") ||
		!strings.Contains(out, fmt.Sprintf("is at version %d", newest(t))) {
		t.Fatalf("migrate up of a new database = %q %q, exit %d", out, errs, code)
	}
	out, _, _ = runCmd(t, "migrate", "status", "--db", db)
	if strings.Contains(out, "pending") || int64(strings.Count(out, " applied ")) != newest(t) {
		t.Errorf("status = %q, want every migration applied", out)
	}
	if out, errs, code := runCmd(t, "check", "--root", "../..", "--db", db); code != 0 {
		t.Errorf("check --db = %s %s", out, errs)
	}
	// Applied now, not when the cached copy was made.
	conn, err := sql.Open("duckdb", db)
	if err != nil {
		t.Fatal(err)
	}
	var stale int
	if err := conn.QueryRow(`SELECT count(*) FROM dschema_migrations WHERE tstamp < ?::TIMESTAMP`, start.Format("2006-01-02 15:04:05.000000")).Scan(&stale); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if stale != 0 {
		t.Errorf("%d migrations recorded as applied before the command ran", stale)
	}
	if out, _, _ := runCmd(t, "migrate", "up", "--db", db); !strings.Contains(out, fmt.Sprintf("already at version %d", newest(t))) {
		t.Errorf("second up = %q", out)
	}
}

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
