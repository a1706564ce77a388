package loaders_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
)

const modernized = "testdata/showntell/20250920_101500_modernized_run_data.pkl"

// TestShowntellModernized: a modernized pickle loads into finetune_runs;
// runs the W&B load already derived are compared field by field, and the
// disagreements (the legacy 100Mt bug, records against frames) reported.
func TestShowntellModernized(t *testing.T) {
	v := newEnv(t)
	v.loadKind("wandb-runs", filepath.Join(wandbSample(t), "runs_metadata.parquet"), loaders.Options{})
	s := v.loadKind("showntell", modernized, loaders.Options{})
	if s.Variant != loaders.ShowntellModernized || s.Rows["finetune_runs"] != 1 {
		t.Fatalf("variant %q rows %v", s.Variant, s.Rows)
	}
	sweep := "250905-101010_sweep_10Mtx2_DD-d17-150M-5000-0_lr=1e-05"
	for col, want := range map[string]string{
		"origin": "pickle", "run_type": "simple_ft_vary_tokens", "lr": "1e-05", "lr_text": "1e-05", "seed": "0", "checkpoint_step": "5000",
		"checkpoint_is_main": "false", "tokens": "20000000.0", "started_at IS NULL": "true", "tokens_real IS NULL": "true",
		"source->>'$.exp_name'": "sweep",
	} {
		if got := v.scalar("SELECT coalesce(CAST("+col+" AS VARCHAR), 'NULL') FROM finetune_runs WHERE run_id = ?", sweep); got != want {
			t.Errorf("%s = %s, want %s", col, got, want)
		}
	}
	all := strings.Join(s.Notes, "\n") + keptText(s)
	for _, want := range []string{
		"metadata: total_runs=7, classified_runs=4, run_types=[dpo matched simple_ft_vary_tokens], extraction_timestamp=20250920_101500",
		"1 records carry the legacy parser's 100Mt = 1e14 tokens (1e8 is right): " + fixtures.RunName(5) + ": num_finetune_tokens 1e+14 (the name says 1e+08)",
		"processed_runs and processed_dataframes disagree: " + fixtures.RunName(1) + ": initial_checkpoint_steps records 6250, frames 6000",
		fixtures.RunName(5) + ": num_finetune_tokens pickle 1e+14, run name 1e+08",
		"3 runs already have a finetune_runs row",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the summary lacks %q:\n%s", want, all)
		}
	}
}

// TestShowntellRefuses: a pickle calling os.system is refused with the
// class and byte offset, and nothing is loaded; a truncated pickle names
// its byte; the matched frame is named and not loaded yet.
func TestShowntellRefuses(t *testing.T) {
	v := newEnv(t)
	data, err := os.ReadFile(modernized)
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(t.TempDir(), "trunc.pkl")
	if err := os.WriteFile(trunc, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, place, msg string }{
		{"../pickle/testdata/system.pkl", "byte 45", "refused posix.system"},
		{trunc, "byte 2", "FRAME: length"},
		{"testdata/showntell/combined_plotting_data_matched.pkl", "", "combined matched DataFrame (1 rows × 2 columns): this dschema does not load it yet"},
	} {
		_, err := v.e.Load(v.ctx, "showntell", c.path, loaders.Options{})
		var fe *loaders.FileError
		if !errors.As(err, &fe) || fe.Place != c.place || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("%s: %v", c.path, err)
		}
	}
	if got := v.scalar("SELECT count(*) FROM dschema_loads"); got != "0" {
		t.Errorf("%s loads recorded", got)
	}
}
