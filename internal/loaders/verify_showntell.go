package loaders

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/pickle"
)

var _ Verifier = Showntell{}

// finetuneLegacyColumns are the finetune_runs columns a modernized record
// fills: verify compares these (origin, source and the raw recipe code say
// where a row came from, not what the record holds).
var finetuneLegacyColumns = []string{"run_type", "pattern_name", "started_at", "exp_name", "base_recipe", "base_size",
	"checkpoint_step", "checkpoint_is_main", "seed", "lr", "lr_text", "lr1", "lr2", "tokens_per_epoch", "epochs", "tokens",
	"tokens_real", "abs_difference_tokens_pct", "reduce_loss", "comparison_model_size", "comparison_metric", "comparison_model_recipe"}

// Verify implements Verifier: a modernized pickle against finetune_runs, a
// matched frame against the finetune_matched tables. The file's rows are
// built as a load would build them, in a transaction rolled back: the
// database's rows for the same runs are set aside in temp tables, the
// file's rows written in their place, and the two compared value for value.
func (s Showntell) Verify(ctx context.Context, db *sql.DB, path string, opts VerifyOptions) (Verdict, error) {
	abs, v, err := startVerify(s.Kind(), path, &opts)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	val, err := pickle.Decode(data)
	if err != nil {
		return nil, &FileError{Path: abs, Msg: err.Error(), Err: err}
	}
	err = inRollback(ctx, db, func(conn *sql.Conn) error {
		loadID, err := currentLoadOfPath(ctx, conn, s.Kind(), abs)
		if err != nil {
			return err
		}
		var tables []relation
		var ids []string
		switch x := val.(type) {
		case *pickle.DataFrame:
			m, err := buildMatched(abs, x, -1)
			if err != nil {
				return err
			}
			ids = m.ids
			if err := swapIn(ctx, conn, ids, []string{"finetune_matched_runs", "finetune_matched_values", "finetune_matched_curves"}); err != nil {
				return err
			}
			if err := writeMatched(ctx, conn, m); err != nil {
				return err
			}
			tables = []relation{
				{name: "finetune_matched_runs", keys: []string{"run_id"}, cols: without(columnsOf(ctx, conn, "finetune_matched_runs"), "run_id", "load_id")},
				{name: "finetune_matched_values", keys: []string{"run_id", "name"}, cols: []string{"family", "value", "value_int"}},
				{name: "finetune_matched_curves", keys: []string{"run_id", "name"}, cols: []string{"points", "points_json"}},
			}
		case *pickle.Dict:
			recs, err := modernizedRecords(abs, x)
			if err != nil {
				return err
			}
			var rows []*gen.FinetuneRun
			for _, r := range recs {
				row, _, err := pickleRow(abs, r, -1)
				if err != nil {
					return err
				}
				rows = append(rows, row)
				ids = append(ids, row.RunID)
			}
			if err := swapIn(ctx, conn, ids, []string{"finetune_runs"}); err != nil {
				return err
			}
			if err := appendPickleRuns(ctx, conn, rows); err != nil {
				return err
			}
			tables = []relation{{name: "finetune_runs", keys: []string{"run_id"}, cols: finetuneLegacyColumns}}
		default:
			return &FileError{Path: abs, Msg: fmt.Sprintf("unknown pickle layout: a %T", val)}
		}
		for _, r := range tables {
			// The file's rows are now in the table; the database's were set aside.
			exp := "_dschema_exp_" + r.name
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM %s WHERE load_id = -1", exp, r.name)); err != nil {
				return err
			}
			cmp := relation{name: "_dschema_db_" + r.name, label: r.name, expected: exp, keys: r.keys, cols: r.cols}
			if err := compareRelation(ctx, conn, v, cmp, 0, opts.MaxExamples); err != nil {
				return err
			}
			if loadID != 0 { // rows of this file's current load that the file no longer has
				var extra int64
				if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE load_id = ?", cmp.name), loadID).Scan(&extra); err != nil {
					return err
				}
				var kept int64
				if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s d WHERE d.load_id = ? AND EXISTS (SELECT 1 FROM %s f WHERE %s)",
					cmp.name, exp, keyJoin(r.keys)), loadID).Scan(&kept); err != nil {
					return err
				}
				v.ExtraRows += extra - kept
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

func keyJoin(keys []string) string {
	var on []string
	for _, k := range keys {
		on = append(on, fmt.Sprintf("f.%s = d.%s", dbschema.Ident(k), dbschema.Ident(k)))
	}
	return strings.Join(on, " AND ")
}

// swapIn moves the database's rows of the given runs from each table into
// a temp table _dschema_db_<table> (inside the caller's transaction, whose
// rollback puts everything back), so the file's rows can be written in
// their place.
func swapIn(ctx context.Context, conn *sql.Conn, ids []string, tables []string) error {
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE _dschema_ids (run_id VARCHAR)"); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := conn.ExecContext(ctx, "INSERT INTO _dschema_ids VALUES (?)", id); err != nil {
			return err
		}
	}
	for _, t := range tables {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE _dschema_db_%[1]s AS SELECT * FROM %[1]s WHERE run_id IN (SELECT run_id FROM _dschema_ids);
			DELETE FROM %[1]s WHERE run_id IN (SELECT run_id FROM _dschema_ids)`, t)); err != nil {
			return err
		}
	}
	return nil
}

// columnsOf lists a table's columns.
func columnsOf(ctx context.Context, conn *sql.Conn, table string) []string {
	cols, _ := queryStrings(ctx, conn, `SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'
		AND database_name = current_database() ORDER BY column_index`, table)
	return cols
}
