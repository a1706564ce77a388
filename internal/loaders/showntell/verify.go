package showntell

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/finetune"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/pickle"
)

var _ loaders.Verifier = Loader{}

// finetuneVerifyColumns are the finetune_runs columns a modernized record
// fills, compared for a run whose row another source's load holds: the
// typed fields and source (origin and the raw recipe code say where a row
// came from, and differ there). A run the file's load holds is compared in
// every column.
var finetuneVerifyColumns = []string{"run_type", "pattern_name", "started_at", "exp_name", "base_recipe", "base_size",
	"checkpoint_step", "checkpoint_is_main", "seed", "lr", "lr_text", "lr1", "lr2", "tokens_per_epoch", "epochs", "tokens",
	"tokens_real", "abs_difference_tokens_pct", "reduce_loss", "comparison_model_size", "comparison_metric", "comparison_model_recipe",
	"source"}

// Verify implements Verifier: a modernized pickle against finetune_runs, a
// matched frame against the finetune_matched tables. In a transaction
// rolled back, the rows the file's current load wrote are set aside (when
// the file was never loaded: the database's rows of the file's runs,
// whatever their source), the file is read again by the loader's own code
// (load id -1), and the two compared row for row and value for value. A
// run whose row another source's load holds the loader compares with that
// row and leaves it: those differences are what the load itself reported,
// and the verdict lists them as set aside, not as failures. Rows of the
// current load the file no longer has are counted.
func (s Loader) Verify(ctx context.Context, db *sql.DB, path string, opts loaders.VerifyOptions) (loaders.Verdict, error) {
	abs, v, err := loaders.StartVerify(s.Kind(), path, &opts)
	if err != nil {
		return nil, err
	}
	val, err := decodePickle(abs)
	if err != nil {
		return nil, err
	}
	err = loaders.InRollback(ctx, db, func(conn *sql.Conn) error {
		loadID, err := loaders.CurrentLoadOfPath(ctx, conn, s.Kind(), abs)
		if err != nil {
			return err
		}
		var tables []loaders.Relation
		var aside []recordOf
		switch x := val.(type) {
		case *pickle.DataFrame:
			m, err := buildMatched(abs, x, -1)
			if err != nil {
				return err
			}
			names := []string{"finetune_matched_runs", "finetune_matched_values", "finetune_matched_curves"}
			if err := loaders.SetAside(ctx, conn, "_dschema_db_", loadID, m.ids, names); err != nil {
				return err
			}
			if err := writeMatched(ctx, conn, m); err != nil {
				return &loaders.FileError{Path: abs, Msg: "write the file's rows beside the database's: " + loaders.FirstLine(err.Error()), Err: err}
			}
			tables = []loaders.Relation{
				{Name: "finetune_matched_runs", Keys: []string{"run_id"}, Cols: loaders.Without(loaders.ColumnsOf(ctx, conn, "finetune_matched_runs"), "run_id", "load_id")},
				{Name: "finetune_matched_values", Keys: []string{"run_id", "name"}, Cols: []string{"family", "value", "value_int"}},
				{Name: "finetune_matched_curves", Keys: []string{"run_id", "name"}, Cols: []string{"points", "points_json"}},
			}
		case *pickle.Dict:
			recs, err := modernizedRecords(abs, x)
			if err != nil {
				return err
			}
			var ids []string
			for _, r := range recs {
				ids = append(ids, r.id())
			}
			if err := loaders.SetAside(ctx, conn, "_dschema_db_", loadID, ids, []string{"finetune_runs"}); err != nil {
				return err
			}
			m, err := buildModernized(ctx, conn, abs, x, -1, false)
			if err != nil {
				return err
			}
			aside = m.aside
			if len(m.rows) > 0 {
				if err := finetune.AppendPickleRuns(ctx, conn, m.rows); err != nil {
					return err
				}
			}
			// A row of another origin (the file was never loaded) holds
			// that origin's record in source: not this file's to compare.
			var other int64
			if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM _dschema_db_finetune_runs WHERE origin IS DISTINCT FROM ?`, OriginPickle).Scan(&other); err != nil {
				return err
			}
			if other > 0 {
				for _, q := range []string{
					`UPDATE finetune_runs SET source = NULL WHERE load_id = -1 AND run_id IN (SELECT run_id FROM _dschema_db_finetune_runs WHERE origin IS DISTINCT FROM ?)`,
					`UPDATE _dschema_db_finetune_runs SET source = NULL WHERE origin IS DISTINCT FROM ?`,
				} {
					if _, err := conn.ExecContext(ctx, q, OriginPickle); err != nil {
						return err
					}
				}
				v.NotCompared = append(v.NotCompared, fmt.Sprintf("finetune_runs.source of %d runs whose row has another origin (a W&B run name): it holds that origin's record", other))
			}
			tables = []loaders.Relation{{Name: "finetune_runs", Keys: []string{"run_id"}, Cols: loaders.Without(loaders.ColumnsOf(ctx, conn, "finetune_runs"), "run_id", "load_id")}}
		}
		for _, r := range tables {
			// The file's rows are now in the table (load id -1); the database's were set aside.
			exp := "_dschema_exp_" + r.Name
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM %s WHERE load_id = -1", exp, dbschema.Ident(r.Name))); err != nil {
				return err
			}
			cmp := loaders.Relation{Name: "_dschema_db_" + r.Name, Label: r.Name, Expected: exp, Keys: r.Keys, Cols: r.Cols}
			if err := loaders.CompareRelation(ctx, conn, v, cmp, loadID, opts.MaxExamples); err != nil {
				return err
			}
		}
		return compareSetAside(ctx, conn, abs, aside, v, opts.MaxExamples)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// compareSetAside compares the file's records of the runs whose row
// another source's load holds with those rows, as the load compared them
// before leaving them: the differences are what the load reported, listed
// among the rows not compared, and not counted as differing cells.
func compareSetAside(ctx context.Context, conn *sql.Conn, path string, recs []recordOf, v *loaders.Verification, maxExamples int) error {
	if len(recs) == 0 {
		return nil
	}
	var rows []*gen.FinetuneRun
	var ids []string
	for _, rec := range recs {
		row, _, err := pickleRow(path, rec, -2)
		if err != nil {
			return err
		}
		rows = append(rows, row)
		ids = append(ids, rec.id())
	}
	if err := loaders.SetAside(ctx, conn, "_dschema_other_", 0, ids, []string{"finetune_runs"}); err != nil {
		return err
	}
	if err := finetune.AppendPickleRuns(ctx, conn, rows); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE _dschema_exp_other AS SELECT * FROM finetune_runs WHERE load_id = -2"); err != nil {
		return err
	}
	sv := &loaders.Verification{ByColumn: map[string]int64{}}
	r := loaders.Relation{Name: "_dschema_other_finetune_runs", Label: "finetune_runs", Expected: "_dschema_exp_other", Keys: []string{"run_id"},
		Cols: loaders.Without(finetuneVerifyColumns, "source")}
	if err := loaders.CompareRelation(ctx, conn, sv, r, 0, maxExamples); err != nil {
		return err
	}
	var ex []string
	for _, d := range sv.Examples {
		ex = append(ex, fmt.Sprintf("%s: %s file %s, database %s", d.Key, d.Column, d.File, d.DB))
	}
	v.NotCompared = append(v.NotCompared, fmt.Sprintf("finetune_runs rows of %s (%d): another source's load holds them (their W&B run name), and the load compared them and left them, as its report says; %d cells differ from the file: %s",
		loaders.Examples(ids, 5), len(ids), sv.Differing, strings.Join(ex, "; ")))
	return nil
}
