package project_test

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/labtest"
	"github.com/dschema/dschema/internal/loaders"
	_ "github.com/dschema/dschema/internal/loaders/all"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/internal/project"
)

// copyTree copies the files of src/dir into dst/dir (one level).
func copyTree(t *testing.T, src, dst, dir string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(src, dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dst, dir), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPromoteLoadedHistory promotes eval/loss on a copy of the real
// checkout and applies the migration it writes to a database holding a
// loaded W&B history: the values move from extra_metrics to the new
// column, identical, and back on down, and again on up.
func TestPromoteLoadedHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	for _, d := range []string{"schema", "migrations", "gen"} {
		copyTree(t, "../..", root, d)
	}
	if err := project.Promote(ctx, io.Discard, "wandb_history", "eval/loss", project.PromoteOptions{Root: root}); err != nil {
		t.Fatalf("promote = %v", err)
	}

	db, path := loadedHistory(t, ctx)
	snapshot := func(q string) map[string]string {
		t.Helper()
		return keyValues(t, ctx, db, q)
	}
	const inMap = `SELECT run_id || '/' || seq, CAST(extra_metrics['eval/loss'] AS VARCHAR) FROM wandb_history WHERE extra_metrics['eval/loss'] IS NOT NULL`
	const others = `SELECT run_id || '/' || seq, coalesce(CAST(map_from_entries(list_filter(map_entries(extra_metrics), lambda kv: kv.key <> 'eval/loss')) AS VARCHAR), 'NULL') FROM wandb_history`
	before, beforeOthers := snapshot(inMap), snapshot(others)
	if len(before) != 24 {
		t.Fatalf("rows with eval/loss before: %d, want 24", len(before))
	}
	m, err := migrate.New(db, path, os.DirFS(filepath.Join(root, "migrations")), "migrations")
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		col := snapshot(`SELECT run_id || '/' || seq, CAST(eval_loss AS VARCHAR) FROM wandb_history WHERE eval_loss IS NOT NULL`)
		if len(col) != len(before) {
			t.Fatalf("%s: %d values in eval_loss, want %d", when, len(col), len(before))
		}
		for k, v := range before {
			if col[k] != v {
				t.Errorf("%s: %s eval_loss %s, want %s", when, k, col[k], v)
			}
		}
		if left := snapshot(inMap); len(left) != 0 {
			t.Errorf("%s: eval/loss still in %d maps", when, len(left))
		}
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	check("after up")
	// The Down puts every value back: the loss check must not refuse it
	// (migrate down then needs no --allow-destructive).
	cur, err := m.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckDown(ctx, cur-1); err != nil {
		t.Errorf("CheckDown of the promotion = %v, want nil: its Down moves the values back", err)
	}
	if _, err := m.Down(ctx); err != nil {
		t.Fatal(err)
	}
	back := snapshot(inMap)
	for k, v := range before {
		if back[k] != v {
			t.Errorf("after down: %s eval/loss %s, want %s", k, back[k], v)
		}
	}
	if len(back) != len(before) {
		t.Errorf("after down: %d maps hold eval/loss, want %d", len(back), len(before))
	}
	if got := snapshot(others); len(got) != len(beforeOthers) {
		t.Errorf("after down: %d rows, want %d", len(got), len(beforeOthers))
	} else {
		for k, v := range beforeOthers {
			if got[k] != v {
				t.Errorf("after down: %s other keys %s, want %s", k, got[k], v)
			}
		}
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	check("after up again")
}

// loadedHistory loads the sample's v3 W&B history into a migrated
// database file, and returns the database (closed when the test ends) and
// its path.
func loadedHistory(t *testing.T, ctx context.Context) (*sql.DB, string) {
	t.Helper()
	dir := t.TempDir()
	spec := fixtures.SampleWandb()
	runs := fixtures.WandbRuns(spec)
	hist := filepath.Join(dir, "history.jsonl")
	if err := fixtures.WriteHistory(ctx, hist, fixtures.HistV3, fixtures.WandbHistory(spec, runs)); err != nil {
		t.Fatal(err)
	}
	path := labtest.MigratedDB(t)
	db, err := dbfile.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := (&loaders.Engine{DB: db, DBPath: path}).Load(ctx, "wandb-history", hist, loaders.Options{}); err != nil {
		t.Fatal(err)
	}
	return db, path
}

// keyValues runs q, which selects a key and a value, and returns its rows
// as a map.
func keyValues(t *testing.T, ctx context.Context, db *sql.DB, q string) map[string]string {
	t.Helper()
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	labtest.Cleanup()
	os.Exit(code)
}
