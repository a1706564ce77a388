package datadecide

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/dschema/dschema/internal/loaders"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/dbschema"
)

func init() { loaders.Register(Loader{}) }

// Loader loads DataDecide pretraining curves (full_eval.parquet) into
// pretrain_models, pretrain_datasets, pretrain_runs and pretrain_evals.
type Loader struct{}

// Kind implements Loader.
func (Loader) Kind() string { return "datadecide" }

// MemoryLimit is the DataDecide loader's default memory limit. Measured on
// DataDecide files: a transaction's insert into the 1,887-column
// pretrain_evals holds its rows until a row group (122,880 rows) is written,
// so it needs about 3 GB whatever the file's size: 100,000 rows (503 MB) fail
// under 2GB and load under 3GB; 250,000 rows (1.2 GB) load under 3GB in
// 31 s at 3.4 GB peak RSS, against 25 s and 9.9 GB without a limit.
const MemoryLimit = "3GB"

// DefaultMemoryLimit implements loaders.MemoryLimiter.
func (Loader) DefaultMemoryLimit() string { return MemoryLimit }

// LoadThreads implements loaders.ThreadLimiter: one DuckDB thread. Each
// thread of an insert into the 1,887-column pretrain_evals buffers a block
// of every column, so one thread holds less memory, and was measured no
// slower (docs/benchmarks.md, "DataDecide load").
func (Loader) LoadThreads() int { return 1 }

// Short implements loaders.Loader.
func (Loader) Short() string {
	return "DataDecide full_eval.parquet (the 1,939-column layout, or the older metrics-only layout)"
}

// Layout names.
const (
	VariantFullEval    = "full_eval (1,939-column layout)"
	VariantMetricsOnly = "full_eval metrics-only (older helper: keys, tokens, compute and metrics)"
)

// PerplexityColumns maps the legacy perplexity column names to the canonical ones.
var PerplexityColumns = [][2]string{
	{"wikitext_103-valppl", "wikitext_103_valppl"}, {"pile-valppl", "pile_valppl"},
	{"m2d2_s2orc-valppl", "m2d2_s2orc_valppl"}, {"ice-valppl", "ice_valppl"},
	{"dolma_wiki-valppl", "dolma_wiki_valppl"}, {"dolma_stack-valppl", "dolma_stack_valppl"},
	{"dolma_reddit-valppl", "dolma_reddit_valppl"}, {"dolma_pes2o-valppl", "dolma_pes2o_valppl"},
	{"dolma_common-crawl-valppl", "dolma_common_crawl_valppl"}, {"dolma_books-valppl", "dolma_books_valppl"},
	{"c4_en-valppl", "c4_en_valppl"},
}

// SeedNames are DataDecide's seed names by seed number.
var SeedNames = []string{"default", "small aux 2", "small aux 3", "large aux 2", "large aux 3"}

var (
	ddKeys        = []string{"params", "data", "seed", "step"}
	ddBase        = []string{"tokens", "compute"}
	ddPerRow      = []string{"lr_at_step", "cumulative_lr"}
	ddScheduleCol = []string{"total_steps", "warmup_steps", "lr_max", "batch_size"}
)

// ColumnSet is the legacy layout derived from the generated column lists.
type ColumnSet struct {
	ModelDetails []string // the 40 model-detail columns (legacy order differs; names are what matter)
	Datasets     []string // the 10 dataset-feature columns
	Grid         []string // the 1,866 task × metric columns
}

// Columns returns the DataDecide column groups, from gen/.
func Columns() ColumnSet {
	ppl := make([]string, len(PerplexityColumns))
	for i, p := range PerplexityColumns {
		ppl[i] = p[1]
	}
	drop := append(append(append(append([]string{}, ddKeys...), ddBase...), ddPerRow...), ppl...)
	drop = append(drop, "extra_metrics", "load_id")
	return ColumnSet{
		ModelDetails: loaders.Without(gen.PretrainModelColumns, append([]string{"params", "load_id"}, ddScheduleCol...)...),
		Datasets:     loaders.Without(gen.PretrainDatasetColumns, "data", "load_id"),
		Grid:         loaders.Without(gen.PretrainEvalColumns, drop...),
	}
}

// compatible reports whether a file column of type file can fill a database column of type db.
func compatible(file, db string) bool {
	f, d := loaders.TypeClass(file), loaders.TypeClass(db)
	switch d {
	case "float":
		return f == "float" || f == "integer"
	default:
		return f == d
	}
}

// layout is what the loader found in a file.
type layout struct {
	variant string
	types   map[string]string // file column -> type
	order   []string
	grid    []string // known grid columns present
	absent  []string // known grid and perplexity columns absent
	ppl     [][2]string
	unknown []string // numeric columns the schema does not know (kept in extra_metrics)
	skipped []string // non-numeric columns the schema does not know
}

// detect finds the layout of a file with columns cols, checking its key
// columns, its variant and the types of the columns it loads against the
// database's types dbt ("table.column" -> type). strict refuses columns the
// schema does not know.
func detect(path string, cols []loaders.FileColumn, dbt map[string]string, strict bool) (*layout, error) {
	l := &layout{types: map[string]string{}}
	for _, c := range cols {
		l.types[c.Name] = c.Type
		l.order = append(l.order, c.Name)
	}
	if err := l.checkKeys(path); err != nil {
		return nil, err
	}
	cols2 := Columns()
	extras, err := l.detectVariant(path, cols2)
	if err != nil {
		return nil, err
	}
	if err := l.checkTypes(path, dbt, cols2); err != nil {
		return nil, err
	}
	if err := l.sortColumns(path, extras, cols2, strict); err != nil {
		return nil, err
	}
	return l, nil
}

// checkKeys fails when the file lacks a key or base column.
func (l *layout) checkKeys(path string) error {
	found := func() string {
		n := l.order
		more := ""
		if len(n) > 12 {
			n, more = n[:12], fmt.Sprintf(" … (%d columns in all)", len(l.order))
		}
		return strings.Join(n, ", ") + more
	}
	var missingKeys []string
	for _, k := range append(append([]string{}, ddKeys...), ddBase...) {
		if _, ok := l.types[k]; !ok {
			missingKeys = append(missingKeys, k)
		}
	}
	if len(missingKeys) > 0 {
		hint := ""
		if _, ok := l.types["task"]; ok {
			hint = " (this looks like a long layout with a task column, which the datadecide loader does not read)"
		}
		return &loaders.FileError{Path: path, Msg: fmt.Sprintf("unknown layout%s: missing key columns %s; expected %s followed by metric columns; found %s",
			hint, strings.Join(missingKeys, ", "), strings.Join(append(append([]string{}, ddKeys...), ddBase...), ", "), found())}
	}
	return nil
}

// detectVariant sets l.variant from the schedule, per-row, dataset and
// model columns (the extras, which it returns): a full_eval has them all,
// the metrics-only layout none.
func (l *layout) detectVariant(path string, cols2 ColumnSet) ([]string, error) {
	extras := append(append(append(append([]string{}, ddScheduleCol...), ddPerRow...), cols2.Datasets...), cols2.ModelDetails...)
	var have, lack []string
	for _, c := range extras {
		if _, ok := l.types[c]; ok {
			have = append(have, c)
		} else {
			lack = append(lack, c)
		}
	}
	switch {
	case len(lack) == 0:
		l.variant = VariantFullEval
	case len(have) == 0:
		l.variant = VariantMetricsOnly
	default:
		return nil, &loaders.FileError{Path: path, Msg: fmt.Sprintf("unknown layout: it has %d of the %d schedule, dataset and model columns of full_eval but lacks %s; expected either all of them (full_eval, 1,939 columns) or none (the metrics-only layout)",
			len(have), len(extras), strings.Join(lack, ", "))}
	}
	return extras, nil
}

// checkTypes checks the types of the key, base and detail columns against
// the database's columns they fill.
func (l *layout) checkTypes(path string, dbt map[string]string, cols2 ColumnSet) error {
	want := map[string]string{"params": "pretrain_evals.params", "data": "pretrain_evals.data", "seed": "pretrain_evals.seed",
		"tokens": "pretrain_evals.tokens", "compute": "pretrain_evals.compute"}
	for _, c := range ddPerRow {
		want[c] = "pretrain_evals." + c
	}
	for _, c := range ddScheduleCol {
		want[c] = "pretrain_models." + c
	}
	for _, c := range cols2.ModelDetails {
		want[c] = "pretrain_models." + c
	}
	for _, c := range cols2.Datasets {
		want[c] = "pretrain_datasets." + c
	}
	for c, target := range want {
		ft, ok := l.types[c]
		if !ok {
			continue
		}
		if dt := dbt[target]; !compatible(ft, dt) {
			return &loaders.FileError{Path: path, Place: "column " + c, Msg: fmt.Sprintf("type %s, want %s (%s)", ft, loaders.TypeClass(dt), dt)}
		}
	}
	if ft := l.types["step"]; loaders.TypeClass(ft) != "integer" && loaders.TypeClass(ft) != "float" {
		return &loaders.FileError{Path: path, Place: "column step", Msg: fmt.Sprintf("type %s, want a number", ft)}
	}
	return nil
}

// sortColumns sorts the metric columns into those present (l.ppl, l.grid),
// absent (l.absent), unknown but numeric (l.unknown) and unknown otherwise
// (l.skipped), checking that the known ones are numbers. extras are the
// columns detectVariant named; strict refuses unknown columns.
func (l *layout) sortColumns(path string, extras []string, cols2 ColumnSet, strict bool) error {
	known := map[string]bool{}
	for _, c := range extras {
		known[c] = true
	}
	for _, c := range append(append([]string{}, ddKeys...), ddBase...) {
		known[c] = true
	}
	for _, p := range PerplexityColumns {
		known[p[0]] = true
		if _, ok := l.types[p[0]]; ok {
			l.ppl = append(l.ppl, p)
		} else {
			l.absent = append(l.absent, p[0])
		}
	}
	for _, g := range cols2.Grid {
		known[g] = true
		if _, ok := l.types[g]; ok {
			l.grid = append(l.grid, g)
		} else {
			l.absent = append(l.absent, g)
		}
	}
	for _, c := range append(l.grid, metricNames(l.ppl)...) {
		if ft := l.types[c]; !compatible(ft, "DOUBLE") {
			return &loaders.FileError{Path: path, Place: "column " + c, Msg: fmt.Sprintf("type %s, want a number (DOUBLE)", ft)}
		}
	}
	for _, c := range l.order {
		if known[c] {
			continue
		}
		if compatible(l.types[c], "DOUBLE") {
			l.unknown = append(l.unknown, c)
		} else {
			l.skipped = append(l.skipped, c)
		}
	}
	if strict && (len(l.unknown) > 0 || len(l.skipped) > 0) {
		return &loaders.FileError{Path: path, Msg: fmt.Sprintf("--strict: columns the schema does not know: %s", strings.Join(append(append([]string{}, l.unknown...), l.skipped...), ", "))}
	}
	return nil
}

func metricNames(ppl [][2]string) []string {
	out := make([]string, len(ppl))
	for i, p := range ppl {
		out[i] = p[0]
	}
	return out
}

// Load implements Loader.
func (Loader) Load(ctx context.Context, ld *loaders.Load) (*loaders.Report, error) {
	path := ld.Source.Path
	conn := ld.Conn
	ld.Stage("reading the parquet schema")
	cols, err := loaders.ParquetColumns(ctx, conn, path)
	if err != nil {
		return nil, err
	}
	dbt, err := loaders.DBTypes(ctx, conn, "pretrain_evals", "pretrain_models", "pretrain_datasets")
	if err != nil {
		return nil, err
	}
	lay, err := detect(path, cols, dbt, ld.Strict)
	if err != nil {
		return nil, err
	}
	full := lay.variant == VariantFullEval

	ld.Stage("checking keys")
	src, drop, err := stageKeys(ctx, conn, path, full)
	if err != nil {
		return nil, err
	}
	defer drop()
	if err := checkKeys(ctx, conn, path, src, lay); err != nil {
		return nil, err
	}
	rep := &loaders.Report{Variant: lay.variant, Rows: map[string]int64{}}
	sizes, err := newSizes(ctx, conn, src)
	if err != nil {
		return nil, fmt.Errorf("%s: check model sizes: %w", path, err)
	}
	if len(sizes) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("model sizes DataDecide does not have: %s (loaded as new pretrain_models rows)", strings.Join(sizes, ", ")))
	}

	ld.Stage("writing pretrain_models and pretrain_datasets")
	if err := writeDimensions(ctx, ld, src, full, rep); err != nil {
		return nil, err
	}

	ld.Stage("writing pretrain_runs")
	res, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO pretrain_runs (params, data, seed, seed_name, load_id)
		SELECT DISTINCT params, data, CAST(seed AS BIGINT), %s, %d FROM %s s
		WHERE NOT EXISTS (SELECT 1 FROM pretrain_runs r WHERE r.params = s.params AND r.data = s.data AND r.seed = s.seed)`,
		seedNameExpr("seed"), ld.ID, src))
	if err != nil {
		return nil, fmt.Errorf("%s: write pretrain_runs: %w", path, err)
	}
	rep.Rows["pretrain_runs"], _ = res.RowsAffected()

	ld.Stage("writing pretrain_evals")
	if err := checkNotLoadedElsewhere(ctx, conn, path, src); err != nil {
		return nil, err
	}
	targets, exprs := evalColumns(lay, full, ld.ID)
	res, err = conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO pretrain_evals (%s) SELECT %s FROM read_parquet(%s)",
		strings.Join(targets, ", "), strings.Join(exprs, ", "), dbschema.Literal(path)))
	if err != nil {
		return nil, fmt.Errorf("%s: write pretrain_evals: %w", path, err)
	}
	rep.Rows["pretrain_evals"], _ = res.RowsAffected()

	ld.Stage("checking integrity")
	if err := checkIntegrity(ctx, conn); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	reportColumns(rep, lay, full)
	return rep, nil
}

// keysTable is the temp table stageKeys writes.
const keysTable = "dschema_datadecide_keys"

// stageKeys copies the columns the checks and the small tables read (the
// keys, the file's row number and, for a full_eval, the schedule, model and
// dataset columns: 58 of the 1,939) from the file into a temp table, in one
// pass over the file, so that the checks and the writes of pretrain_runs,
// pretrain_models and pretrain_datasets read it instead of decoding the
// parquet file again each. The values keep the file's types. It returns
// the table's name and what drops it.
func stageKeys(ctx context.Context, conn *sql.Conn, path string, full bool) (table string, drop func(), err error) {
	cols := append([]string{}, ddKeys...)
	if full {
		names := Columns()
		cols = append(append(append(cols, ddScheduleCol...), names.ModelDetails...), names.Datasets...)
	}
	q := fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT %s, file_row_number FROM read_parquet(%s, file_row_number = true)",
		keysTable, quoteList(cols), dbschema.Literal(path))
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return "", nil, fmt.Errorf("%s: read the key columns: %w", path, err)
	}
	return keysTable, func() { conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+keysTable) }, nil
}

// writeDimensions writes pretrain_models and pretrain_datasets, one row per
// size / recipe, from src, after checking that their columns are constant
// per size / recipe. A metrics-only file (full false) writes the keys alone.
func writeDimensions(ctx context.Context, ld *loaders.Load, src string, full bool, rep *loaders.Report) error {
	path, conn := ld.Source.Path, ld.Conn
	names := Columns()
	dims := []struct {
		table, key string
		cols       []string
		rule       string
	}{
		{"pretrain_models", "params", append(append([]string{}, ddScheduleCol...), names.ModelDetails...), "model details must be constant per size"},
		{"pretrain_datasets", "data", names.Datasets, "dataset features must be constant per recipe"},
	}
	for _, d := range dims {
		cols := d.cols
		if !full {
			cols = nil
		}
		if err := checkConstant(ctx, conn, path, src, d.key, cols, d.rule); err != nil {
			return err
		}
		n, err := insertDimension(ctx, conn, path, src, d.table, d.key, cols, ld.ID)
		if err != nil {
			return err
		}
		rep.Rows[d.table] = n
	}
	return nil
}

// evalColumns returns the pretrain_evals columns a load of lay writes, and
// the expression over the file that fills each; unknown metric columns go
// into extra_metrics.
func evalColumns(lay *layout, full bool, id int64) (targets, exprs []string) {
	q := dbschema.Ident
	add := func(target, expr string) {
		targets = append(targets, q(target))
		exprs = append(exprs, expr)
	}
	add("params", "params")
	add("data", "data")
	add("seed", "CAST(seed AS BIGINT)")
	add("step", "CAST(step AS BIGINT)")
	add("tokens", "CAST(tokens AS DOUBLE)")
	add("compute", "CAST(compute AS DOUBLE)")
	if full {
		for _, c := range ddPerRow {
			add(c, fmt.Sprintf("CAST(%s AS DOUBLE)", q(c)))
		}
	}
	for _, p := range lay.ppl {
		add(p[1], fmt.Sprintf("CAST(%s AS DOUBLE)", q(p[0])))
	}
	for _, g := range lay.grid {
		if lay.types[g] == "DOUBLE" {
			add(g, q(g))
		} else {
			add(g, fmt.Sprintf("CAST(%s AS DOUBLE)", q(g)))
		}
	}
	if len(lay.unknown) > 0 {
		entries := make([]string, len(lay.unknown))
		for i, u := range lay.unknown {
			entries[i] = fmt.Sprintf("{'key': %s, 'value': CAST(%s AS DOUBLE)}", dbschema.Literal(u), q(u))
		}
		add("extra_metrics", fmt.Sprintf("map_from_entries(list_filter([%s], e -> e.value IS NOT NULL))", strings.Join(entries, ", ")))
	}
	add("load_id", fmt.Sprint(id))
	return targets, exprs
}

// reportColumns tells in rep what became of the columns the schema does
// not know, of the known ones the file lacks, and of a metrics-only layout.
func reportColumns(rep *loaders.Report, lay *layout, full bool) {
	if len(lay.unknown) > 0 {
		rep.Kept = append(rep.Kept, loaders.Skip{What: "columns " + strings.Join(lay.unknown, ", "), Count: int64(len(lay.unknown)),
			Reason: "metric columns the schema does not know: kept in pretrain_evals.extra_metrics (--strict refuses them)"})
	}
	if len(lay.skipped) > 0 {
		rep.Skipped = append(rep.Skipped, loaders.Skip{What: "columns " + strings.Join(lay.skipped, ", "), Count: int64(len(lay.skipped)),
			Reason: "non-numeric columns the schema does not know: not loaded (--strict refuses them)"})
	}
	if len(lay.absent) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d known metric columns are absent from the file and stay NULL: %s", len(lay.absent), strings.Join(lay.absent, ", ")))
	}
	if !full {
		rep.Notes = append(rep.Notes, "metrics-only layout: model details, dataset features and LR columns stay NULL")
	}
}

// Sizes are the model sizes DataDecide trained; a load reports
// any other (well-formed) size label it finds.
var Sizes = []string{"4M", "6M", "8M", "10M", "14M", "16M", "20M", "60M", "90M", "150M", "300M", "530M", "750M", "1B"}

// seedNameExpr is the SQL expression of pretrain_runs.seed_name for the
// seed number in column col (SeedNames; NULL past them).
func seedNameExpr(col string) string {
	var b strings.Builder
	b.WriteString("CASE " + col)
	for i, n := range SeedNames {
		fmt.Fprintf(&b, " WHEN %d THEN %s", i, dbschema.Literal(n))
	}
	b.WriteString(" END")
	return b.String()
}

// newSizes lists the size labels of src that DataDecide does not have.
func newSizes(ctx context.Context, conn *sql.Conn, src string) ([]string, error) {
	known := make([]string, len(Sizes))
	for i, s := range Sizes {
		known[i] = dbschema.Literal(s)
	}
	return loaders.QueryStrings(ctx, conn, fmt.Sprintf(`SELECT DISTINCT params FROM %s WHERE params NOT IN (%s) ORDER BY 1`, src, strings.Join(known, ", ")))
}

// checkKeys refuses NULL keys, size labels that are not sizes, seeds outside 0-4, non-integral steps and duplicate keys.
func checkKeys(ctx context.Context, conn *sql.Conn, path, src string, lay *layout) error {
	var row sql.NullInt64
	var what string
	err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT file_row_number + 1, CASE
			WHEN params IS NULL THEN 'column params is NULL'
			WHEN data IS NULL THEN 'column data is NULL'
			WHEN seed IS NULL THEN 'column seed is NULL'
			WHEN step IS NULL THEN 'column step is NULL'
			WHEN NOT regexp_full_match(params, '[0-9]+(\.[0-9]+)?[KMBT]') THEN 'params ' || params || ' is not a model size label (a number and K, M, B or T, as in 150M or 1B)'
			WHEN seed NOT BETWEEN 0 AND 4 THEN 'seed ' || seed || ' is not a DataDecide seed number (0-4)'
			WHEN isnan(CAST(step AS DOUBLE)) OR isinf(CAST(step AS DOUBLE)) OR step < 0 OR CAST(step AS DOUBLE) <> trunc(CAST(step AS DOUBLE)) OR CAST(step AS DOUBLE) >= 9.2e18
				THEN 'step ' || step || ' is not a whole number of steps'
			END AS problem
		FROM %s WHERE problem IS NOT NULL ORDER BY file_row_number LIMIT 1`, src)).Scan(&row, &what)
	if err == nil {
		return &loaders.FileError{Path: path, Place: fmt.Sprintf("row %d", row.Int64), Msg: what}
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: check keys: %w", path, err)
	}
	var params, data, rows string
	var seed, n int64
	var step float64
	err = conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT params, data, seed, step, count(*), string_agg(CAST(file_row_number + 1 AS VARCHAR), ', ' ORDER BY file_row_number)
		FROM %s GROUP BY params, data, seed, step HAVING count(*) > 1 ORDER BY min(file_row_number) LIMIT 1`, src)).Scan(&params, &data, &seed, &step, &n, &rows)
	if err == nil {
		return &loaders.FileError{Path: path, Place: "rows " + rows, Msg: fmt.Sprintf("duplicate key (params %q, data %q, seed %d, step %v): %d rows", params, data, seed, step, n)}
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: check duplicate keys: %w", path, err)
	}
	return nil
}

// checkConstant refuses a file whose rows disagree on columns that must be
// constant per key (model details per size, features per recipe), naming both rows.
func checkConstant(ctx context.Context, conn *sql.Conn, path, src, key string, cols []string, rule string) error {
	if len(cols) == 0 {
		return nil
	}
	qc := make([]string, len(cols))
	for i, c := range cols {
		qc[i] = dbschema.Ident(c)
	}
	list := strings.Join(qc, ", ")
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`WITH d AS (SELECT %s AS k, %s, min(file_row_number) + 1 AS r FROM %s GROUP BY ALL),
		bad AS (SELECT k FROM d GROUP BY k HAVING count(*) > 1 ORDER BY min(r) LIMIT 1)
		SELECT r, %s FROM d WHERE k IN (SELECT k FROM bad) ORDER BY r LIMIT 2`,
		dbschema.Ident(key), list, src, castList(cols)))
	if err != nil {
		return fmt.Errorf("%s: check %s: %w", path, rule, err)
	}
	defer rows.Close()
	var rowNums []int64
	var vals [][]sql.NullString
	for rows.Next() {
		v := make([]sql.NullString, len(cols))
		var r int64
		ptrs := []any{&r}
		for i := range v {
			ptrs = append(ptrs, &v[i])
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		rowNums = append(rowNums, r)
		vals = append(vals, v)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(vals) < 2 {
		return nil
	}
	show := func(s sql.NullString) string {
		if !s.Valid {
			return "NULL"
		}
		return s.String
	}
	for i, c := range cols {
		if vals[0][i] != vals[1][i] {
			return &loaders.FileError{Path: path, Place: fmt.Sprintf("rows %d and %d", rowNums[0], rowNums[1]),
				Msg: fmt.Sprintf("same %s but %s differs (%s vs %s): %s", key, c, show(vals[0][i]), show(vals[1][i]), rule)}
		}
	}
	return nil
}

func castList(cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = fmt.Sprintf("CAST(%s AS VARCHAR)", dbschema.Ident(c))
	}
	return strings.Join(out, ", ")
}

// insertDimension writes the rows of a per-size or per-recipe table that are
// not there yet; rows already written by another load must be identical.
func insertDimension(ctx context.Context, conn *sql.Conn, path, src, table, key string, cols []string, loadID int64) (int64, error) {
	k := dbschema.Ident(key)
	if len(cols) > 0 {
		var conds []string
		for _, c := range cols {
			conds = append(conds, fmt.Sprintf("s.%s IS DISTINCT FROM t.%s", dbschema.Ident(c), dbschema.Ident(c)))
		}
		var keyVal, other string
		var otherLoad sql.NullInt64
		err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT s.k, coalesce(l.source, 'an earlier load'), t.load_id
			FROM (SELECT DISTINCT %s AS k, %s FROM %s) s JOIN %s t ON t.%s = s.k LEFT JOIN dschema_loads l ON l.load_id = t.load_id
			WHERE %s LIMIT 1`, k, quoteList(cols), src, dbschema.Ident(table), k, strings.Join(conds, " OR "))).Scan(&keyVal, &other, &otherLoad)
		if err == nil {
			return 0, &loaders.FileError{Path: path, Place: fmt.Sprintf("%s %q", key, keyVal),
				Msg: fmt.Sprintf("%s differs from the row loaded from %s (load %d); the %s must agree across sources", table, other, otherLoad.Int64, table)}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("%s: compare %s: %w", path, table, err)
		}
	}
	targets := append([]string{key}, cols...)
	targets = append(targets, "load_id")
	res, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (%s) SELECT DISTINCT %s%s, %d FROM %s s
		WHERE NOT EXISTS (SELECT 1 FROM %s t WHERE t.%s = s.%s)`,
		dbschema.Ident(table), quoteList(targets), k, prefixComma(quoteList(cols)), loadID, src, dbschema.Ident(table), k, k))
	if err != nil {
		return 0, fmt.Errorf("%s: write %s: %w", path, table, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func quoteList(cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = dbschema.Ident(c)
	}
	return strings.Join(out, ", ")
}

func prefixComma(s string) string {
	if s == "" {
		return ""
	}
	return ", " + s
}

// checkNotLoadedElsewhere refuses rows whose key another source already loaded.
func checkNotLoadedElsewhere(ctx context.Context, conn *sql.Conn, path, src string) error {
	var params, data, other string
	var seed int64
	var otherLoad sql.NullInt64
	var step float64
	err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT s.params, s.data, s.seed, s.step, coalesce(l.source, 'an earlier load'), e.load_id
		FROM (SELECT params, data, seed, step, file_row_number FROM %s) s
		JOIN pretrain_evals e ON e.params = s.params AND e.data = s.data AND e.seed = s.seed AND e.step = CAST(s.step AS BIGINT)
		LEFT JOIN dschema_loads l ON l.load_id = e.load_id ORDER BY s.file_row_number LIMIT 1`, src)).Scan(&params, &data, &seed, &step, &other, &otherLoad)
	place := fmt.Sprintf("key (params %q, data %q, seed %d, step %v)", params, data, seed, step)
	switch {
	case err == nil && !otherLoad.Valid:
		return &loaders.FileError{Path: path, Place: place,
			Msg: "already in the database with no recorded load (its load_id is NULL: the provenance was lost, e.g. by migrate down --allow-destructive and up); delete those rows or load into a new database"}
	case err == nil:
		return &loaders.FileError{Path: path, Place: place,
			Msg: fmt.Sprintf("already loaded from %s (load %d); a key belongs to one source", other, otherLoad.Int64)}
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: check keys against the database: %w", path, err)
	}
	return nil
}

// checkIntegrity makes sure every eval has its run and every run its model
// and dataset rows (a replaced source must not leave other loads' rows dangling).
func checkIntegrity(ctx context.Context, conn *sql.Conn) error {
	checks := []struct{ query, msg string }{
		{`SELECT e.params || ' / ' || e.data || ' / seed ' || e.seed FROM pretrain_evals e
			WHERE NOT EXISTS (SELECT 1 FROM pretrain_runs r WHERE r.params = e.params AND r.data = e.data AND r.seed = e.seed) LIMIT 1`,
			"pretrain_evals rows of run %s would have no pretrain_runs row"},
		{`SELECT r.params FROM pretrain_runs r WHERE NOT EXISTS (SELECT 1 FROM pretrain_models m WHERE m.params = r.params) LIMIT 1`,
			"pretrain_runs of size %s would have no pretrain_models row"},
		{`SELECT r.data FROM pretrain_runs r WHERE NOT EXISTS (SELECT 1 FROM pretrain_datasets d WHERE d.data = r.data) LIMIT 1`,
			"pretrain_runs of recipe %s would have no pretrain_datasets row"},
	}
	for _, c := range checks {
		var what string
		err := conn.QueryRowContext(ctx, c.query).Scan(&what)
		if err == nil {
			return fmt.Errorf(c.msg+" (the row came from the replaced version of this source and another load still needs it)", what)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	return nil
}
