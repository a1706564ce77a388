package finetune_test

import (
	"path/filepath"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// TestFinetuneRunsFromRunNames: loading W&B runs writes a finetune_runs row
// for every run with a finetune run name, fields from the name, LR, seed and
// epochs the name lacks from the config, real tokens from the summary.
func TestFinetuneRunsFromRunNames(t *testing.T) {
	t.Parallel()
	dir := loadertest.WandbSample(t)
	v := loadertest.NewEnv(t)
	s := v.LoadKind("wandb-runs", filepath.Join(dir, "runs_metadata.parquet"), loaders.Options{})
	if s.Rows["finetune_runs"] != 6 {
		t.Fatalf("finetune_runs rows %d, want 6", s.Rows["finetune_runs"])
	}
	q := func(col string, run int) string {
		t.Helper()
		return v.Scalar("SELECT coalesce(CAST("+col+" AS VARCHAR), 'NULL') FROM finetune_runs WHERE run_id = ?", fixtures.RunName(run))
	}
	for _, c := range []struct {
		run       int
		col, want string
	}{
		{0, "pattern_name", "FT1_PATTERN"},
		{0, "lr", "5e-07"},
		{0, "lr_text", "5e-07"},
		{0, "tokens", "1000000.0"},
		{0, "tokens_real", "1000000000.0"},
		{0, "abs_difference_tokens_pct", "99900.0"},
		{0, "checkpoint_is_main", "true"},
		{0, "checkpoint_step", "NULL"},
		{0, "started_at", "2025-08-21 08:24:43"},
		{0, "origin", "run name"},
		{1, "run_type", "matched"},
		{1, "base_recipe", "Dolma1.7"},
		{1, "base_recipe_raw", "d17"},
		{1, "checkpoint_step", "6250"},
		{1, "seed", "2"},  // from the name
		{1, "lr", "NULL"}, // neither in the name nor the config
		{1, "comparison_metric", "c4_en-valppl"},
		{2, "run_type", "dpo"},
		{3, "pattern_name", "FT5_PATTERN"},
		{3, "base_recipe", "DCLM-Baseline"},
		{3, "seed", "3"}, // from the config
		{3, "epochs", "2.0"},
		{3, "source->>'$.filled_from_config'", `["seed"]`},
		{5, "tokens", "100000000.0"},
	} {
		if got := q(c.col, c.run); got != c.want {
			t.Errorf("run %d: %s = %s, want %s", c.run, c.col, got, c.want)
		}
	}
	// A second source of the same runs derives nothing: the rows stay the
	// first source's (TestFinetuneRunsReplacedWithRunsFile checks that a
	// changed version of the same runs file replaces them).
	before := v.Scalar("SELECT count(*) FROM finetune_runs WHERE load_id = ?", s.LoadID)
	s2 := v.LoadKind("wandb-runs", filepath.Join(dir, "runs_metadata.jsonl"), loaders.Options{})
	if s2.Rows["finetune_runs"] != 0 || before != "6" {
		t.Errorf("a second source of the same runs derived %d rows (before %s)", s2.Rows["finetune_runs"], before)
	}
}
