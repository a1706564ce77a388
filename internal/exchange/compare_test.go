package exchange

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/duckdbtest"
)

// attach opens an in-memory database with the files at a and b attached
// read-only as a and b.
func attach(t *testing.T, a, b string) *sql.DB {
	t.Helper()
	db := duckdbtest.Open(t)
	db.SetMaxOpenConns(1)
	for _, q := range []string{"ATTACH " + dbschema.Literal(a) + " AS a (READ_ONLY)", "ATTACH " + dbschema.Literal(b) + " AS b (READ_ONLY)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// tableDiffs compares table in the attached databases a and b row for row,
// both ways, and returns what differs. DuckDB's EXCEPT ALL takes 0.0 and
// -0.0 for one value (and every NaN for one), so the rows are also
// compared as DuckDB's text of the whole row, where -0.0, 0.0, nan, inf and
// -inf each have their own spelling, inside lists, structs and maps too.
func tableDiffs(ctx context.Context, db *sql.DB, table string) ([]string, error) {
	id := dbschema.Ident(table)
	var diffs []string
	var na, nb int64
	if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT (SELECT count(*) FROM a.%s), (SELECT count(*) FROM b.%s)", id, id)).Scan(&na, &nb); err != nil {
		return nil, err
	}
	if na != nb {
		diffs = append(diffs, fmt.Sprintf("%s: %d rows against %d", table, na, nb))
	}
	for _, form := range []struct{ what, sel string }{
		{"rows", "SELECT * FROM %s.%s"},
		{"rows as text", "SELECT CAST(x AS VARCHAR) FROM %s.%s AS x"},
	} {
		for _, dir := range [][2]string{{"a", "b"}, {"b", "a"}} {
			q := fmt.Sprintf("SELECT count(*) FROM (%s EXCEPT ALL %s)", fmt.Sprintf(form.sel, dir[0], id), fmt.Sprintf(form.sel, dir[1], id))
			var n int64
			if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
				return nil, fmt.Errorf("%s: %w", table, err)
			}
			if n > 0 {
				diffs = append(diffs, fmt.Sprintf("%s: %d %s of %s not in %s", table, n, form.what, dir[0], dir[1]))
			}
		}
	}
	return diffs, nil
}

// sameDatabases checks that the files at a and b hold the same base tables
// with the same rows, and returns the tables compared.
func sameDatabases(t *testing.T, a, b string) []string {
	t.Helper()
	ctx := context.Background()
	db := attach(t, a, b)
	names := func(cat string) []string {
		rows, err := db.QueryContext(ctx, "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND table_name <> 'dschema_migrations' ORDER BY 1", cat)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			rows.Scan(&s)
			out = append(out, s)
		}
		return out
	}
	ta, tb := names("a"), names("b")
	if fmt.Sprint(ta) != fmt.Sprint(tb) {
		t.Fatalf("tables differ:\n%v\n%v", ta, tb)
	}
	for _, table := range ta {
		diffs, err := tableDiffs(ctx, db, table)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range diffs {
			t.Error(d)
		}
	}
	return ta
}

// TestTableDiffsSeesSignOfZero: the comparison itself tells -0.0 from 0.0,
// at the top level, in a list, a struct in a list and a map, and NaN from
// a number; and finds nothing between equal tables.
func TestTableDiffsSeesSignOfZero(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := dir+"/a.duckdb", dir+"/b.duckdb"
	const ddl = "CREATE TABLE t(id INT, d DOUBLE, l DOUBLE[], s STRUCT(x DOUBLE)[], m MAP(VARCHAR, DOUBLE))"
	base := "(1, 1.0, [1.0], [{'x': 1.0}], MAP{'k': 1.0})"
	for _, tc := range []struct {
		name, rowA, rowB string
		want             int
	}{
		{"equal", "(2, -0.0::DOUBLE, [-0.0::DOUBLE], [{'x': 'NaN'::DOUBLE}], MAP{'k': -0.0::DOUBLE})", "(2, -0.0::DOUBLE, [-0.0::DOUBLE], [{'x': 'NaN'::DOUBLE}], MAP{'k': -0.0::DOUBLE})", 0},
		{"top", "(2, -0.0::DOUBLE, [], [], MAP{})", "(2, 0.0::DOUBLE, [], [], MAP{})", 2},
		{"list", "(2, 0, [-0.0::DOUBLE], [], MAP{})", "(2, 0, [0.0::DOUBLE], [], MAP{})", 2},
		{"struct", "(2, 0, [], [{'x': -0.0::DOUBLE}], MAP{})", "(2, 0, [], [{'x': 0.0::DOUBLE}], MAP{})", 2},
		{"map", "(2, 0, [], [], MAP{'k': -0.0::DOUBLE})", "(2, 0, [], [], MAP{'k': 0.0::DOUBLE})", 2},
		{"nan", "(2, 'NaN'::DOUBLE, [], [], MAP{})", "(2, 1.0, [], [], MAP{})", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range [][2]string{{a, tc.rowA}, {b, tc.rowB}} {
				db, err := sql.Open("duckdb", p[0])
				if err != nil {
					t.Fatal(err)
				}
				for _, q := range []string{"DROP TABLE IF EXISTS t", ddl, "INSERT INTO t VALUES " + base + ", " + p[1]} {
					if _, err := db.Exec(q); err != nil {
						t.Fatal(q, err)
					}
				}
				db.Close()
			}
			diffs, err := tableDiffs(ctx, attach(t, a, b), "t")
			if err != nil {
				t.Fatal(err)
			}
			if len(diffs) != tc.want {
				t.Errorf("diffs = %q, want %d", diffs, tc.want)
			}
		})
	}
}
