package loadertest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/loaders"
)

// Conformance holds the loader of kind to the engine's contract (see the
// package doc of internal/loaders) on each file, each in a database of its
// own:
//
//   - a failure injected at each stage the load reports (a cancelled
//     context), and at the engine's points "written" and "recorded",
//     writes nothing;
//   - the load writes only tables it reports, and every row it reports
//     carries its load_id;
//   - loading the same file again is unchanged and writes nothing;
//   - verify, when the kind has one, reports the file and the database
//     equal, and catches a one-cell change in each table the load wrote;
//   - the file is recognised by its content as the kind's, and no other
//     kind claims it (dschema load without a kind).
//
// A loader package calls it from a test with its sample files.
func Conformance(t *testing.T, kind string, files ...string) {
	t.Helper()
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			v := NewEnv(t)
			v.recognisedAsItsKind(kind, f)
			stages := v.failuresWriteNothing(kind, f)
			s := v.loadWritesWhatItReports(kind, f)
			if len(stages) == 0 {
				t.Errorf("the load reported no stage (call l.Stage before each step)")
			}
			v.reloadIsUnchanged(kind, f, s)
			if _, err := loaders.LookupVerifier(kind); err == nil {
				v.verifyCatchesOneCell(kind, f, s)
			}
		})
	}
}

// recognisedAsItsKind wants f recognised as kind by content, and claimed
// by no other kind (Engine.Recognize refuses a file two kinds claim).
func (v *Env) recognisedAsItsKind(kind, f string) {
	v.T.Helper()
	got, layout, reason, err := v.E.Recognize(v.Ctx, f)
	switch {
	case err != nil:
		v.T.Errorf("recognise %s: %v", f, err)
	case got != kind:
		v.T.Errorf("recognise %s: kind %q (layout %q, %s), want %q", f, got, layout, reason, kind)
	}
}

// tableSums is every base table's row count and content hash, by name.
func (v *Env) tableSums() map[string]string {
	v.T.Helper()
	out := map[string]string{}
	tables := v.strings(`SELECT table_name FROM duckdb_tables()
		WHERE database_name = current_database() AND schema_name = 'main' AND NOT temporary ORDER BY table_name`)
	for _, tbl := range tables {
		out[tbl] = v.Scalar(fmt.Sprintf("SELECT count(*) || ':' || coalesce(sum(hash(t)), 0) FROM %s t", dbschema.Ident(tbl)))
	}
	return out
}

// strings is the first column of every row of q (the database takes one
// connection at a time: it is given back at once).
func (v *Env) strings(q string, args ...any) []string {
	v.T.Helper()
	c, err := v.DB.Conn(v.Ctx)
	if err != nil {
		v.T.Fatal(err)
	}
	defer c.Close()
	out, err := loaders.QueryStrings(v.Ctx, c, q, args...)
	if err != nil {
		v.T.Fatalf("%s: %v", q, err)
	}
	return out
}

// noTempTables wants no temp table left on the database's connection (it
// has one, which every load uses in turn).
func (v *Env) noTempTables(after string) {
	v.T.Helper()
	if left := v.Scalar("SELECT string_agg(table_name, ', ' ORDER BY table_name) FROM duckdb_tables() WHERE temporary"); left != "NULL" {
		v.T.Errorf("%s left temp tables: %s", after, left)
	}
}

// rowCount is the row count of a tableSums entry ("count:hash").
func rowCount(sum string) int64 {
	var n int64
	fmt.Sscan(strings.SplitN(sum, ":", 2)[0], &n)
	return n
}

// changed lists the tables whose content differs between two tableSums.
func changed(before, after map[string]string) []string {
	var out []string
	for tbl, s := range after {
		if before[tbl] != s {
			out = append(out, tbl)
		}
	}
	sort.Strings(out)
	return out
}

// failuresWriteNothing loads f once to learn its stages, in a copy it
// throws away, then fails a load at each stage and engine point and checks
// that nothing changed. It returns the stages.
func (v *Env) failuresWriteNothing(kind, f string) []string {
	v.T.Helper()
	probe := NewEnv(v.T)
	var stages []string
	if _, err := probe.E.Load(v.Ctx, kind, f, loaders.Options{Progress: func(s string) { stages = append(stages, s) }}); err != nil {
		v.T.Fatalf("load %s: %v", f, err)
	}
	before := v.tableSums()
	try := func(what string, opts loaders.Options, ctx context.Context) {
		if _, err := v.E.Load(ctx, kind, f, opts); err == nil {
			v.T.Errorf("a load failed at %s succeeded", what)
		}
		if d := changed(before, v.tableSums()); len(d) > 0 {
			v.T.Errorf("a load failed at %s changed %s", what, strings.Join(d, ", "))
		}
		v.noTempTables("a load failed at " + what)
	}
	for i, st := range stages {
		if st == "committing" {
			continue // once COMMIT starts the load completes (Engine.Load)
		}
		ctx, cancel := context.WithCancel(v.Ctx)
		n := 0
		try(fmt.Sprintf("stage %d %q (cancelled)", i+1, st), loaders.Options{Progress: func(string) {
			if n++; n == i+1 {
				cancel()
			}
		}}, ctx)
		cancel()
	}
	injected := errors.New("injected failure")
	for _, point := range []string{"written", "recorded"} {
		try("point "+point, loaders.Options{FailAt: func(p string, _ *loaders.Load) error {
			if p == point {
				return injected
			}
			return nil
		}}, v.Ctx)
	}
	return stages
}

// loadWritesWhatItReports loads f and checks that the tables it changed
// are dschema_loads and the ones it reports, each row it reports carrying
// its load_id.
func (v *Env) loadWritesWhatItReports(kind, f string) *loaders.Summary {
	v.T.Helper()
	before := v.tableSums()
	s := v.LoadKind(kind, f, loaders.Options{})
	if s.Unchanged || s.LoadID == 0 {
		v.T.Fatalf("the first load of %s: unchanged %v, load %d", f, s.Unchanged, s.LoadID)
	}
	v.noTempTables("the load")
	total := int64(0)
	for tbl, n := range s.Rows {
		total += n
		got := v.Scalar(fmt.Sprintf("SELECT count(*) FROM %s WHERE load_id = ?", dbschema.Ident(tbl)), s.LoadID)
		if got != fmt.Sprint(n) {
			v.T.Errorf("%s: the load reports %d rows, %s carry its load_id %d", tbl, n, got, s.LoadID)
		}
	}
	if total == 0 {
		v.T.Errorf("the load of %s wrote no rows: give Conformance a file with data", f)
	}
	after := v.tableSums()
	for _, tbl := range changed(before, after) {
		if _, ok := s.Rows[tbl]; !ok && tbl != "dschema_loads" {
			v.T.Errorf("the load changed %s but does not report it in Report.Rows", tbl)
		}
	}
	// Into an empty database a load only adds: each reported table grew by
	// the rows it reports (a row without the load's load_id would not be).
	for tbl, n := range s.Rows {
		if a, b := rowCount(before[tbl]), rowCount(after[tbl]); b-a != n {
			v.T.Errorf("%s grew by %d rows, the load reports %d", tbl, b-a, n)
		}
	}
	return s
}

// reloadIsUnchanged loads f again: unchanged, the same load, nothing written.
func (v *Env) reloadIsUnchanged(kind, f string, first *loaders.Summary) {
	v.T.Helper()
	before := v.tableSums()
	s := v.LoadKind(kind, f, loaders.Options{})
	if !s.Unchanged || s.LoadID != first.LoadID {
		v.T.Errorf("reload of %s: unchanged %v, load %d; want unchanged, load %d", f, s.Unchanged, s.LoadID, first.LoadID)
	}
	if d := changed(before, v.tableSums()); len(d) > 0 {
		v.T.Errorf("reload of %s changed %s", f, strings.Join(d, ", "))
	}
}

// verifyOK runs kind's verifier on f against db.
func (v *Env) verifyOK(db *sql.DB, kind, f string) (loaders.Verdict, bool) {
	v.T.Helper()
	vf, err := loaders.LookupVerifier(kind)
	if err != nil {
		v.T.Fatal(err)
	}
	got, err := vf.Verify(v.Ctx, db, f, loaders.VerifyOptions{MaxExamples: 3})
	if err != nil {
		v.T.Fatalf("verify %s: %v", f, err)
	}
	return got, got.OK()
}

// verifyCatchesOneCell checks that verify finds f and the database equal,
// then, for each table the load wrote, changes one cell in a copy of the
// database and wants verify to see it there.
func (v *Env) verifyCatchesOneCell(kind, f string, s *loaders.Summary) {
	v.T.Helper()
	if got, ok := v.verifyOK(v.DB, kind, f); !ok {
		var b strings.Builder
		got.Report(&b)
		v.T.Fatalf("verify after the load is not OK:\n%s", b.String())
	}
	var tables []string
	for tbl, n := range s.Rows {
		if n > 0 {
			tables = append(tables, tbl)
		}
	}
	sort.Strings(tables)
	v.Exec("CHECKPOINT")
	for _, tbl := range tables {
		cp := filepath.Join(v.T.TempDir(), "changed.duckdb")
		CopyFile(v.T, v.Path, cp)
		db, err := dbfile.Open(v.Ctx, cp)
		if err != nil {
			v.T.Fatal(err)
		}
		what := changeOneCell(v.Ctx, v.T, db, tbl, s.LoadID)
		if _, ok := v.verifyOK(db, kind, f); ok {
			v.T.Errorf("verify did not see %s", what)
		}
		db.Close()
	}
}

// changeOneCell changes, in the first row of load id in tbl, the last
// column that is neither a key nor load_id and holds a value there (a key
// column when there is none), and describes the change.
func changeOneCell(ctx context.Context, t *testing.T, db *sql.DB, tbl string, id int64) string {
	t.Helper()
	scalar := func(q string, args ...any) string {
		t.Helper()
		var s sql.NullString
		if err := db.QueryRowContext(ctx, q, args...).Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if !s.Valid {
			return "NULL"
		}
		return s.String
	}
	keys := map[string]bool{}
	for _, k := range strings.Split(scalar(`SELECT string_agg(c, ',') FROM (SELECT unnest(constraint_column_names) c FROM duckdb_constraints()
		WHERE table_name = ? AND constraint_type IN ('PRIMARY KEY', 'UNIQUE'))`, tbl), ",") {
		keys[k] = true
	}
	unindexed, err := dbschema.KeysNotIndexed(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range unindexed[tbl] {
		keys[k] = true
	}
	rows, err := db.QueryContext(ctx, `SELECT column_name, data_type FROM duckdb_columns()
		WHERE table_name = ? AND schema_name = 'main' AND database_name = current_database() ORDER BY column_index DESC`, tbl)
	if err != nil {
		t.Fatal(err)
	}
	type column struct{ name, typ string }
	var plain, key []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			t.Fatal(err)
		}
		switch {
		case c.name == "load_id":
		case keys[c.name]:
			key = append(key, c)
		default:
			plain = append(plain, c)
		}
	}
	rows.Close()
	q := dbschema.Ident(tbl)
	for _, c := range append(plain, key...) {
		col := dbschema.Ident(c.name)
		rowid := scalar(fmt.Sprintf("SELECT min(rowid) FROM %s WHERE load_id = ? AND %s IS NOT NULL", q, col), id)
		if rowid == "NULL" {
			continue
		}
		old := scalar(fmt.Sprintf("SELECT %s::VARCHAR FROM %s WHERE rowid = %s", col, q, rowid))
		before := scalar(fmt.Sprintf("SELECT sum(hash(t))::VARCHAR FROM %s t", q))
		if _, err := db.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET %s = %s WHERE rowid = %s", q, col, changedValue(col, c.typ), rowid)); err != nil {
			t.Fatalf("change %s.%s: %v", tbl, c.name, err)
		}
		if scalar(fmt.Sprintf("SELECT sum(hash(t))::VARCHAR FROM %s t", q)) == before {
			t.Fatalf("%s.%s (%s): the change left %s as it was", tbl, c.name, c.typ, old)
		}
		return fmt.Sprintf("%s.%s (%s) of a row of load %d changed from %.60s", tbl, c.name, c.typ, id, old)
	}
	t.Fatalf("%s: no cell of load %d holds a value", tbl, id)
	return ""
}

// integerTypes are DuckDB's integer types, which xor with 1 changes.
var integerTypes = map[string]bool{"TINYINT": true, "SMALLINT": true, "INTEGER": true, "BIGINT": true, "HUGEINT": true,
	"UTINYINT": true, "USMALLINT": true, "UINTEGER": true, "UBIGINT": true, "UHUGEINT": true}

// changedValue is an expression of column col's type that differs from
// its value (not NULL).
func changedValue(col, typ string) string {
	switch {
	case typ == "BOOLEAN":
		return "NOT " + col
	case typ == "VARCHAR":
		return col + " || 'x'"
	case typ == "JSON":
		return fmt.Sprintf("CASE WHEN %[1]s::VARCHAR = '[0]' THEN '[1]' ELSE '[0]' END::JSON", col)
	case typ == "DOUBLE" || typ == "FLOAT":
		return fmt.Sprintf("CASE WHEN NOT isfinite(%[1]s) THEN 0 WHEN %[1]s = 0 THEN 1 ELSE -%[1]s END", col)
	case strings.HasPrefix(typ, "DECIMAL"):
		return fmt.Sprintf("CASE WHEN %[1]s = 0 THEN 1 ELSE -%[1]s END", col)
	case integerTypes[typ]:
		return fmt.Sprintf("xor(%[1]s, 1)", col)
	case typ == "DATE":
		return fmt.Sprintf("(%s + INTERVAL 1 DAY)::DATE", col)
	case strings.HasPrefix(typ, "TIMESTAMP"):
		return fmt.Sprintf("%s + INTERVAL 1 SECOND", col)
	case strings.HasSuffix(typ, "[]"):
		return fmt.Sprintf("CASE WHEN len(%[1]s) = 0 THEN NULL ELSE %[1]s[1:len(%[1]s) - 1] END", col)
	default:
		return "NULL" // STRUCT, MAP, …: a value made NULL
	}
}
