package loaders_test

import (
	"path/filepath"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// TestFinetunePretrainMatch: the view rebuilds the matched table by the
// documented rule: the checkpoint's pretrain_evals row at seed 0 (NULL pt_
// values when there is no such step), the run's history curves with NULLs
// and NaNs dropped, its evals by legacy name.
func TestFinetunePretrainMatch(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	full, _, _ := loadertest.Sample(t)
	v.Load(full, loaders.Options{})
	dir := loadertest.WandbSample(t)
	v.LoadKind("wandb-runs", filepath.Join(dir, "runs_metadata.parquet"), loaders.Options{})
	v.LoadKind("wandb-history", filepath.Join(dir, "history_v3.jsonl"), loaders.Options{})
	// A matched run whose checkpoint the DataDecide sample has (seed 1 in
	// its name: the rule takes seed 0 all the same).
	v.Exec(`INSERT INTO finetune_runs (run_id, run_type, base_recipe, base_size, checkpoint_step, checkpoint_is_main, seed, lr_text, origin)
		VALUES ('m1', 'matched', 'Dolma1.7', '4M', 2500, false, 1, '5e-05', 'test')`)
	v.Exec(`INSERT INTO wandb_run_evals (run_id, task, metric, value) VALUES ('m1', 'core_9mcqa:rc::olmes:full', 'primary_score', 0.61),
		('m1', 'arc_easy', 'acc_uncond', 0.9), ('m1', 'arc_easy', 'correct_prob', 0.25), ('m1', 'boolq', 'acc_raw', 0.5), ('m1', 'nosuchtask', 'acc_uncond', 0.1)`)
	run1 := fixtures.RunName(1)
	for _, c := range []struct{ q, arg, want string }{
		{"SELECT count(*) FROM finetune_pretrain_match WHERE run_id = ?", "m1", "1"},
		{`SELECT pt_arc_easy_primary_metric = (SELECT arc_easy_primary_metric FROM pretrain_evals WHERE params = '4M' AND data = 'Dolma1.7' AND seed = 0 AND step = 2500)
			FROM finetune_pretrain_match WHERE run_id = ?`, "m1", "true"},
		{`SELECT "pt_c4_en-valppl" = (SELECT c4_en_valppl FROM pretrain_evals WHERE params = '4M' AND data = 'Dolma1.7' AND seed = 0 AND step = 2500)
			FROM finetune_pretrain_match WHERE run_id = ?`, "m1", "true"},
		{"SELECT pt_step || ' ' || ckpt_steps || ' ' || seed || ' ' || lr FROM finetune_pretrain_match WHERE run_id = ?", "m1", "2500 2500 1 5e-05"},
		{"SELECT ft_evals['ft_core9_full_primary_score'] FROM finetune_pretrain_match WHERE run_id = ?", "m1", "0.61"},
		// delta_ = ft − pt, for acc_uncond and correct_prob where both exist.
		{`SELECT (deltas['delta_arc_easy_acc_uncond'] = 0.9 - arc_easy_acc_uncond)::VARCHAR || ' ' || (deltas['delta_arc_easy_correct_prob'] = 0.25 - arc_easy_correct_prob)::VARCHAR || ' ' || cardinality(deltas)
			FROM finetune_pretrain_match m, pretrain_evals e WHERE m.run_id = ? AND e.params = '4M' AND e.data = 'Dolma1.7' AND e.seed = 0 AND e.step = 2500`, "m1", "true true 2"},
		{"SELECT deltas IS NULL FROM finetune_pretrain_match WHERE run_id = ?", run1, "true"}, // no checkpoint row: no deltas
		{"SELECT pt_step IS NULL AND pt_arc_easy_primary_metric IS NULL FROM finetune_pretrain_match WHERE run_id = ?", run1, "true"},
		{"SELECT CAST(ft_loss_list AS VARCHAR) FROM finetune_pretrain_match WHERE run_id = ?", run1, "[3.0, 2.9, 2.8, 2.7, 2.6, 2.5, 2.4, 2.3, 2.2]"},
		{"SELECT len(ft_steps_list) = len(ft_loss_list) FROM finetune_pretrain_match WHERE run_id = ?", run1, "true"},
		{"SELECT ft_evals['ft_arc_challenge_primary_score'] FROM finetune_pretrain_match WHERE run_id = ?", run1, "0.07"},
		{"SELECT count(*) FROM finetune_pretrain_match WHERE run_id = ?", fixtures.RunName(0), "0"}, // not a matched run
	} {
		if got := v.Scalar(c.q, c.arg); got != c.want {
			t.Errorf("%s [%s] = %s, want %s", c.q, c.arg, got, c.want)
		}
	}
}
