package loaders

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dschema/dschema/internal/dbschema"
)

var (
	_ Verifier = WandbRuns{}
	_ Verifier = WandbHistory{}
)

// The W&B verifiers read the file through the loader's own pipeline into
// temp tables of the rows a load would write, inside a transaction they
// roll back, and compare those rows with the database's, value for value
// (IS DISTINCT FROM: NaN equals NaN, NULL equals NULL). A row is matched by
// its key whichever source loaded it; the database's rows of this file's
// current load that the file no longer has are counted too.

// relation is a set of rows to compare: a table of expected rows and the
// database table they belong in, matched on keys.
type relation struct {
	name     string   // the database table
	label    string   // the table's name in reports ("" for name)
	expected string   // temp table of the file's rows
	keys     []string // matching key columns
	cols     []string // compared columns
}

// compareRelation fills v with the differences between r.expected and the
// database table's rows with the same keys, and counts the database rows of
// load loadID (0: none) that the file lacks.
func compareRelation(ctx context.Context, conn *sql.Conn, v *Verification, r relation, loadID int64, maxExamples int) error {
	q := dbschema.Ident
	var on, keyText []string
	for _, k := range r.keys {
		on = append(on, fmt.Sprintf("d.%s = f.%s", q(k), q(k)))
		keyText = append(keyText, fmt.Sprintf("CAST(f.%s AS VARCHAR)", q(k)))
	}
	join := fmt.Sprintf("FROM %s f LEFT JOIN %s d ON %s", q(r.expected), q(r.name), strings.Join(on, " AND "))
	matched := "d." + q(r.keys[0]) + " IS NOT NULL"
	var rows, missing int64
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*), count(*) FILTER (WHERE NOT (%s)) %s", matched, join)).Scan(&rows, &missing); err != nil {
		return fmt.Errorf("compare %s: %w", r.name, err)
	}
	label := r.label
	if label == "" {
		label = r.name
	}
	v.Rows += rows
	v.MissingRows += missing
	v.Columns += len(r.cols)
	types, err := dbTypes(ctx, conn, r.name)
	if err != nil {
		return err
	}
	// Values compare as text (NaN = NaN, NULL = NULL); maps by their
	// sorted entries: a promotion's Down puts a key back last.
	text := func(side, c string) string {
		if strings.HasPrefix(types[r.name+"."+c], "MAP(") {
			return fmt.Sprintf("CAST(list_sort(map_entries(%s.%s)) AS VARCHAR)", side, q(c))
		}
		return fmt.Sprintf("CAST(%s.%s AS VARCHAR)", side, q(c))
	}
	diff := func(c string) string {
		return fmt.Sprintf("%s IS DISTINCT FROM %s", text("f", c), text("d", c))
	}
	var sums []string
	for _, c := range r.cols {
		sums = append(sums, fmt.Sprintf("count(*) FILTER (WHERE %s AND %s)", matched, diff(c)))
	}
	counts, err := countInChunks(ctx, conn, sums, join)
	if err != nil {
		return fmt.Errorf("compare %s: %w", r.name, err)
	}
	for i, c := range r.cols {
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
		for _, k := range r.keys {
			on2 = append(on2, fmt.Sprintf("f.%s = d.%s", q(k), q(k)))
		}
		var extra int64
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s d WHERE d.load_id = ? AND NOT EXISTS (SELECT 1 FROM %s f WHERE %s)",
			q(r.name), q(r.expected), strings.Join(on2, " AND ")), loadID).Scan(&extra); err != nil {
			return err
		}
		v.ExtraRows += extra
	}
	return nil
}

// currentLoadOfPath is the current load of kind that read path, 0 if none.
func currentLoadOfPath(ctx context.Context, conn *sql.Conn, kind, path string) (int64, error) {
	var id int64
	err := conn.QueryRowContext(ctx, `SELECT load_id FROM dschema_loads l WHERE kind = ? AND path = ?
		AND NOT EXISTS (SELECT 1 FROM dschema_loads n WHERE n.replaced_load_id = l.load_id) ORDER BY load_id DESC LIMIT 1`, kind, path).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return id, err
}

// inRollback runs f on a connection inside a transaction it rolls back.
func inRollback(ctx context.Context, db *sql.DB, f func(conn *sql.Conn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	return f(conn)
}

func unquoted(cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = strings.Trim(c, `"`)
	}
	return out
}

// startVerify checks a verification's options and file and returns the
// file's absolute path and an empty Verification of it.
func startVerify(kind, path string, opts *VerifyOptions) (string, *Verification, error) {
	if opts.Stat != "" {
		return "", nil, fmt.Errorf("--stat is for %s, not for %s", AggKind, kind)
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

// Verify implements Verifier: wandb_runs, wandb_run_evals and the
// finetune_runs rows derived from the run names against a runs file.
func (w WandbRuns) Verify(ctx context.Context, db *sql.DB, path string, opts VerifyOptions) (Verdict, error) {
	abs, v, err := startVerify(w.Kind(), path, &opts)
	if err != nil {
		return nil, err
	}
	err = inRollback(ctx, db, func(conn *sql.Conn) error {
		defer dropRunsStage(ctx, conn)
		rep, err := w.stage(ctx, conn, abs, func(string) {})
		if err != nil {
			return err
		}
		if err := stageRunEvals(ctx, conn, rep); err != nil {
			return err
		}
		loadID, err := currentLoadOfPath(ctx, conn, w.Kind(), abs)
		if err != nil {
			return err
		}
		cols, sel := runsSelect(0)
		if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE _dschema_verify_runs AS "+sel); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS _dschema_verify_runs")
		if err := compareRelation(ctx, conn, v, relation{name: "wandb_runs", expected: "_dschema_verify_runs", keys: []string{"run_id"},
			cols: without(unquoted(cols), "run_id", "load_id")}, loadID, opts.MaxExamples); err != nil {
			return err
		}
		if err := compareRelation(ctx, conn, v, relation{name: "wandb_run_evals", expected: typedTable + "_evals", keys: []string{"run_id", "task", "metric"},
			cols: []string{"value", "value_json"}}, loadID, opts.MaxExamples); err != nil {
			return err
		}
		return verifyDerivedFinetuneRuns(ctx, conn, v, loadID, opts.MaxExamples)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// verifyDerivedFinetuneRuns compares the finetune_runs rows the file's runs
// (staged in _dschema_verify_runs) derive from their names with the
// database's, as the load derives them. Inside verify's rolled-back
// transaction the database's rows of those runs, and of the file's current
// load, are set aside and the derived rows written in their place. A run
// whose row came from another origin (a pickle) keeps it in a load too: it
// is named, not compared.
func verifyDerivedFinetuneRuns(ctx context.Context, conn *sql.Conn, v *Verification, loadID int64, maxExamples int) error {
	other, err := queryStrings(ctx, conn, `SELECT f.run_id || ' (' || coalesce(f.origin, 'no origin') || ', load ' || coalesce(CAST(f.load_id AS VARCHAR), '?') || ')'
		FROM finetune_runs f JOIN _dschema_verify_runs r USING (run_id) WHERE f.origin IS DISTINCT FROM ? ORDER BY f.run_id`, OriginRunName)
	if err != nil {
		return err
	}
	if len(other) > 0 {
		v.NotCompared = append(v.NotCompared, fmt.Sprintf("finetune_runs rows of %d runs from another origin, which a load leaves in place: %s", len(other), examples(other, 5)))
	}
	ids, err := queryStrings(ctx, conn, `SELECT run_id FROM finetune_runs WHERE origin = ? AND (run_id IN (SELECT run_id FROM _dschema_verify_runs) OR load_id = ?)
		ORDER BY run_id`, OriginRunName, loadID)
	if err != nil {
		return err
	}
	if err := setAside(ctx, conn, "_dschema_db_", 0, ids, []string{"finetune_runs"}); err != nil {
		return err
	}
	if _, err := deriveFinetuneRunsFrom(ctx, conn, "_dschema_verify_runs", 0, -1, &Report{}); err != nil {
		return err
	}
	const exp, db = "_dschema_exp_finetune_runs", "_dschema_db_finetune_runs"
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE "+exp+" AS SELECT * FROM finetune_runs WHERE load_id = -1"); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+exp+"; DROP TABLE IF EXISTS "+db)
	cols := without(columnsOf(ctx, conn, "finetune_runs"), "run_id", "load_id")
	if err := compareRelation(ctx, conn, v, relation{name: db, label: "finetune_runs", expected: exp, keys: []string{"run_id"}, cols: cols}, 0, maxExamples); err != nil {
		return err
	}
	if loadID == 0 {
		return nil
	}
	// Rows of the file's current load that the file no longer derives.
	var extra int64
	if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s d WHERE d.load_id = ? AND NOT EXISTS (SELECT 1 FROM %s f WHERE f.run_id = d.run_id)", db, exp),
		loadID).Scan(&extra); err != nil {
		return err
	}
	v.ExtraRows += extra
	return nil
}

// Verify implements Verifier: wandb_history against a history file.
func (w WandbHistory) Verify(ctx context.Context, db *sql.DB, path string, opts VerifyOptions) (Verdict, error) {
	abs, v, err := startVerify(w.Kind(), path, &opts)
	if err != nil {
		return nil, err
	}
	err = inRollback(ctx, db, func(conn *sql.Conn) error {
		loadID, err := currentLoadOfPath(ctx, conn, w.Kind(), abs)
		if err != nil {
			return err
		}
		// The zone the current load read naive timestamps in.
		tz := ""
		if loadID != 0 {
			if err := conn.QueryRowContext(ctx, "SELECT coalesce(report->>'$.source_tz', '') FROM dschema_loads WHERE load_id = ?", loadID).Scan(&tz); err != nil {
				return err
			}
		}
		h, err := detectHistory(ctx, conn, abs, tz)
		if err != nil {
			return err
		}
		if err := checkRowKeys(ctx, conn, abs, h); err != nil {
			return err
		}
		metrics, err := historyMetrics()
		if err != nil {
			return err
		}
		cols, sel := historySelect(h, metrics, 0)
		if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE _dschema_verify_history AS "+sel); err != nil {
			if h.jsonl {
				return jsonReadError(abs, err)
			}
			return &FileError{Path: abs, Msg: firstLine(err.Error()), Err: err}
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS _dschema_verify_history")
		return compareRelation(ctx, conn, v, relation{name: "wandb_history", expected: "_dschema_verify_history", keys: []string{"run_id", "seq"},
			cols: without(unquoted(cols), "run_id", "seq", "load_id")}, loadID, opts.MaxExamples)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}
