package quickstart

import (
	"context"
	"database/sql"
	"fmt"
	"io"
)

// printTables prints what the sample shows once joined: the seed means at
// the last step, the W&B runs with their history, the finetune runs with
// their checkpoints, and the QA outputs next to the evaluations.
func printTables(ctx context.Context, db *sql.DB, out io.Writer) error {
	for _, table := range []func(context.Context, *sql.DB, io.Writer) error{finalStepTable, runsJoinTable, finetuneJoinTable, qaCheckpointTable, qaFinetuneTable} {
		if err := table(ctx, db, out); err != nil {
			return err
		}
	}
	return nil
}

// qaCheckpointTable prints each checkpoint's per-task accuracy from its QA
// outputs next to the same metric in pretrain_evals (qa_task_outputs joined
// on data, params, seed, step).
func qaCheckpointTable(ctx context.Context, db *sql.DB, out io.Writer) error {
	rows, err := db.QueryContext(ctx, `WITH pe AS (
			UNPIVOT (SELECT data, params, seed, step, COLUMNS('_acc_raw$') FROM pretrain_evals)
			ON COLUMNS('_acc_raw$') INTO NAME col VALUE acc_raw)
		SELECT q.model_ref, q.task, q.num_instances,
			(SELECT avg(x.metrics['acc_raw']) FROM qa_question_outputs x WHERE x.model_ref = q.model_ref AND x.task = q.task),
			q.metrics['acc_raw'], pe.acc_raw
		FROM qa_task_outputs q
		LEFT JOIN pe ON pe.data = q.data AND pe.params = q.params AND pe.seed = q.seed AND pe.step = q.step AND pe.col = q.task || '_acc_raw'
		WHERE q.model_kind = 'pretrain_checkpoint' ORDER BY q.model_ref, q.task`)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintf(out, "\nQA outputs of DataDecide checkpoints, per task, next to pretrain_evals (joined on data, params, seed, step):\n")
	fmt.Fprintf(out, "%-26s %-12s %9s %12s %12s %14s\n", "CHECKPOINT", "TASK", "QUESTIONS", "ACC (QS)", "ACC (TASK)", "PRETRAIN_EVALS")
	for rows.Next() {
		var ref, task string
		var n sql.NullInt64
		var qs, agg, pt sql.NullFloat64
		if err := rows.Scan(&ref, &task, &n, &qs, &agg, &pt); err != nil {
			return err
		}
		fmt.Fprintf(out, "%-26s %-12s %9d %12s %12s %14s\n", ref, task, n.Int64, num3(qs), num3(agg), num3(pt))
	}
	return rows.Err()
}

// qaFinetuneTable prints the finetuned models' QA tasks next to their run
// (qa_task_outputs joined to finetune_runs on run_id).
func qaFinetuneTable(ctx context.Context, db *sql.DB, out io.Writer) error {
	rows, err := db.QueryContext(ctx, `SELECT q.run_id, f.run_type, f.base_recipe || ' ' || f.base_size, q.task, q.primary_score, q.is_aggregate
		FROM qa_task_outputs q JOIN finetune_runs f USING (run_id) ORDER BY q.run_id, q.is_aggregate, q.task`)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintf(out, "\nQA outputs of finetuned models (qa_task_outputs joined to finetune_runs on run_id):\n")
	fmt.Fprintf(out, "%-32s %-8s %-16s %-38s %8s\n", "RUN", "TYPE", "BASE", "TASK", "PRIMARY")
	for rows.Next() {
		var id, typ, base, task string
		var score sql.NullFloat64
		var agg bool
		if err := rows.Scan(&id, &typ, &base, &task, &score, &agg); err != nil {
			return err
		}
		if len(id) > 32 {
			id = id[:31] + "…"
		}
		if agg {
			task += " (aggregate)"
		}
		fmt.Fprintf(out, "%-32s %-8s %-16s %-38s %8s\n", id, typ, base, task, num3(score))
	}
	return rows.Err()
}

// finetuneJoinTable prints the finetune runs next to the pretraining
// checkpoint they started from: finetune_runs joined to pretrain_evals at
// seed 0 through the finetune_checkpoints view, the one place the rule is
// written (finetune_pretrain_match uses it too; it holds only the matched
// runs). No pretraining row at the checkpoint gives empty pt_ values.
func finetuneJoinTable(ctx context.Context, db *sql.DB, out io.Writer) error {
	rows, err := db.QueryContext(ctx, `SELECT f.run_id, f.run_type, f.base_recipe, f.base_size, coalesce(CAST(f.checkpoint_step AS VARCHAR), 'main'), c.step,
			e.arc_easy_primary_metric, e.pile_valppl,
			(SELECT arg_max(h.train_loss, h.seq) FILTER (WHERE h.train_loss IS NOT NULL) FROM wandb_history h WHERE h.run_id = f.run_id)
		FROM finetune_runs f JOIN finetune_checkpoints c USING (run_id)
		LEFT JOIN pretrain_evals e ON e.params = c.params AND e.data = c.data AND e.seed = 0 AND e.step = c.step
		ORDER BY f.run_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintf(out, "\nFinetune runs and the checkpoint they started from (finetune_runs joined to pretrain_evals, seed 0):\n")
	fmt.Fprintf(out, "%-32s %-22s %-14s %-5s %8s %8s %9s %9s %8s\n", "RUN", "TYPE", "RECIPE", "SIZE", "CKPT", "PT STEP", "PT PILE", "PT ARC-E", "FT LOSS")
	for rows.Next() {
		var id, typ, recipe, size, ckpt string
		var step sql.NullInt64
		var arc, ppl, loss sql.NullFloat64
		if err := rows.Scan(&id, &typ, &recipe, &size, &ckpt, &step, &arc, &ppl, &loss); err != nil {
			return err
		}
		if len(id) > 32 {
			id = id[:31] + "…"
		}
		st := "-"
		if step.Valid {
			st = fmt.Sprint(step.Int64)
		}
		fmt.Fprintf(out, "%-32s %-22s %-14.14s %-5s %8s %8s %9s %9s %8s\n", id, typ, recipe, size, ckpt, st, num3(ppl), num3(arc), num3(loss))
	}
	return rows.Err()
}

// runsJoinTable prints each W&B run's state and final logged train loss and
// tokens, joining wandb_runs to wandb_history.
func runsJoinTable(ctx context.Context, db *sql.DB, out io.Writer) error {
	rows, err := db.QueryContext(ctx, `SELECT r.run_id, r.state, count(h.seq) AS rows_logged,
			arg_max(h.train_loss, h.seq) FILTER (WHERE h.train_loss IS NOT NULL) AS last_loss,
			max(h.total_tokens) AS tokens, max(h.step) AS last_step
		FROM wandb_runs r LEFT JOIN wandb_history h USING (run_id)
		GROUP BY r.run_id, r.state, r.created_at ORDER BY r.created_at`)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintf(out, "\nW&B runs with their history (wandb_runs joined to wandb_history): last logged train loss and tokens:\n")
	fmt.Fprintf(out, "%-44s %-9s %5s %9s %10s %9s\n", "RUN", "STATE", "ROWS", "LAST STEP", "TRAIN LOSS", "TOKENS")
	for rows.Next() {
		var id, state string
		var n int64
		var loss, tokens sql.NullFloat64
		var step sql.NullInt64
		if err := rows.Scan(&id, &state, &n, &loss, &tokens, &step); err != nil {
			return err
		}
		if len(id) > 44 {
			id = id[:43] + "…"
		}
		f := func(v sql.NullFloat64, format string) string {
			if !v.Valid {
				return "-"
			}
			return fmt.Sprintf(format, v.Float64)
		}
		fmt.Fprintf(out, "%-44s %-9s %5d %9d %10s %9s\n", id, state, n, step.Int64, f(loss, "%.3f"), f(tokens, "%.3g"))
	}
	return rows.Err()
}

// finalStepTable prints the final-step seed mean of arc_easy_primary_metric by size and recipe.
func finalStepTable(ctx context.Context, db *sql.DB, out io.Writer) error {
	rows, err := db.QueryContext(ctx, `WITH last AS (SELECT params, data, max(step) AS step FROM pretrain_evals_mean WHERE arc_easy_primary_metric IS NOT NULL GROUP BY ALL)
		SELECT m.params, m.data, m.arc_easy_primary_metric, m.n_seeds FROM pretrain_evals_mean m JOIN last USING (params, data, step)
		JOIN pretrain_models pm USING (params) ORDER BY pm.params_numeric, m.data`)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintf(out, "\nLast evaluated step: arc_easy_primary_metric, mean over seeds (pretrain_evals_mean):\n")
	fmt.Fprintf(out, "%-6s %-24s %8s %6s\n", "SIZE", "RECIPE", "MEAN", "SEEDS")
	for rows.Next() {
		var params, data string
		var v sql.NullFloat64
		var n int64
		if err := rows.Scan(&params, &data, &v, &n); err != nil {
			return err
		}
		val := "NULL"
		if v.Valid {
			val = fmt.Sprintf("%.4f", v.Float64)
		}
		fmt.Fprintf(out, "%-6s %-24s %8s %6d\n", params, data, val, n)
	}
	return rows.Err()
}

// num3 is v with three decimals, or "-" for NULL.
func num3(v sql.NullFloat64) string {
	if !v.Valid {
		return "-"
	}
	return fmt.Sprintf("%.3f", v.Float64)
}
