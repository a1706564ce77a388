package loaders

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dschema/dschema/internal/dbschema"
)

// Difference is one cell where a file and the database disagree.
type Difference struct {
	Key    string `json:"key"`
	Column string `json:"column"`
	File   string `json:"file"`
	DB     string `json:"database"`
}

// Verification is the outcome of comparing a file with the database.
type Verification struct {
	Path        string           `json:"path"`
	Rows        int64            `json:"rows"`
	Columns     int              `json:"columns"`
	Differing   int64            `json:"differing_cells"`
	MissingRows int64            `json:"rows_missing_from_database"`
	ExtraRows   int64            `json:"rows_missing_from_file"`
	ByColumn    map[string]int64 `json:"differing_by_column"`
	Examples    []Difference     `json:"examples"`
	Skipped     []string         `json:"columns_not_compared"`
	// NotInFile lists the database's full_eval columns the file lacks:
	// not compared either.
	NotInFile []string `json:"database_columns_not_in_file"`
	// NotCompared lists rows of the file the comparison left out, and why
	// (a model and task another source's load holds).
	NotCompared []string `json:"rows_not_compared,omitempty"`
}

// OK reports whether nothing differs.
func (v *Verification) OK() bool { return v.Differing == 0 && v.MissingRows == 0 && v.ExtraRows == 0 }

// VerifyDataDecide compares a full_eval file with the database value for
// value (NaN equals NaN, NULL equals NULL) through the legacy view
// datadecide_full_eval; unknown metric columns are compared with
// pretrain_evals.extra_metrics. maxExamples bounds the examples listed.
func VerifyDataDecide(ctx context.Context, db *sql.DB, path string, maxExamples int) (*Verification, error) {
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
			return nil, &FileError{Path: path, Msg: "missing key column " + k}
		}
	}
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
	v := &Verification{Path: abs, ByColumn: map[string]int64{}, Examples: []Difference{}, Skipped: []string{}, NotInFile: []string{}}
	inFile := map[string]bool{}
	for _, c := range cols {
		inFile[c.Name] = true
	}
	for _, n := range names {
		if !inFile[n] {
			v.NotInFile = append(v.NotInFile, n)
		}
	}
	src := fmt.Sprintf("read_parquet(%s)", dbschema.Literal(abs))
	q := dbschema.Ident
	type cmp struct{ name, dbExpr string }
	var compared []cmp
	for _, c := range cols {
		if isKeyCol(c.Name) {
			continue
		}
		switch {
		case viewCols[c.Name]:
			compared = append(compared, cmp{c.Name, "v." + q(c.Name)})
		case compatible(c.Type, "DOUBLE"):
			compared = append(compared, cmp{c.Name, fmt.Sprintf("v.dschema_extra_metrics[%s]", dbschema.Literal(c.Name))})
		default:
			v.Skipped = append(v.Skipped, c.Name)
		}
	}
	v.Columns = len(compared)
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
	var sums []string
	for _, c := range compared {
		sums = append(sums, fmt.Sprintf("count_if(v.params IS NOT NULL AND f.%s IS DISTINCT FROM %s)", q(c.name), c.dbExpr))
	}
	counts, err := countInChunks(ctx, conn, sums, join)
	if err != nil {
		return nil, fmt.Errorf("compare %s with the database: %w", path, err)
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
			return nil, err
		}
		for ex.Next() {
			d := Difference{Column: c.name}
			if err := ex.Scan(&d.Key, &d.File, &d.DB); err != nil {
				ex.Close()
				return nil, err
			}
			v.Examples = append(v.Examples, d)
		}
		ex.Close()
	}
	// Rows the current load of this file's source wrote that the file lacks.
	var loadID int64
	err = conn.QueryRowContext(ctx, `SELECT load_id FROM dschema_loads l WHERE kind = 'datadecide' AND path = ?
		AND NOT EXISTS (SELECT 1 FROM dschema_loads n WHERE n.replaced_load_id = l.load_id) ORDER BY load_id DESC LIMIT 1`, abs).Scan(&loadID)
	if err == nil {
		err = conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM pretrain_evals e WHERE e.load_id = ? AND NOT EXISTS
			(SELECT 1 FROM %s f WHERE f.params = e.params AND f.data = e.data AND f.seed = e.seed AND f.step = e.step)`, src), loadID).Scan(&v.ExtraRows)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return v, nil
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
func openParquet(ctx context.Context, db *sql.DB, path string) (string, *sql.Conn, []fileColumn, error) {
	abs, _, err := StatFile(path)
	if err != nil {
		return "", nil, nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", nil, nil, err
	}
	cols, err := parquetColumns(ctx, conn, abs)
	if err != nil {
		conn.Close()
		return "", nil, nil, err
	}
	return abs, conn, cols, nil
}
