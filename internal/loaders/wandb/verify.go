package wandb

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/finetune"
)

var (
	_ loaders.Verifier = Runs{}
	_ loaders.Verifier = History{}
)

// The W&B verifiers read the file through the loader's own pipeline into
// temp tables of the rows a load would write, inside a transaction they
// roll back, and compare those rows with the database's, value for value
// (IS DISTINCT FROM: NaN equals NaN, NULL equals NULL). A row is matched by
// its key whichever source loaded it; the database's rows of this file's
// current load that the file no longer has are counted too.

// Verify implements Verifier: wandb_runs, wandb_run_evals and the
// finetune_runs rows derived from the run names against a runs file.
func (w Runs) Verify(ctx context.Context, db *sql.DB, path string, opts loaders.VerifyOptions) (loaders.Verdict, error) {
	abs, v, err := loaders.StartVerify(w.Kind(), path, &opts)
	if err != nil {
		return nil, err
	}
	err = loaders.InRollback(ctx, db, func(conn *sql.Conn) error {
		defer dropRunsStage(ctx, conn)
		rep, err := w.stage(ctx, conn, abs, func(string) {})
		if err != nil {
			return err
		}
		if err := stageRunEvals(ctx, conn, rep); err != nil {
			return err
		}
		loadID, err := loaders.CurrentLoadOfPath(ctx, conn, w.Kind(), abs)
		if err != nil {
			return err
		}
		cols, sel := runsSelect(0)
		if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE _dschema_verify_runs AS "+sel); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS _dschema_verify_runs")
		if err := loaders.CompareRelation(ctx, conn, v, loaders.Relation{Name: "wandb_runs", Expected: "_dschema_verify_runs", Keys: []string{"run_id"},
			Cols: loaders.Without(loaders.Unquoted(cols), "run_id", "load_id")}, loadID, opts.MaxExamples); err != nil {
			return err
		}
		if err := loaders.CompareRelation(ctx, conn, v, loaders.Relation{Name: "wandb_run_evals", Expected: typedTable + "_evals", Keys: []string{"run_id", "task", "metric"},
			Cols: []string{"value", "value_json"}}, loadID, opts.MaxExamples); err != nil {
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
// whose row another load wrote from another origin (a pickle) keeps it in a
// load too: it is named, not compared.
func verifyDerivedFinetuneRuns(ctx context.Context, conn *sql.Conn, v *loaders.Verification, loadID int64, maxExamples int) error {
	other, err := loaders.QueryStrings(ctx, conn, `SELECT f.run_id || ' (' || coalesce(f.origin, 'no origin') || ', load ' || coalesce(CAST(f.load_id AS VARCHAR), '?') || ')'
		FROM finetune_runs f JOIN _dschema_verify_runs r USING (run_id) WHERE f.origin IS DISTINCT FROM ? AND f.load_id IS DISTINCT FROM ? ORDER BY f.run_id`, finetune.OriginRunName, loadID)
	if err != nil {
		return err
	}
	if len(other) > 0 {
		v.NotCompared = append(v.NotCompared, fmt.Sprintf("finetune_runs rows of %d runs from another origin, which a load leaves in place: %s", len(other), loaders.Examples(other, 5)))
	}
	// Every row of the file's current load is compared, whatever its origin says.
	ids, err := loaders.QueryStrings(ctx, conn, `SELECT run_id FROM finetune_runs WHERE (origin = ? AND run_id IN (SELECT run_id FROM _dschema_verify_runs)) OR load_id = ?
		ORDER BY run_id`, finetune.OriginRunName, loadID)
	if err != nil {
		return err
	}
	if err := loaders.SetAside(ctx, conn, "_dschema_db_", 0, ids, []string{"finetune_runs"}); err != nil {
		return err
	}
	if _, err := finetune.DeriveRunsFrom(ctx, conn, "_dschema_verify_runs", 0, -1, &loaders.Report{}); err != nil {
		return err
	}
	const exp, db = "_dschema_exp_finetune_runs", "_dschema_db_finetune_runs"
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE "+exp+" AS SELECT * FROM finetune_runs WHERE load_id = -1"); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+exp+"; DROP TABLE IF EXISTS "+db)
	cols := loaders.Without(loaders.ColumnsOf(ctx, conn, "finetune_runs"), "run_id", "load_id")
	if err := loaders.CompareRelation(ctx, conn, v, loaders.Relation{Name: db, Label: "finetune_runs", Expected: exp, Keys: []string{"run_id"}, Cols: cols}, 0, maxExamples); err != nil {
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
func (w History) Verify(ctx context.Context, db *sql.DB, path string, opts loaders.VerifyOptions) (loaders.Verdict, error) {
	abs, v, err := loaders.StartVerify(w.Kind(), path, &opts)
	if err != nil {
		return nil, err
	}
	err = loaders.InRollback(ctx, db, func(conn *sql.Conn) error {
		loadID, err := loaders.CurrentLoadOfPath(ctx, conn, w.Kind(), abs)
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
		metrics, err := historyMetrics()
		if err != nil {
			return err
		}
		cols, _ := historySelect(h, metrics, 0)
		if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE _dschema_verify_history AS SELECT * FROM wandb_history LIMIT 0"); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS _dschema_verify_history")
		if _, _, err := insertHistory(ctx, conn, abs, h, "_dschema_verify_history", metrics, 0, nil); err != nil {
			return err
		}
		return loaders.CompareRelation(ctx, conn, v, loaders.Relation{Name: "wandb_history", Expected: "_dschema_verify_history", Keys: gen.WandbHistoryPrimaryKey,
			Cols: loaders.Without(loaders.Unquoted(cols), append([]string{"load_id"}, gen.WandbHistoryPrimaryKey...)...)}, loadID, opts.MaxExamples)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}
