package datadecide

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dschema/dschema/internal/loaders"

	"github.com/dschema/dschema/internal/dbschema"
)

// AggCheck is the outcome of checking a legacy mean_eval or std_eval file
// against the seed-aggregate views. It stores nothing.
type AggCheck struct {
	Path          string               `json:"path"`
	Stat          string               `json:"stat"` // mean or std
	Variant       string               `json:"variant"`
	Groups        int64                `json:"groups"`
	Columns       int                  `json:"columns_compared"`
	Differing     int64                `json:"differing_cells"`
	Disagreements []loaders.Difference `json:"disagreements"` // the first MaxAggExamples
	Missing       int64                `json:"groups_missing_from_database_count"`
	MissingGroups []string             `json:"groups_missing_from_database"` // the first MaxAggExamples
	ExtraGroups   int64                `json:"database_groups_missing_from_file"`
	Notes         []string             `json:"notes"`
}

// OK reports whether the file agrees with the database.
func (a *AggCheck) OK() bool {
	return a.Differing == 0 && a.Missing == 0 && a.ExtraGroups == 0
}

// Aggregate layouts. A file grouped by params, data and step alone still has
// tokens and compute columns (as averaged values), and since both are constant
// per (params, step) its groups are those of the current layout; only an
// averaged seed column, or missing tokens/compute, tell the older grouping.
const (
	AggVariantCurrent = "grouped by params, data, step, tokens, compute"
	AggVariantOldSeed = "grouped by params, data, step, with an averaged seed column (before Sept 2025)"
	AggVariantOld     = "grouped by params, data, step (before Sept 2025)"
)

// RelTolerance is how far (relative) a file's value may be from the view's:
// relative to the larger of the two, and for a std also to the group's mean.
const RelTolerance = 1e-9

// MaxAggExamples bounds the disagreeing cells and missing groups an
// aggregate check lists; it counts them all.
const MaxAggExamples = 20

// ErrNoDataDecide: an aggregate check against a database with no DataDecide rows.
var ErrNoDataDecide = errors.New("the database holds no DataDecide rows: load full_eval first (dschema load datadecide full_eval.parquet)")

// CheckAgg compares a legacy mean_eval/std_eval file with
// datadecide_mean_eval/datadecide_std_eval. stat is "mean", "std" or "" (then
// taken from the file name).
func CheckAgg(ctx context.Context, db *sql.DB, path, stat string) (*AggCheck, error) {
	stat, err := aggStat(path, stat)
	if err != nil {
		return nil, err
	}
	view := "datadecide_" + stat + "_eval"
	var evals int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM pretrain_evals").Scan(&evals); err != nil {
		return nil, fmt.Errorf("count pretrain_evals: %w", err)
	}
	if evals == 0 {
		return nil, ErrNoDataDecide
	}
	abs, conn, cols, err := openParquet(ctx, db, path)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	a := &AggCheck{Path: abs, Stat: stat, Disagreements: []loaders.Difference{}, MissingGroups: []string{}, Notes: []string{}}
	keys, err := aggKeys(a, path, cols)
	if err != nil {
		return nil, err
	}
	compared, err := aggColumns(ctx, conn, a, cols, keys, stat, view)
	if err != nil {
		return nil, err
	}
	a.Columns = len(compared)
	keyExpr := "f.params || ' / ' || f.data || ' / step ' || f.step"
	if err := aggTables(ctx, conn, path, abs, stat, view); err != nil {
		return nil, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS dschema_agg_file; DROP TABLE IF EXISTS dschema_agg_view; DROP TABLE IF EXISTS dschema_agg_mean")
	if err := oneRowPerGroup(ctx, conn, path, view, keys, keyExpr); err != nil {
		return nil, err
	}
	if len(compared) > 0 {
		if err := compareCells(ctx, conn, a, path, stat, keys, compared, keyExpr); err != nil {
			return nil, err
		}
	}
	if err := missingGroups(ctx, conn, a, keys, keyExpr); err != nil {
		return nil, err
	}
	return a, extraGroups(ctx, conn, a, keys)
}

// aggStat checks stat, or when it is "" tells it from the file name.
func aggStat(path, stat string) (string, error) {
	if stat == "" {
		base := strings.ToLower(filepath.Base(path))
		switch {
		case strings.Contains(base, "std"):
			stat = "std"
		case strings.Contains(base, "mean"):
			stat = "mean"
		default:
			return "", &loaders.FileError{Path: path, Msg: "cannot tell mean from std by the file name; say which with --stat mean or --stat std"}
		}
	}
	if stat != "mean" && stat != "std" {
		return "", fmt.Errorf("--stat is mean or std, not %q", stat)
	}
	return stat, nil
}

// aggKeys tells the file's layout from its columns, setting a.Variant (and
// a note for an averaged seed column), and returns its group key columns.
func aggKeys(a *AggCheck, path string, cols []loaders.FileColumn) ([]string, error) {
	have := map[string]bool{}
	for _, c := range cols {
		have[c.Name] = true
	}
	keys := []string{"params", "data", "step"}
	for _, k := range keys {
		if !have[k] {
			return nil, &loaders.FileError{Path: path, Msg: fmt.Sprintf("unknown layout: missing key column %s; expected params, data, step[, tokens, compute] followed by value columns", k)}
		}
	}
	switch {
	case have["seed"]:
		a.Variant = AggVariantOldSeed
		a.Notes = append(a.Notes, "ignored the averaged seed column (meaningless in an aggregate)")
	case have["tokens"] && have["compute"]:
		a.Variant = AggVariantCurrent
		keys = append(keys, "tokens", "compute")
	default:
		a.Variant = AggVariantOld
	}
	return keys, nil
}

// aggColumns returns the file's value columns that view has too, the ones
// compared, and notes in a those left out on either side.
func aggColumns(ctx context.Context, conn *sql.Conn, a *AggCheck, cols []loaders.FileColumn, keys []string, stat, view string) ([]string, error) {
	// The view's columns from the catalog: binding the view (SELECT * …
	// LIMIT 0) plans its 1,900 aggregates, a third of a check's time.
	vnames, err := loaders.QueryStrings(ctx, conn, `SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'
		AND database_name = current_database() ORDER BY column_index`, view)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", view, err)
	}
	if len(vnames) == 0 {
		return nil, fmt.Errorf("columns of %s: the database has no such view (dschema migrate up)", view)
	}
	inView := map[string]bool{}
	for _, n := range vnames {
		inView[n] = true
	}
	isKey := map[string]bool{"seed": true}
	for _, k := range keys {
		isKey[k] = true
	}
	var compared, notInView []string
	for _, c := range cols {
		switch {
		case isKey[c.Name]:
		case !isKey["tokens"] && stat == "std" && (c.Name == "tokens" || c.Name == "compute"):
			// In the older grouping these are the std of a per-group constant.
			a.Notes = append(a.Notes, c.Name+" is the std of a value constant per group (0, or NULL below two seeds): not compared")
		case inView[c.Name]:
			compared = append(compared, c.Name)
		default:
			notInView = append(notInView, c.Name)
		}
	}
	if len(notInView) > 0 {
		a.Notes = append(a.Notes, fmt.Sprintf("%d columns are not in the database's layout and were not compared: %s", len(notInView), strings.Join(notInView, ", ")))
	}
	inFile := map[string]bool{}
	for _, c := range cols {
		inFile[c.Name] = true
	}
	var notInFile []string
	for _, n := range vnames {
		if !inFile[n] && !isKey[n] && n != "n_seeds" {
			notInFile = append(notInFile, n)
		}
	}
	if len(notInFile) > 0 {
		a.Notes = append(a.Notes, fmt.Sprintf("%d columns of the database's layout are not in the file and were not compared: %s", len(notInFile), strings.Join(notInFile, ", ")))
	}
	return compared, nil
}

// aggTables materialises both sides once, as the temp tables
// dschema_agg_file and dschema_agg_view (and dschema_agg_mean for a std):
// the view aggregates every eval row. The caller drops them.
func aggTables(ctx context.Context, conn *sql.Conn, path, abs, stat, view string) error {
	src := fmt.Sprintf("read_parquet(%s)", dbschema.Literal(abs))
	// A std is computed from values of the mean's magnitude, so its rounding
	// error scales with the mean, not with the std itself (a seed-constant
	// column has std 0 in DuckDB and ~1e-17 from a two-pass pandas std):
	// for a std the tolerance is relative to the group's mean too.
	stmts := []string{
		"CREATE OR REPLACE TEMP TABLE dschema_agg_file AS SELECT * FROM " + src,
		"CREATE OR REPLACE TEMP TABLE dschema_agg_view AS SELECT * FROM " + view,
	}
	if stat == "std" {
		stmts = append(stmts, "CREATE OR REPLACE TEMP TABLE dschema_agg_mean AS SELECT * FROM datadecide_mean_eval")
	}
	for _, stmt := range stmts {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("compare %s with %s: %w", path, view, err)
		}
	}
	return nil
}

// oneRowPerGroup fails when dschema_agg_file has a group twice: an
// aggregate has one row per group; a per-seed file (a full_eval) has several.
func oneRowPerGroup(ctx context.Context, conn *sql.Conn, path, view string, keys []string, keyExpr string) error {
	var dupKey string
	var dupRows int64
	err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT %s, count(*) FROM dschema_agg_file f GROUP BY ALL HAVING count(*) > 1 ORDER BY 1 LIMIT 1`, keyExpr)).Scan(&dupKey, &dupRows)
	if err == nil {
		return &loaders.FileError{Path: path, Place: "group " + dupKey,
			Msg: fmt.Sprintf("%d rows for one group: an aggregate file has one row per (%s); is it a per-seed full_eval? (load that with dschema load datadecide)", dupRows, strings.Join(keys, ", "))}
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("compare %s with %s: %w", path, view, err)
	}
	return nil
}

// compareCells counts the cells of the compared columns where
// dschema_agg_file and dschema_agg_view disagree, into a.Differing, and
// lists the first MaxAggExamples in a.Disagreements.
//
// It compares in long form: one (group, column, value) row per cell of each
// side, made by UNPIVOT, joined on group and column. A wide comparison
// (one expression per column) spends seconds planning 1,919 columns.
func compareCells(ctx context.Context, conn *sql.Conn, a *AggCheck, path, stat string, keys, compared []string, keyExpr string) error {
	src, view := "dschema_agg_file", "dschema_agg_view"
	q := dbschema.Ident
	long := func(table, name string) string {
		sel := make([]string, 0, len(keys)+len(compared))
		for _, k := range keys {
			sel = append(sel, q(k))
		}
		for _, c := range compared {
			sel = append(sel, fmt.Sprintf("CAST(%s AS DOUBLE) AS %s", q(c), q(c)))
		}
		return fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS WITH p AS (SELECT %s FROM %s) SELECT * FROM p UNPIVOT INCLUDE NULLS (val FOR col IN (COLUMNS(* EXCLUDE (%s))))",
			name, strings.Join(sel, ", "), table, quoteList(keys))
	}
	stmts := []string{long(src, "dschema_agg_file_long"), long(view, "dschema_agg_view_long")}
	if stat == "std" {
		stmts = append(stmts, long("dschema_agg_mean", "dschema_agg_mean_long"))
	}
	for _, stmt := range stmts {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("compare %s with %s: %w", path, view, err)
		}
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS dschema_agg_file_long; DROP TABLE IF EXISTS dschema_agg_view_long; DROP TABLE IF EXISTS dschema_agg_mean_long")
	using := quoteList(append(append([]string{}, keys...), "col"))
	from := "FROM dschema_agg_file_long f JOIN dschema_agg_view_long v USING (" + using + ")"
	third := ""
	if stat == "std" {
		from += " JOIN dschema_agg_mean_long m USING (" + using + ")"
		third = ", abs(m.val)" // greatest() skips NULLs
	}
	// A disagreement: NULL on one side only, NaN on one side only, or
	// values further apart than the relative tolerance.
	where := fmt.Sprintf(`((f.val IS NULL) <> (v.val IS NULL) OR (f.val IS NOT NULL AND v.val IS NOT NULL AND
			(isnan(f.val) <> isnan(v.val) OR (NOT isnan(f.val) AND abs(f.val - v.val) > %g * greatest(abs(f.val), abs(v.val)%s)))))`, RelTolerance, third)
	if err := conn.QueryRowContext(ctx, "SELECT count(*) "+from+" WHERE "+where).Scan(&a.Differing); err != nil {
		return fmt.Errorf("compare %s with %s: %w", path, view, err)
	}
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT %s, col, coalesce(CAST(f.val AS VARCHAR), 'NULL'), coalesce(CAST(v.val AS VARCHAR), 'NULL') %s WHERE %s ORDER BY col, 1 LIMIT %d`,
		keyExpr, from, where, MaxAggExamples))
	if err != nil {
		return fmt.Errorf("compare %s with %s: %w", path, view, err)
	}
	for rows.Next() {
		var d loaders.Difference
		if err := rows.Scan(&d.Key, &d.Column, &d.File, &d.DB); err != nil {
			rows.Close()
			return err
		}
		a.Disagreements = append(a.Disagreements, d)
	}
	rows.Close()
	return rows.Err()
}

// missingGroups counts the file's groups (a.Groups) and those the view
// lacks (a.Missing), listing the first MaxAggExamples in a.MissingGroups.
func missingGroups(ctx context.Context, conn *sql.Conn, a *AggCheck, keys []string, keyExpr string) error {
	src, view := "dschema_agg_file", "dschema_agg_view"
	q := dbschema.Ident
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s", src)).Scan(&a.Groups); err != nil {
		return err
	}
	var on []string
	for _, k := range keys {
		on = append(on, fmt.Sprintf("v.%s = f.%s", q(k), q(k)))
	}
	missing := fmt.Sprintf("FROM %s f WHERE NOT EXISTS (SELECT 1 FROM %s v WHERE %s)", src, view, strings.Join(on, " AND "))
	if err := conn.QueryRowContext(ctx, "SELECT count(*) "+missing).Scan(&a.Missing); err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT %s %s ORDER BY 1 LIMIT %d", keyExpr, missing, MaxAggExamples))
	if err != nil {
		return err
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		a.MissingGroups = append(a.MissingGroups, k)
	}
	rows.Close()
	return nil
}

// extraGroups counts the view's groups the file lacks (a.ExtraGroups).
func extraGroups(ctx context.Context, conn *sql.Conn, a *AggCheck, keys []string) error {
	src, view := "dschema_agg_file", "dschema_agg_view"
	q := dbschema.Ident
	var fkeys []string
	for _, k := range keys {
		fkeys = append(fkeys, fmt.Sprintf("f.%s = v.%s", q(k), q(k)))
	}
	return conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s v WHERE NOT EXISTS (SELECT 1 FROM %s f WHERE %s)", view, src, strings.Join(fkeys, " AND "))).Scan(&a.ExtraGroups)
}
