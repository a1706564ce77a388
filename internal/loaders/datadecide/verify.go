package datadecide

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"

	"github.com/dschema/dschema/internal/loaders"

	"github.com/dschema/dschema/internal/dbschema"
)

func init() { loaders.RegisterVerifier(Agg{}) }

var (
	_ loaders.Verifier = Loader{}
	_ loaders.Verifier = Agg{}
	_ loaders.Verdict  = (*AggCheck)(nil)
)

// VerifyFile compares a full_eval file with the database value for
// value (NaN equals NaN, NULL equals NULL) through the legacy view
// datadecide_full_eval; unknown metric columns are compared with
// pretrain_evals.extra_metrics. maxExamples bounds the examples listed.
func VerifyFile(ctx context.Context, db *sql.DB, path string, maxExamples int) (*loaders.Verification, error) {
	abs, conn, cols, err := openParquet(ctx, db, path)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	for _, k := range ddKeys {
		found := false
		for _, c := range cols {
			found = found || c.Name == k
		}
		if !found {
			return nil, &loaders.FileError{Path: path, Msg: "missing key column " + k}
		}
	}
	v := &loaders.Verification{Path: abs, ByColumn: map[string]int64{}, Examples: []loaders.Difference{}, Skipped: []string{}, NotInFile: []string{}}
	compared, err := verifyColumns(ctx, conn, v, cols)
	if err != nil {
		return nil, err
	}
	v.Columns = len(compared)
	src := fmt.Sprintf("read_parquet(%s)", dbschema.Literal(abs))
	// Materialise the file and the database rows with its keys once; compare in chunks.
	keyOn := func(a, b string) string {
		return fmt.Sprintf("%[1]s.params = %[2]s.params AND %[1]s.data = %[2]s.data AND %[1]s.seed = %[2]s.seed AND %[1]s.step = %[2]s.step", a, b)
	}
	for _, stmt := range []string{
		"CREATE OR REPLACE TEMP TABLE dschema_verify_file AS SELECT * FROM " + src,
		`CREATE OR REPLACE TEMP TABLE dschema_verify_db AS SELECT v.*, e.extra_metrics AS dschema_extra_metrics
			FROM datadecide_full_eval v JOIN pretrain_evals e ON e.params = v.params AND e.data = v.data AND e.seed = v.seed AND e.step = CAST(v.step AS BIGINT)
			WHERE EXISTS (SELECT 1 FROM dschema_verify_file f WHERE ` + keyOn("f", "v") + ")",
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("compare %s with the database: %w", path, err)
		}
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS dschema_verify_file; DROP TABLE IF EXISTS dschema_verify_db")
	join := "FROM dschema_verify_file f LEFT JOIN dschema_verify_db v ON " + keyOn("v", "f")
	if err := conn.QueryRowContext(ctx, "SELECT count(*), count_if(v.params IS NULL) "+join).Scan(&v.Rows, &v.MissingRows); err != nil {
		return nil, err
	}
	if err := compareValues(ctx, conn, v, path, compared, join, maxExamples); err != nil {
		return nil, err
	}
	if err := verifySeedNames(ctx, conn, v, maxExamples); err != nil {
		return nil, err
	}
	if err := countExtraRows(ctx, conn, v, abs, src); err != nil {
		return nil, err
	}
	return v, nil
}

// verifyColumn is a file column VerifyFile compares, and the expression
// over dschema_verify_db (as v) that holds the database's value.
type verifyColumn struct{ name, dbExpr string }

// verifyColumns lists the file's columns to compare: those of the view
// datadecide_full_eval, and other numeric ones (with extra_metrics). It
// notes in v the file's other columns (v.Skipped) and the view's columns
// the file lacks (v.NotInFile).
func verifyColumns(ctx context.Context, conn *sql.Conn, v *loaders.Verification, cols []loaders.FileColumn) ([]verifyColumn, error) {
	viewCols := map[string]bool{}
	rows, err := conn.QueryContext(ctx, "SELECT * FROM datadecide_full_eval LIMIT 0")
	if err != nil {
		return nil, fmt.Errorf("read datadecide_full_eval: %w", err)
	}
	names, _ := rows.Columns()
	rows.Close()
	for _, n := range names {
		viewCols[n] = true
	}
	inFile := map[string]bool{}
	for _, c := range cols {
		inFile[c.Name] = true
	}
	for _, n := range names {
		if !inFile[n] {
			v.NotInFile = append(v.NotInFile, n)
		}
	}
	q := dbschema.Ident
	var compared []verifyColumn
	for _, c := range cols {
		if isKeyCol(c.Name) {
			continue
		}
		switch {
		case viewCols[c.Name]:
			compared = append(compared, verifyColumn{c.Name, "v." + q(c.Name)})
		case compatible(c.Type, "DOUBLE"):
			compared = append(compared, verifyColumn{c.Name, fmt.Sprintf("v.dschema_extra_metrics[%s]", dbschema.Literal(c.Name))})
		default:
			v.Skipped = append(v.Skipped, c.Name)
		}
	}
	return compared, nil
}

// compareValues counts the differing cells of each compared column over
// join (the file's rows, as f, with the database's, as v) into v, listing
// up to maxExamples of them.
func compareValues(ctx context.Context, conn *sql.Conn, v *loaders.Verification, path string, compared []verifyColumn, join string, maxExamples int) error {
	q := dbschema.Ident
	var sums []string
	for _, c := range compared {
		sums = append(sums, fmt.Sprintf("count_if(v.params IS NOT NULL AND f.%s IS DISTINCT FROM %s)", q(c.name), c.dbExpr))
	}
	counts, err := loaders.CountInChunks(ctx, conn, sums, join)
	if err != nil {
		return fmt.Errorf("compare %s with the database: %w", path, err)
	}
	key := "f.params || ' / ' || f.data || ' / seed ' || f.seed || ' / step ' || f.step"
	for i, c := range compared {
		n := counts[i]
		if n == 0 {
			continue
		}
		v.Differing += n
		v.ByColumn[c.name] = n
		if len(v.Examples) >= maxExamples {
			continue
		}
		ex, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT %s, coalesce(CAST(f.%s AS VARCHAR), 'NULL'), coalesce(CAST(%s AS VARCHAR), 'NULL') %s
			WHERE v.params IS NOT NULL AND f.%s IS DISTINCT FROM %s ORDER BY 1 LIMIT %d`, key, q(c.name), c.dbExpr, join, q(c.name), c.dbExpr, maxExamples-len(v.Examples)))
		if err != nil {
			return err
		}
		for ex.Next() {
			d := loaders.Difference{Column: c.name}
			if err := ex.Scan(&d.Key, &d.File, &d.DB); err != nil {
				ex.Close()
				return err
			}
			v.Examples = append(v.Examples, d)
		}
		ex.Close()
	}
	return nil
}

// countExtraRows counts into v.ExtraRows the rows the current load of the
// file (at abs) wrote that the file (src) lacks; none when it has no load.
func countExtraRows(ctx context.Context, conn *sql.Conn, v *loaders.Verification, abs, src string) error {
	loadID, err := loaders.CurrentLoadOfPath(ctx, conn, Loader{}.Kind(), abs)
	if err != nil || loadID == 0 {
		return err
	}
	return conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM pretrain_evals e WHERE e.load_id = ? AND NOT EXISTS
		(SELECT 1 FROM %s f WHERE f.params = e.params AND f.data = e.data AND f.seed = e.seed AND f.step = e.step)`, src), loadID).Scan(&v.ExtraRows)
}

// verifySeedNames checks pretrain_runs.seed_name, which the load derives
// from the seed number (the file holds no name), for the file's runs.
func verifySeedNames(ctx context.Context, conn *sql.Conn, v *loaders.Verification, maxExamples int) error {
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT r.params || ' / ' || r.data || ' / seed ' || r.seed, coalesce(%[1]s, 'NULL'), coalesce(r.seed_name, 'NULL')
		FROM pretrain_runs r WHERE EXISTS (SELECT 1 FROM dschema_verify_file f WHERE f.params = r.params AND f.data = r.data AND f.seed = r.seed)
		AND r.seed_name IS DISTINCT FROM %[1]s ORDER BY 1`, seedNameExpr("r.seed")))
	if err != nil {
		return fmt.Errorf("compare pretrain_runs.seed_name: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d := loaders.Difference{Column: "pretrain_runs.seed_name"}
		if err := rows.Scan(&d.Key, &d.File, &d.DB); err != nil {
			return err
		}
		v.Differing++
		v.ByColumn[d.Column]++
		if len(v.Examples) < maxExamples {
			v.Examples = append(v.Examples, d)
		}
	}
	return rows.Err()
}

func isKeyCol(c string) bool {
	for _, k := range ddKeys {
		if c == k {
			return true
		}
	}
	return false
}

// openParquet checks that path is a readable file, takes a connection and
// reads the file's parquet columns.
func openParquet(ctx context.Context, db *sql.DB, path string) (string, *sql.Conn, []loaders.FileColumn, error) {
	abs, _, err := loaders.StatFile(path)
	if err != nil {
		return "", nil, nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", nil, nil, err
	}
	cols, err := loaders.ParquetColumns(ctx, conn, abs)
	if err != nil {
		conn.Close()
		return "", nil, nil, err
	}
	return abs, conn, cols, nil
}

// Verify implements Verifier: VerifyDataDecide.
func (Loader) Verify(ctx context.Context, db *sql.DB, path string, opts loaders.VerifyOptions) (loaders.Verdict, error) {
	if opts.Stat != "" {
		return nil, fmt.Errorf("--stat is for %s, not for datadecide", AggKind)
	}
	if opts.MaxExamples <= 0 {
		opts.MaxExamples = 5
	}
	return VerifyFile(ctx, db, path, opts.MaxExamples)
}

// AggKind is the kind of the DataDecide seed-aggregate check.
const AggKind = "datadecide-agg"

// Agg checks a legacy mean_eval/std_eval file against the
// database's seed-aggregate views (CheckDataDecideAgg).
type Agg struct{}

// Kind implements Verifier.
func (Agg) Kind() string { return AggKind }

// Short describes the check in one line (dschema load's list of kinds).
func (Agg) Short() string {
	return "check a legacy mean_eval/std_eval.parquet against the seed-aggregate views (stores nothing; the same as dschema verify datadecide-agg)"
}

// ReadsStat implements loaders.StatReader: --stat names the statistic.
func (Agg) ReadsStat() bool { return true }

// Verify implements Verifier.
func (Agg) Verify(ctx context.Context, db *sql.DB, path string, opts loaders.VerifyOptions) (loaders.Verdict, error) {
	return CheckAgg(ctx, db, path, opts.Stat)
}

// Report implements Verdict.
func (a *AggCheck) Report(w io.Writer) {
	fmt.Fprintf(w, "%s: %s of seeds, layout %s: %d groups, %d columns compared with datadecide_%s_eval\n", filepath.Base(a.Path), a.Stat, a.Variant, a.Groups, a.Columns, a.Stat)
	for _, n := range a.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	for _, k := range a.MissingGroups {
		fmt.Fprintf(w, "  group %s: in the file, not in the database\n", k)
	}
	if n := a.Missing - int64(len(a.MissingGroups)); n > 0 {
		fmt.Fprintf(w, "  … and %d more groups in the file, not in the database\n", n)
	}
	if a.ExtraGroups > 0 {
		fmt.Fprintf(w, "  %d groups in the database are not in the file\n", a.ExtraGroups)
	}
	for _, d := range a.Disagreements {
		fmt.Fprintf(w, "  %s: %s: file %s, database %s\n", d.Key, d.Column, d.File, d.DB)
	}
	if n := a.Differing - int64(len(a.Disagreements)); n > 0 {
		fmt.Fprintf(w, "  … and %d more differing cells (%d shown)\n", n, len(a.Disagreements))
	}
	if a.OK() {
		fmt.Fprintf(w, "  agrees with the database (relative tolerance %g)\n", RelTolerance)
	} else {
		fmt.Fprintf(w, "  %d disagreements beyond %g relative\n", a.Differing, RelTolerance)
	}
}
