package plan_test

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/duckdbtest"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/internal/plan"
	"github.com/dschema/dschema/internal/project"
	"github.com/dschema/dschema/internal/schema"
)

var update = flag.Bool("update", false, "rewrite golden files")

func load(t *testing.T, dir string) (*schema.Schema, *dbschema.State) {
	t.Helper()
	s, err := schema.Load(os.DirFS(dir), ".", "schema")
	if err != nil {
		t.Fatal(err)
	}
	st, err := project.CanonicalState(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

// TestGolden plans the change from testdata/<case>/before to after, compares
// the migration with want.sql (or the refusal with want_error.txt), then
// applies it to a database holding a row: up must reach the new schema and
// keep the row, down must give back the old schema, up must work again.
func TestGolden(t *testing.T) {
	ctx := context.Background()
	cases, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata", c.Name())
			beforeS, before := load(t, filepath.Join(dir, "before"))
			m1, err := plan.Plan(&dbschema.State{}, before, beforeS, plan.Options{})
			if err != nil {
				t.Fatal(err)
			}
			f1 := migrate.File{Version: 1, Name: "00001_init.sql", Data: project.RenderMigration(m1, "schema")}
			old, err := migrate.Replay(ctx, []migrate.File{f1}, -1)
			if err != nil {
				t.Fatal(err)
			}
			afterS, after := load(t, filepath.Join(dir, "after"))
			_, allow := os.Stat(filepath.Join(dir, "allow_destructive"))
			m2, err := plan.Plan(old, after, afterS, plan.Options{AllowDestructive: allow == nil})
			var got, wantFile string
			if err != nil {
				got, wantFile = err.Error()+"\n", filepath.Join(dir, "want_error.txt")
			} else {
				got, wantFile = string(project.RenderMigration(m2, "schema")), filepath.Join(dir, "want.sql")
			}
			if *update {
				os.Remove(filepath.Join(dir, "want_error.txt"))
				os.Remove(filepath.Join(dir, "want.sql"))
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(wantFile)
			if rerr != nil {
				t.Fatalf("read golden: %v (got:\n%s)", rerr, got)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Fatalf("%s differs (-want +got); rerun with -update if intended:\n%s", wantFile, diff)
			}
			if err != nil {
				return
			}

			// A database file, closed and reopened between steps: some DuckDB
			// failures appear only for tables already on disk.
			path := filepath.Join(t.TempDir(), "golden.duckdb")
			f2 := migrate.File{Version: 2, Name: "00002_change.sql", Data: project.RenderMigration(m2, "schema")}
			session := func(do func(*sql.DB, *migrate.Migrator) error) {
				t.Helper()
				db, err := dbfile.Open(ctx, path)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				mg, err := migrate.NewFromFiles(db, "test", []migrate.File{f1, f2})
				if err != nil {
					t.Fatal(err)
				}
				if err := do(db, mg); err != nil {
					t.Fatal(err)
				}
			}
			session(func(db *sql.DB, mg *migrate.Migrator) error {
				if _, err := mg.UpTo(ctx, 1); err != nil {
					return err
				}
				_, err := db.ExecContext(ctx, `INSERT INTO runs (id, score, info) VALUES (1, 5, {'a': 1})`)
				return err
			})
			expect := func(step string, want *dbschema.State) {
				t.Helper()
				session(func(db *sql.DB, _ *migrate.Migrator) error {
					got, err := dbschema.Introspect(ctx, db)
					if err != nil {
						return err
					}
					if d := plan.Compare(got, want, "database", "schema"); len(d) > 0 {
						t.Fatalf("after %s the database differs from the schema: %v", step, d)
					}
					var n int
					for _, table := range []string{"runs", "training_runs"} {
						if want.Table(table) != nil {
							if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
								return err
							}
						}
					}
					if n != 1 {
						t.Errorf("after %s the table holds %d rows, want 1", step, n)
					}
					return nil
				})
			}
			for _, step := range []struct {
				name string
				do   func(*sql.DB, *migrate.Migrator) error
				want *dbschema.State
			}{
				{"up", func(_ *sql.DB, mg *migrate.Migrator) error { _, err := mg.Up(ctx); return err }, after},
				{"down", func(_ *sql.DB, mg *migrate.Migrator) error { _, err := mg.Down(ctx); return err }, before},
				{"up again", func(_ *sql.DB, mg *migrate.Migrator) error { _, err := mg.Up(ctx); return err }, after},
			} {
				session(step.do)
				expect(step.name, step.want)
			}
		})
	}
}

func TestDestructiveErrorIs(t *testing.T) {
	_, before := load(t, "testdata/drop_column_refused/before")
	afterS, after := load(t, "testdata/drop_column_refused/after")
	_, err := plan.Plan(before, after, afterS, plan.Options{})
	if !errors.Is(err, plan.ErrDestructive) {
		t.Errorf("Plan() error = %v, want ErrDestructive", err)
	}
}

func TestBackfill(t *testing.T) {
	ctx := context.Background()
	dir := "testdata/new_not_null_column_with_default"
	beforeS, before := load(t, dir+"/before")
	m1, _ := plan.Plan(&dbschema.State{}, before, beforeS, plan.Options{})
	afterS, after := load(t, dir+"/after")
	m2, err := plan.Plan(before, after, afterS, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db := duckdbtest.Open(t)
	mg, _ := migrate.NewFromFiles(db, "test", []migrate.File{
		{Version: 1, Name: "00001_a.sql", Data: project.RenderMigration(m1, "schema")},
		{Version: 2, Name: "00002_b.sql", Data: project.RenderMigration(m2, "schema")},
	})
	if _, err := mg.UpTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	db.ExecContext(ctx, `INSERT INTO runs (id) VALUES (1), (2)`)
	if _, err := mg.Up(ctx); err != nil {
		t.Fatal(err)
	}
	var sum int64
	if err := db.QueryRowContext(ctx, `SELECT sum(tries) FROM runs`).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != 2 {
		t.Errorf("sum(tries) = %d after backfill, want 2", sum)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO runs (id, tries) VALUES (3, NULL)`); err == nil {
		t.Errorf("inserting NULL into the new NOT NULL column succeeded")
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		changes []string
		first   bool
		want    string
	}{
		{[]string{"create table a"}, true, "init"},
		{[]string{"add column runs.note"}, false, "add_column_runs_note"},
		{[]string{"add column a.b", "comment on a.c", "add column a.d"}, false, "add_comment"},
		{[]string{"drop index i", "add column runs.note", "create index i"}, false, "add_column_runs_note"},
		{[]string{"create index i"}, false, "create_index_i"},
	}
	for _, tt := range tests {
		if got := plan.Name(&plan.Migration{Changes: tt.changes, Up: []string{"x"}}, tt.first); got != tt.want {
			t.Errorf("Name(%q) = %q, want %q", tt.changes, got, tt.want)
		}
	}
}
