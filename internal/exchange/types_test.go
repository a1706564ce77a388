package exchange

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// typesDDL is a table of every type the export handles, and an empty table.
var typesDDL = []string{
	`CREATE TABLE types(id INTEGER PRIMARY KEY, h HUGEINT, uh UHUGEINT, ub UBIGINT, f FLOAT, d DOUBLE, j JSON,
		m MAP(VARCHAR, DOUBLE), mb MAP(VARCHAR, BIGINT), l VARCHAR[], dl DOUBLE[], ll DOUBLE[][],
		sl STRUCT(a BOOLEAN, b DOUBLE)[], tz TIMESTAMPTZ, ts TIMESTAMP, dt DATE, b BOOLEAN, v VARCHAR)`,
	`CREATE TABLE empty(id BIGINT PRIMARY KEY, h HUGEINT)`,
}

// typesRows are the values: both ends of HUGEINT, UHUGEINT and UBIGINT,
// integers beyond 2^53 and 2^63, NaN, ±Inf and -0.0 at the top level and
// inside lists, structs and maps, JSON text with its own spacing and number
// spelling, JSON null beside SQL NULL, timestamps with microseconds either
// side of the epoch, empty lists and maps beside NULL ones.
const typesRows = `INSERT INTO types VALUES
	(1, 170141183460469231731687303715884105727, 340282366920938463463374607431768211455, 18446744073709551615,
		-0.0::FLOAT, 'NaN', '{"x": 3e-05,   "y": 1.0}', MAP{'k': 'NaN'::DOUBLE, 'z': -0.0::DOUBLE}, MAP{'r': -9223372036854775808},
		['x', NULL, ''], [1.5, 'NaN'::DOUBLE, '-Infinity'::DOUBLE, -0.0::DOUBLE, 5e-324], [[1.0, -0.0::DOUBLE], NULL, []],
		[{'a': true, 'b': -0.0::DOUBLE}, NULL], '2024-01-02 03:04:05.123456+00', '1969-12-31 23:59:59.999999', '0001-01-01', true, 'é x' || chr(10) || '"q''s'),
	(2, -170141183460469231731687303715884105728, 0, 0, 'NaN', '-Infinity', 'null', MAP{}, MAP{}, [], [], [], [],
		'2024-06-30 23:59:59.000001+05:30', '2262-04-11 23:47:16.854775', '9999-12-31', false, ''),
	(3, 9223372036854775808, 18446744073709551616, NULL, '-Infinity', 'Infinity', '3e-05', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	(4, 9007199254740993, NULL, NULL, NULL, '-0.0'::DOUBLE, '  [1, 2.50]', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	(5, -9007199254740993, NULL, NULL, NULL, 4.9406564584124654e-324, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	(6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`

// scratchDB creates a database file under dir from stmts and closes it.
func scratchDB(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// roundTrip exports the database at a into dir with o, loads the export
// into a new database at b made from ddl, and returns the manifest.
func roundTrip(t *testing.T, a, b, dir string, o Options, ddl ...string) *Manifest {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("duckdb", a)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Export(ctx, db, dir, o)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	scratchDB(t, b, ddl...)
	m2, sch, _, err := checkExport(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(m, m2) {
		t.Errorf("manifest read back differs: %s", cmp.Diff(m, m2))
	}
	db, err = sql.Open("duckdb", b)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := loadDB(ctx, db, dir, m2, sch); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTypesRoundTrip: every type of the schema, and the values parquet
// could round or lose, come back exactly; HUGEINT and UHUGEINT as decimal
// text in the file; JSON keeps its text byte for byte.
func TestTypesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	a, b, out := filepath.Join(dir, "a.duckdb"), filepath.Join(dir, "b.duckdb"), filepath.Join(dir, "out")
	scratchDB(t, a, append(typesDDL, typesRows)...)
	m := roundTrip(t, a, b, out, Options{DBName: a}, typesDDL...)
	if got := sameDatabases(t, a, b); len(got) != 2 {
		t.Errorf("compared %v, want types and empty", got)
	}
	if len(m.Files) != 2 || m.Files[0].Path != "empty/part-0.parquet" || m.Files[0].Rows != 0 || m.Files[1].Rows != 6 {
		t.Errorf("files = %+v", m.Files)
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// In the file: the representation another engine sees.
	file := filepath.Join(out, "types", "part-0.parquet")
	var parquetTypes string
	if err := db.QueryRow(`SELECT string_agg(name || ' ' || type || ' ' || coalesce(logical_type, converted_type, ''), '; ' ORDER BY name) FROM parquet_schema(?) WHERE name IN ('h', 'uh', 'j', 'tz', 'ts')`, file).Scan(&parquetTypes); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"h BYTE_ARRAY UTF8", "uh BYTE_ARRAY UTF8", "j BYTE_ARRAY JsonType()",
		"tz INT64 TimestampType(isAdjustedToUTC=1", "ts INT64 TimestampType(isAdjustedToUTC=0"} {
		if !strings.Contains(parquetTypes, want) {
			t.Errorf("parquet schema lacks %q: %s", want, parquetTypes)
		}
	}
	got := queryStrings(t, db, `SELECT concat_ws(' | ', id, h, uh, CAST(d AS VARCHAR), j) FROM read_parquet(?) ORDER BY id`, file)
	want := []string{
		`1 | 170141183460469231731687303715884105727 | 340282366920938463463374607431768211455 | nan | {"x": 3e-05,   "y": 1.0}`,
		`2 | -170141183460469231731687303715884105728 | 0 | -inf | null`,
		`3 | 9223372036854775808 | 18446744073709551616 | inf | 3e-05`,
		`4 | 9007199254740993 | -0.0 |   [1, 2.50]`,
		`5 | -9007199254740993 | 5e-324`,
		`6`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("values in the file (-want +got):\n%s", d)
	}
	// In the imported database: typed again, the same instants and texts.
	got = queryStrings(t, db, `ATTACH '`+b+`' AS b (READ_ONLY); SELECT concat_ws(' | ', id, typeof(h), h, uh, epoch_us(tz), ts, j IS NULL, json_type(j), CAST(m AS VARCHAR), CAST(ll AS VARCHAR), CAST(sl AS VARCHAR), signbit(f)) FROM b.types ORDER BY id`)
	want = []string{
		`1 | HUGEINT | 170141183460469231731687303715884105727 | 340282366920938463463374607431768211455 | 1704164645123456 | 1969-12-31 23:59:59.999999 | false | OBJECT | {k=nan, z=-0.0} | [[1.0, -0.0], NULL, []] | [{'a': true, 'b': -0.0}, NULL] | true`,
		`2 | HUGEINT | -170141183460469231731687303715884105728 | 0 | 1719772199000001 | 2262-04-11 23:47:16.854775 | false | NULL | {} | [] | [] | false`,
		`3 | HUGEINT | 9223372036854775808 | 18446744073709551616 | false | DOUBLE | true`,
		`4 | HUGEINT | 9007199254740993 | false | ARRAY`,
		`5 | HUGEINT | -9007199254740993 | true`,
		`6 | HUGEINT | true`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("values imported (-want +got):\n%s", d)
	}
}

// queryStrings runs q (after any statements before its last ';') and returns its first column.
func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	if i := strings.LastIndex(q, "; "); i >= 0 {
		if _, err := db.Exec(q[:i]); err != nil {
			t.Fatal(err)
		}
		q = q[i+2:]
	}
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s.String)
	}
	return out
}

// TestUnsupportedTypesRefused: a type without a tested exact
// representation is refused, naming the table and column.
func TestUnsupportedTypesRefused(t *testing.T) {
	for _, typ := range []string{"INTERVAL", "HUGEINT[]", "MAP(VARCHAR, HUGEINT)", "STRUCT(a UHUGEINT)", "TIME", "UNION(a INTEGER, b VARCHAR)"} {
		t.Run(typ, func(t *testing.T) {
			dir := t.TempDir()
			a := filepath.Join(dir, "a.duckdb")
			scratchDB(t, a, "CREATE TABLE odd(id INTEGER, x "+typ+")")
			db, err := sql.Open("duckdb", a)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			_, err = Export(context.Background(), db, filepath.Join(dir, "out"), Options{})
			if !errors.Is(err, ErrUnsupportedType) || !strings.Contains(err.Error(), "table odd, column x") {
				t.Errorf("Export = %v, want ErrUnsupportedType naming odd.x", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "out")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a refused export left %s/out", dir)
			}
		})
	}
}
