package plan_test

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

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
// The promotion cases hold more rows, and their values are checked at each
// step (checkPromotion).
func TestGolden(t *testing.T) {
	ctx := context.Background()
	cases, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata", c.Name())
			f1, f2, before, after, ok := planGolden(t, ctx, dir)
			if ok {
				applyGolden(t, ctx, c.Name(), f1, f2, before, after)
			}
		})
	}
}

// planGolden plans the case in dir from nothing to before (f1) and from
// before to after (f2), and compares f2 with want.sql, or the refusal with
// want_error.txt (then ok is false); -update rewrites them.
func planGolden(t *testing.T, ctx context.Context, dir string) (f1, f2 migrate.File, before, after *dbschema.State, ok bool) {
	t.Helper()
	beforeS, before := load(t, filepath.Join(dir, "before"))
	m1, err := plan.Plan(&dbschema.State{}, before, beforeS, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f1 = migrate.File{Version: 1, Name: "00001_init.sql", Data: project.RenderMigration(m1, "schema")}
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
		return f1, f2, before, after, false
	}
	f2 = migrate.File{Version: 2, Name: "00002_change.sql", Data: project.RenderMigration(m2, "schema")}
	return f1, f2, before, after, true
}

// applyGolden applies case name's migrations f1 and f2 to a database
// holding a row: up must reach after and keep the row, down must give back
// before, up must work again.
func applyGolden(t *testing.T, ctx context.Context, name string, f1, f2 migrate.File, before, after *dbschema.State) {
	// A database file, closed and reopened between steps: some DuckDB
	// failures appear only for tables already on disk.
	path := filepath.Join(t.TempDir(), "golden.duckdb")
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
		if _, err := db.ExecContext(ctx, `INSERT INTO runs (id, score, info) VALUES (1, 5, {'a': 1})`); err != nil {
			return err
		}
		if promotionCases[name] {
			_, err := db.ExecContext(ctx, promotionSeed())
			return err
		}
		return nil
	})
	rows := 1
	if promotionCases[name] {
		rows += len(promotionRows)
	}
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
			if n != rows {
				t.Errorf("after %s the table holds %d rows, want %d", step, n, rows)
			}
			if promotionCases[name] {
				checkPromotion(t, ctx, db, step, want.Table("runs").Column("logps_chosen") != nil)
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
}

// atVersion1 plans the case in dir from nothing to before (version 1) and
// on to after (version 2), and returns a database at version 1 with its
// migrator, and before.
func atVersion1(t *testing.T, ctx context.Context, dir string) (*sql.DB, *migrate.Migrator, *dbschema.State) {
	t.Helper()
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
	return db, mg, before
}

// TestKeyRebuildRefusesRows: a migration to a primary key the rows do not
// keep fails, and leaves the database at its version with its rows:
// DuckDB's constraint refuses them in a rebuild, the key check a key
// DuckDB does not hold (key_index: false).
func TestKeyRebuildRefusesRows(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ dir, want string }{
		{"testdata/primary_key_added", `duplicate key "1"`},
		{"testdata/unindexed_key_changed", "runs: 1 keys (score) are each on more than one row, such as 5"},
	} {
		t.Run(filepath.Base(tc.dir), func(t *testing.T) {
			db, mg, before := atVersion1(t, ctx, tc.dir)
			if _, err := db.ExecContext(ctx, `INSERT INTO runs (id, score) VALUES (1, 5), (1, 5)`); err != nil {
				t.Fatal(err)
			}
			if _, err := mg.Up(ctx); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Up() = %v, want %s", err, tc.want)
			}
			got, err := dbschema.Introspect(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if d := plan.Compare(got, before, "database", "schema before"); len(d) > 0 {
				t.Errorf("after the failed migration the database differs from its version 1: %v", d)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE id = 1`).Scan(&n); err != nil || n != 2 {
				t.Errorf("rows after the failed migration: %d (%v), want 2", n, err)
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
	db, mg, _ := atVersion1(t, ctx, "testdata/new_not_null_column_with_default")
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

// promotionCases are the golden cases that promote the key "logps/chosen"
// of runs.extra_metrics to the new column runs.logps_chosen.
var promotionCases = map[string]bool{
	"promote_key_indexed_table": true,
	"promote_key_plain_table":   true,
	"promote_key_with_rebuild":  true,
	// A promotion, then more new columns: the backfill must follow every ALTER.
	"promote_key_and_add_columns": true,
}

const promotedKey = "logps/chosen"

// entry is one map entry; a nil value is SQL NULL.
type entry struct {
	Key   string
	Value *float64
}

// promoRow is what checkPromotion reads of one row: the promoted column
// (HasCol false when it does not exist) and the map's entries in order (nil
// for a NULL map).
type promoRow struct {
	ID     int64
	HasCol bool
	Col    *float64
	Map    []entry
	Null   bool // the map is NULL
}

func f(v float64) *float64 { return &v }

// promotionRows are the rows beside TestGolden's row 1 (whose map is NULL):
// the key present, absent, NaN (and first), ±Inf, an empty map, the key with
// a NULL value, and the key alone.
var promotionRows = []promoRow{
	{ID: 2, Map: []entry{{"a", f(1.5)}, {promotedKey, f(-2.25)}}},
	{ID: 3, Map: []entry{{"a", f(3)}}},
	{ID: 4, Map: []entry{{promotedKey, f(math.NaN())}, {"b", f(4)}}},
	{ID: 5, Map: []entry{{"b", f(math.Inf(-1))}, {promotedKey, f(math.Inf(1))}, {"c", f(0)}}},
	{ID: 6, Map: []entry{}},
	{ID: 7, Map: []entry{{promotedKey, nil}, {"a", f(1)}}},
	{ID: 8, Map: []entry{{promotedKey, f(7)}}},
}

func promotionSeed() string {
	lit := func(v *float64) string {
		switch {
		case v == nil:
			return "NULL::DOUBLE"
		case math.IsNaN(*v) || math.IsInf(*v, 0):
			return fmt.Sprintf("'%v'::DOUBLE", *v)
		}
		return fmt.Sprintf("%v::DOUBLE", *v)
	}
	var values []string
	for _, r := range promotionRows {
		var es []string
		for _, e := range r.Map {
			es = append(es, fmt.Sprintf("'%s': %s", e.Key, lit(e.Value)))
		}
		values = append(values, fmt.Sprintf("(%d, CAST(MAP {%s} AS MAP(VARCHAR, DOUBLE)))", r.ID, strings.Join(es, ", ")))
	}
	return "INSERT INTO runs (id, extra_metrics) VALUES " + strings.Join(values, ", ")
}

// wantPromotion is what the rows hold after step: before the promotion, the
// seeded maps; after it, the key's non-NULL values in the column and gone
// from the maps (a map left empty NULL); after Down, the seeded entries again, the moved key last
// (DuckDB keeps no trace of its place).
func wantPromotion(step string) []promoRow {
	out := []promoRow{{ID: 1, Null: true, HasCol: step != "down"}}
	for _, r := range promotionRows {
		w := promoRow{ID: r.ID, HasCol: step != "down", Map: []entry{}}
		var moved *entry
		for _, e := range r.Map {
			if e.Key == promotedKey && e.Value != nil {
				moved = &entry{e.Key, e.Value}
				continue
			}
			w.Map = append(w.Map, e)
		}
		if moved != nil {
			if step == "down" {
				w.Map = append(w.Map, *moved)
			} else {
				w.Col = moved.Value
				if len(w.Map) == 0 { // a map left empty is NULL, as a load writes it
					w.Map, w.Null = nil, true
				}
			}
		}
		out = append(out, w)
	}
	return out
}

// checkPromotion compares the rows with wantPromotion(step).
func checkPromotion(t *testing.T, ctx context.Context, db *sql.DB, step string, hasCol bool) {
	t.Helper()
	col := "NULL::DOUBLE"
	if hasCol {
		col = "logps_chosen"
	}
	rs, err := db.QueryContext(ctx, `SELECT id, `+col+`, extra_metrics IS NULL, map_keys(extra_metrics), map_values(extra_metrics) FROM runs ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var got []promoRow
	for rs.Next() {
		r := promoRow{HasCol: hasCol}
		var c sql.NullFloat64
		var k, v any // a NULL map's lists are NULL: scan into any
		if err := rs.Scan(&r.ID, &c, &r.Null, &k, &v); err != nil {
			t.Fatal(err)
		}
		keys, _ := k.([]any)
		values, _ := v.([]any)
		if c.Valid {
			r.Col = f(c.Float64)
		}
		if !r.Null {
			r.Map = []entry{}
		}
		for i, k := range keys {
			e := entry{Key: k.(string)}
			switch v := values[i].(type) {
			case float64:
				e.Value = f(v)
			case float32: // a MAP(VARCHAR, FLOAT)
				e.Value = f(float64(v))
			case nil:
			default:
				t.Fatalf("map value %v is %T", v, v)
			}
			r.Map = append(r.Map, e)
		}
		got = append(got, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantPromotion(step), got, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("after %s the rows differ (-want +got):\n%s", step, diff)
	}
}

// TestPromotionOfExistingColumnPlansNothing: key and promoted_from describe
// where values come from and change no database state; a column that
// already exists gains promoted_from without a backfill.
func TestPromotionOfExistingColumnPlansNothing(t *testing.T) {
	const before = `domain: d
description: test
tables:
  - name: runs
    description: Runs.
    columns:
      - {name: id, type: BIGINT, description: "Id."}
      - {name: extra_metrics, type: "MAP(VARCHAR, DOUBLE)", description: "Other numeric keys."}
      - {name: logps_chosen, type: DOUBLE, description: "logps/chosen (DPO)."}
`
	tests := []struct{ name, from, to string }{
		{"key", `{name: logps_chosen, type: DOUBLE,`, `{name: logps_chosen, type: DOUBLE, key: "logps/chosen",`},
		{"promoted_from", `{name: logps_chosen, type: DOUBLE,`, `{name: logps_chosen, type: DOUBLE, key: "logps/chosen", promoted_from: extra_metrics,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write := func(sub, yaml string) string {
				t.Helper()
				p := filepath.Join(dir, sub)
				if err := os.MkdirAll(p, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(p, "d.yaml"), []byte(yaml), 0o644); err != nil {
					t.Fatal(err)
				}
				return p
			}
			after := strings.Replace(before, tt.from, tt.to, 1)
			if after == before {
				t.Fatal("the edit was not made")
			}
			_, old := load(t, write("before", before))
			afterS, target := load(t, write("after", after))
			m, err := plan.Plan(old, target, afterS, plan.Options{})
			if err != nil || !m.Empty() {
				t.Errorf("Plan() = %q, %v; want no migration", m.Up, err)
			}
		})
	}
}
