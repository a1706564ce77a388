package loaders

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dschema/dschema/internal/dbschema"
)

// Relation is a set of rows to compare: a table of expected rows and the
// database table they belong in, matched on keys.
type Relation struct {
	Name     string   // the database table
	Label    string   // the table's name in reports ("" for name)
	Expected string   // temp table of the file's rows
	Keys     []string // matching key columns
	Cols     []string // compared columns
}

// CompareRelation fills v with the differences between r.Expected and the
// database table's rows with the same keys, and counts the database rows of
// load loadID (0: none) that the file lacks.
func CompareRelation(ctx context.Context, conn *sql.Conn, v *Verification, r Relation, loadID int64, maxExamples int) error {
	q := dbschema.Ident
	var on, keyText []string
	for _, k := range r.Keys {
		on = append(on, fmt.Sprintf("d.%s = f.%s", q(k), q(k)))
		keyText = append(keyText, fmt.Sprintf("CAST(f.%s AS VARCHAR)", q(k)))
	}
	join := fmt.Sprintf("FROM %s f LEFT JOIN %s d ON %s", q(r.Expected), q(r.Name), strings.Join(on, " AND "))
	matched := "d." + q(r.Keys[0]) + " IS NOT NULL"
	var rows, missing, fileRows int64
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*), count(*) FILTER (WHERE NOT (%s)), (SELECT count(*) FROM %s) %s", matched, q(r.Expected), join)).Scan(&rows, &missing, &fileRows); err != nil {
		return fmt.Errorf("compare %s: %w", r.Name, err)
	}
	label := r.Label
	if label == "" {
		label = r.Name
	}
	// The file's rows have one key each: a join of more rows than the file
	// has is the database's rows sharing a key.
	if shared := rows - fileRows; shared > 0 {
		v.SharedKeys += shared
		var fk []string
		for _, k := range r.Keys {
			fk = append(fk, "f."+q(k))
		}
		ex, err := QueryStrings(ctx, conn, fmt.Sprintf("SELECT concat_ws(' / ', %s) || ' (' || count(*) || ' rows)' %s WHERE %s GROUP BY %s HAVING count(*) > 1 ORDER BY 1 LIMIT %d",
			strings.Join(keyText, ", "), join, matched, strings.Join(fk, ", "), max(maxExamples, 1)))
		if err != nil {
			return fmt.Errorf("compare %s: %w", r.Name, err)
		}
		for _, e := range ex {
			v.SharedKeyExamples = append(v.SharedKeyExamples, label+" "+e)
		}
	}
	v.Rows += fileRows
	v.MissingRows += missing
	v.Columns += len(r.Cols)
	types, err := DBTypes(ctx, conn, r.Name)
	if err != nil {
		return err
	}
	// Values compare as text (NaN = NaN, NULL = NULL); maps by their
	// sorted entries: a promotion's Down puts a key back last.
	text := func(side, c string) string {
		if strings.HasPrefix(types[r.Name+"."+c], "MAP(") {
			return fmt.Sprintf("CAST(list_sort(map_entries(%s.%s)) AS VARCHAR)", side, q(c))
		}
		return fmt.Sprintf("CAST(%s.%s AS VARCHAR)", side, q(c))
	}
	diff := func(c string) string {
		return fmt.Sprintf("%s IS DISTINCT FROM %s", text("f", c), text("d", c))
	}
	var sums []string
	for _, c := range r.Cols {
		sums = append(sums, fmt.Sprintf("count(*) FILTER (WHERE %s AND %s)", matched, diff(c)))
	}
	counts, err := CountInChunks(ctx, conn, sums, join)
	if err != nil {
		return fmt.Errorf("compare %s: %w", r.Name, err)
	}
	for i, c := range r.Cols {
		n := counts[i]
		if n == 0 {
			continue
		}
		v.Differing += n
		v.ByColumn[label+"."+c] = n
		if len(v.Examples) >= maxExamples {
			continue
		}
		ex, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT concat_ws(' / ', %s), coalesce(left(%s, 200), 'NULL'), coalesce(left(%s, 200), 'NULL') %s
			WHERE %s AND %s ORDER BY 1 LIMIT %d`, strings.Join(keyText, ", "), text("f", c), text("d", c), join, matched, diff(c), maxExamples-len(v.Examples)))
		if err != nil {
			return err
		}
		for ex.Next() {
			d := Difference{Column: label + "." + c}
			if err := ex.Scan(&d.Key, &d.File, &d.DB); err != nil {
				ex.Close()
				return err
			}
			v.Examples = append(v.Examples, d)
		}
		ex.Close()
		if err := ex.Err(); err != nil {
			return err
		}
	}
	if loadID != 0 {
		var on2 []string
		for _, k := range r.Keys {
			on2 = append(on2, fmt.Sprintf("f.%s = d.%s", q(k), q(k)))
		}
		var extra int64
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s d WHERE d.load_id = ? AND NOT EXISTS (SELECT 1 FROM %s f WHERE %s)",
			q(r.Name), q(r.Expected), strings.Join(on2, " AND ")), loadID).Scan(&extra); err != nil {
			return err
		}
		v.ExtraRows += extra
	}
	return nil
}

// CurrentLoadOfPath is the current load of kind that read path, 0 if none.
func CurrentLoadOfPath(ctx context.Context, conn *sql.Conn, kind, path string) (int64, error) {
	var id int64
	err := conn.QueryRowContext(ctx, `SELECT load_id FROM `+currentLoads+` AND kind = ? AND path = ?
		ORDER BY load_id DESC LIMIT 1`, kind, path).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return id, err
}

// InRollback runs f on a connection inside a transaction it rolls back.
func InRollback(ctx context.Context, db *sql.DB, f func(conn *sql.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Restored after the ROLLBACK (defers run last first): f may set the
	// threads for a statement (SetThreads), as a load may.
	restore, err := SetThreads(ctx, conn, 0)
	if err != nil {
		return err
	}
	defer restore()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	return f(conn)
}

func Unquoted(cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = strings.Trim(c, `"`)
	}
	return out
}

// StartVerify checks a verification's options and file and returns the
// file's absolute path and an empty Verification of it.
func StartVerify(kind, path string, opts *VerifyOptions) (string, *Verification, error) {
	if opts.Stat != "" {
		return "", nil, fmt.Errorf("--stat is for %s, not for %s", strings.Join(StatKinds(), ", "), kind)
	}
	if opts.MaxExamples <= 0 {
		opts.MaxExamples = 5
	}
	var abs string
	var err error
	if l, ok := registry[kind]; ok {
		abs, _, _, err = statSource(l, path)
	} else {
		abs, _, err = StatFile(path)
	}
	if err != nil {
		return "", nil, err
	}
	return abs, &Verification{Path: abs, ByColumn: map[string]int64{}, Examples: []Difference{}, Skipped: []string{}, NotInFile: []string{}}, nil
}

// SetAside moves rows out of each table into a temp table <prefix><table>
// (inside the caller's transaction, whose rollback puts everything back),
// so the file's rows can be written in their place: the rows of load
// loadID, or, when the file has no load (0), the rows of the given runs,
// whatever wrote them. Names are quoted, so any table name works.
func SetAside(ctx context.Context, conn *sql.Conn, prefix string, loadID int64, ids []string, tables []string) error {
	where, args := "load_id = ?", []any{loadID}
	if loadID == 0 {
		if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE _dschema_ids (run_id VARCHAR)"); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := conn.ExecContext(ctx, "INSERT INTO _dschema_ids VALUES (?)", id); err != nil {
				return err
			}
		}
		where, args = "run_id IN (SELECT run_id FROM _dschema_ids)", nil
	}
	for _, t := range tables {
		for _, q := range []string{
			fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM %s WHERE %s", dbschema.Ident(prefix+t), dbschema.Ident(t), where),
			fmt.Sprintf("DELETE FROM %s WHERE %s", dbschema.Ident(t), where),
		} {
			if _, err := conn.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("set aside rows of %s: %w", t, err)
			}
		}
	}
	return nil
}

// ColumnsOf lists a table's columns.
func ColumnsOf(ctx context.Context, conn *sql.Conn, table string) []string {
	cols, _ := QueryStrings(ctx, conn, `SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'
		AND database_name = current_database() ORDER BY column_index`, table)
	return cols
}
