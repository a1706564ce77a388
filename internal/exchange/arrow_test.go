package exchange

import (
	"context"
	"database/sql"
	"math"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// The tests here read the export with arrow-go's parquet reader, an
// implementation independent of DuckDB's.

// readParquet reads the file at path whole, checking its footer's row count.
func readParquet(t *testing.T, path string, rows int64) arrow.Table {
	t.Helper()
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("arrow-go cannot open %s: %v", path, err)
	}
	defer r.Close()
	if r.NumRows() != rows {
		t.Errorf("%s: arrow-go reads %d rows, the manifest says %d", path, r.NumRows(), rows)
	}
	fr, err := pqarrow.NewFileReader(r, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("arrow-go cannot read %s: %v", path, err)
	}
	t.Cleanup(tbl.Release)
	if tbl.NumRows() != rows {
		t.Errorf("%s: arrow-go's table has %d rows, the manifest says %d", path, tbl.NumRows(), rows)
	}
	return tbl
}

// col returns the one chunk of column name of tbl (the files are small).
func col(t *testing.T, tbl arrow.Table, name string) arrow.Array {
	t.Helper()
	idx := tbl.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("no column %s in %v", name, tbl.Schema())
	}
	chunks := tbl.Column(idx[0]).Data().Chunks()
	if len(chunks) != 1 {
		t.Fatalf("column %s in %d chunks", name, len(chunks))
	}
	return chunks[0]
}

// TestArrowReadsQuickstartExport: every file of the quickstart export opens
// in arrow-go with the manifest's row count and schema.json's columns, and
// a few values per kind agree with the database: the partition's run id in
// every wandb_history row, a TIMESTAMP WITH TIME ZONE instant, a HUGEINT's
// text, a MAP entry.
func TestArrowReadsQuickstartExport(t *testing.T) {
	src, dir, m := quickstartExport(t)
	sch := &Schema{}
	if err := readJSON(filepath.Join(dir, SchemaFile), sch); err != nil {
		t.Fatal(err)
	}
	ncols := map[string]int{}
	for _, st := range sch.Tables {
		ncols[st.Name] = len(st.Columns)
	}
	db, err := sql.Open("duckdb", src+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seen := map[string]bool{}
	for _, f := range m.Files {
		tbl := readParquet(t, filepath.Join(dir, filepath.FromSlash(f.Path)), f.Rows)
		if int(tbl.NumCols()) != ncols[f.Table] {
			t.Errorf("%s: %d columns, schema.json has %d", f.Path, tbl.NumCols(), ncols[f.Table])
		}
		switch f.Table {
		case "wandb_history":
			checkHistory(t, db, tbl, f)
		case "finetune_matched_values":
			checkHugeint(t, db, tbl)
		case "pretrain_evals":
			checkMapEntry(t, db, tbl, f)
		default:
			continue
		}
		seen[f.Table] = true
	}
	if len(seen) != 3 {
		t.Errorf("checked values of %v, want 3 tables", seen)
	}
}

// checkHistory: every row holds the partition's run id, and the first
// row's logged_at is UTC microseconds equal to the database's instant.
func checkHistory(t *testing.T, db *sql.DB, tbl arrow.Table, f FileEntry) {
	t.Helper()
	run := *f.Partition["run_id"]
	ids := col(t, tbl, "run_id").(*array.String)
	for i := 0; i < ids.Len(); i++ {
		if ids.Value(i) != run {
			t.Fatalf("%s row %d: run_id %q", f.Path, i, ids.Value(i))
		}
	}
	ts := col(t, tbl, "logged_at").(*array.Timestamp)
	typ := ts.DataType().(*arrow.TimestampType)
	if typ.Unit != arrow.Microsecond || typ.TimeZone != "UTC" {
		t.Errorf("%s: logged_at is %s, want timestamp[us, tz=UTC]", f.Path, typ)
	}
	var want sql.NullInt64
	if err := db.QueryRow(`SELECT epoch_us(logged_at) FROM wandb_history WHERE run_id = ? ORDER BY seq LIMIT 1`, run).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if !want.Valid || ts.IsNull(0) || int64(ts.Value(0)) != want.Int64 {
		t.Errorf("%s: first logged_at %v (null %t), the database %v", f.Path, ts.Value(0), ts.IsNull(0), want)
	}
}

// checkHugeint: value_int is text equal to the database's HUGEINT, row for row.
func checkHugeint(t *testing.T, db *sql.DB, tbl arrow.Table) {
	t.Helper()
	got := col(t, tbl, "value_int").(*array.String)
	rows, err := db.Query(`SELECT CAST(value_int AS VARCHAR) FROM finetune_matched_values ORDER BY run_id, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for ; rows.Next(); i++ {
		var want sql.NullString
		if err := rows.Scan(&want); err != nil {
			t.Fatal(err)
		}
		if want.Valid != got.IsValid(i) || want.Valid && got.Value(i) != want.String {
			t.Errorf("value_int row %d: %q (valid %t), the database %v", i, got.Value(i), got.IsValid(i), want)
		}
	}
	// The quickstart sample's value_int are all NULL; TestArrowReadsTypes
	// reads HUGEINTs beyond 2^53 and 2^63.
	if i != got.Len() {
		t.Errorf("value_int: %d rows in the database, %d in the file", i, got.Len())
	}
}

// checkMapEntry: extra_metrics is a parquet MAP whose first row's entries
// are the database's.
func checkMapEntry(t *testing.T, db *sql.DB, tbl arrow.Table, f FileEntry) {
	t.Helper()
	mp := col(t, tbl, "extra_metrics").(*array.Map)
	if mp.IsNull(0) {
		t.Fatalf("%s: extra_metrics NULL in row 0", f.Path)
	}
	keys, items := mp.Keys().(*array.String), mp.Items().(*array.Float64)
	start, end := mp.ValueOffsets(0)
	if end <= start {
		t.Fatalf("%s: extra_metrics empty in row 0", f.Path)
	}
	params := col(t, tbl, "params").(*array.String).Value(0)
	data := col(t, tbl, "data").(*array.String).Value(0)
	seed := col(t, tbl, "seed").(*array.Int64).Value(0)
	step := col(t, tbl, "step").(*array.Int64).Value(0)
	for j := start; j < end; j++ {
		var want float64
		if err := db.QueryRow(`SELECT extra_metrics[?] FROM pretrain_evals WHERE params = ? AND data = ? AND seed = ? AND step = ?`,
			keys.Value(int(j)), params, data, seed, step).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if math.Float64bits(want) != math.Float64bits(items.Value(int(j))) {
			t.Errorf("%s: extra_metrics[%q] = %v, the database %v", f.Path, keys.Value(int(j)), items.Value(int(j)), want)
		}
	}
}

// TestArrowReadsTypes: in arrow-go, NaN, ±Inf and -0.0 are the doubles
// themselves, HUGEINT and UHUGEINT their decimal text, JSON its text and a
// TIMESTAMP WITH TIME ZONE UTC microseconds.
func TestArrowReadsTypes(t *testing.T) {
	dir := t.TempDir()
	a, out := filepath.Join(dir, "a.duckdb"), filepath.Join(dir, "out")
	scratchDB(t, a, append(typesDDL, typesRows)...)
	db, err := sql.Open("duckdb", a)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Export(context.Background(), db, out, Options{})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	tbl := readParquet(t, filepath.Join(out, "types", "part-0.parquet"), m.Files[1].Rows)
	d := col(t, tbl, "d").(*array.Float64)
	if !math.IsNaN(d.Value(0)) || !math.IsInf(d.Value(1), -1) || !math.IsInf(d.Value(2), 1) || d.Value(3) != 0 || !math.Signbit(d.Value(3)) || d.Value(4) != 5e-324 || d.IsValid(5) {
		t.Errorf("d = %v", d)
	}
	h := col(t, tbl, "h").(*array.String)
	if h.Value(0) != "170141183460469231731687303715884105727" || h.Value(2) != "9223372036854775808" || h.Value(3) != "9007199254740993" || h.Value(4) != "-9007199254740993" {
		t.Errorf("h = %v", h)
	}
	if uh := col(t, tbl, "uh").(*array.String); uh.Value(0) != "340282366920938463463374607431768211455" {
		t.Errorf("uh = %v", uh)
	}
	// arrow-go gives parquet's JSON logical type as binary: the bytes are the text.
	if j := col(t, tbl, "j").(*array.Binary); string(j.Value(0)) != `{"x": 3e-05,   "y": 1.0}` || string(j.Value(1)) != "null" || string(j.Value(2)) != "3e-05" || j.IsValid(4) {
		t.Errorf("j = %v", j)
	}
	if tz := col(t, tbl, "tz").(*array.Timestamp); tz.Value(0) != 1704164645123456 || tz.DataType().(*arrow.TimestampType).TimeZone != "UTC" {
		t.Errorf("tz = %v %s", tz, tz.DataType())
	}
	mp := col(t, tbl, "m").(*array.Map)
	keys, items := mp.Keys().(*array.String), mp.Items().(*array.Float64)
	if s, e := mp.ValueOffsets(0); e-s != 2 || keys.Value(int(s)) != "k" || !math.IsNaN(items.Value(int(s))) || !math.Signbit(items.Value(int(s+1))) {
		t.Errorf("m row 0 = %v", mp)
	}
}
