package wandb_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
	"github.com/dschema/dschema/internal/loaders/wandb"
)

// TestRunsLayouts loads each runs layout into a fresh database and checks
// the detected layout and real values of the run that carries the quirks.
func TestRunsLayouts(t *testing.T) {
	t.Parallel()
	dir := loadertest.WandbSample(t)
	run0, run1, run3 := fixtures.RunName(0), fixtures.RunName(1), fixtures.RunName(3)
	cases := []struct {
		file, variant string
		full          bool // carries the whole config and summary
	}{
		{"runs_metadata.parquet", wandb.RunsCanonical, true},
		{"runs_metadata.jsonl", wandb.RunsNotebook, true},
		{"runs_sync.parquet", wandb.RunsSync, true},
		{"runs_v3.jsonl", wandb.RunsV3, true},
		{"runs_wide.parquet", wandb.RunsWide, false},
		{"runs_wide_project.parquet", wandb.RunsWideProject, false},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			s := v.LoadKind("wandb-runs", filepath.Join(dir, c.file), loaders.Options{})
			if s.Variant != c.variant {
				t.Fatalf("variant %q, want %q", s.Variant, c.variant)
			}
			if s.Rows["wandb_runs"] != 6 {
				t.Fatalf("rows %v, want 6 runs", s.Rows)
			}
			if got := v.Scalar("SELECT created_at::VARCHAR FROM wandb_runs WHERE run_id = ?", run0); got != "2025-08-19 05:36:01+00" {
				t.Errorf("created_at %s", got)
			}
			if got := v.Scalar("SELECT seed FROM wandb_runs WHERE run_id = ?", run3); got != "3" {
				t.Errorf("seed %s", got)
			}
			if got := v.Scalar("SELECT pretrain_compute::BIGINT FROM wandb_runs WHERE run_id = ?", run1); got != "8329297920000000" {
				t.Errorf("pretrain_compute %s", got)
			}
			if got := v.Scalar("SELECT model_size FROM wandb_runs WHERE run_id = ?", run1); got != "150M" {
				t.Errorf("model_size %s", got)
			}
			if got := v.Scalar("SELECT learning_rate IS NULL FROM wandb_runs WHERE run_id = ?", run1); got != "true" {
				t.Errorf("learning_rate of a run without one: NULL? %s", got)
			}
			if got := v.Scalar("SELECT train_loss FROM wandb_runs WHERE run_id = ?", run1); got != "2.4" {
				t.Errorf("train_loss %s", got)
			}
			if !c.full {
				return
			}
			checkWholeRun(t, v, c.variant, run0, run3)
			checkRunsReport(t, s, c.variant)
			checkRunEvals(t, v, run0)
		})
	}
}

// checkWholeRun checks the columns of run0 (and run3) that only a layout
// carrying the whole config and summary fills.
func checkWholeRun(t *testing.T, v *loadertest.Env, variant, run0, run3 string) {
	t.Helper()
	checks := map[string]string{
		"url":                         "https://wandb.ai/example-lab/ft-sweeps/runs/" + run0,
		"run_group":                   "sweep-0",
		"job_type":                    "train",
		"user_name":                   "example-user",
		"array_to_string(tags, ',')":  "dd,sft",
		"heartbeat_at::VARCHAR":       "2025-08-19 06:36:01+00",
		"max_train_steps":             "1000",
		"num_train_epochs":            "1",
		"runtime":                     "3600.5",
		"config->>'$.notes_unicode'":  "naïve café ✓ 😀",
		"config->>'$.missing_marker'": "nan",
		"config->>'$.tokenizer'":      "PreTrainedTokenizerFast(name_or_path='allenai/gpt-neox-20b', vocab_size=50280, model_max_length=2048, is_fast=True)",
		"CAST(summary->'$.huge_count' AS VARCHAR)":                             "123456789012345678901234",
		"CAST(summary->'$.throughput_peak' AS VARCHAR)":                        "Infinity",
		"isnan(CAST(config->'$.\"pretrain_eval/socialiqa/acc_7\"' AS DOUBLE))": "true",
		"json_array_length(config->'$.dataset_mixer_list')":                    "2",
	}

	if variant == wandb.RunsV3 {
		checks["history_line_count IS NULL"] = "true"
	} else {
		checks["history_line_count"] = "9"
		checks["git_commit"] = "0000000000000000000000000000000000000001"
	}
	for expr, want := range checks {
		if got := v.Scalar("SELECT "+expr+" FROM wandb_runs WHERE run_id = ?", run0); got != want {
			t.Errorf("%s = %q, want %q", expr, got, want)
		}
	}
	if got := v.Scalar("SELECT max_train_steps IS NULL FROM wandb_runs WHERE run_id = ?", run3); got != "true" {
		t.Errorf("max_train_steps 1.5 must not be cast to BIGINT: %s", got)
	}
	if got := v.Scalar("SELECT count(*) FROM wandb_runs WHERE json_type(config) = 'OBJECT' AND json_array_length(json_keys(config)) > 250"); got != "6" {
		t.Errorf("runs with their whole config: %s", got)
	}
}

// checkRunsReport checks what the load of a whole-config layout reports:
// the "nan" sweep_info, what it kept aside and the keys whose types vary.
func checkRunsReport(t *testing.T, s *loaders.Summary, variant string) {
	t.Helper()
	skipped, _ := json.Marshal(s.Skipped)
	if variant != wandb.RunsV3 && !strings.Contains(string(skipped), `{"what":"column sweep_info","count":1,"reason":"the string \"nan\" (pandas' mark of a missing value): loaded as NULL"}`) {
		t.Errorf("the \"nan\" sweep_info is not reported: %s", skipped)
	}
	kept := loadertest.KeptText(s)
	if !strings.Contains(kept, `"what":"column wandb_metadata","count":1`) {
		t.Errorf("the Python str() wandb_metadata is not reported: %s", kept)
	}
	if !strings.Contains(kept, "config.max_train_steps") || !strings.Contains(kept, "not exactly a BIGINT (e.g. 1.5)") {
		t.Errorf("kept does not report max_train_steps 1.5: %s", kept)
	}
	vary := map[string]string{}
	for _, k := range s.Varying {
		vary[k.Key] = k.String()
	}
	for key, want := range map[string]string{
		"config.model_size":         "config.model_size (integer 3, string 3)",
		"config.pretrain_compute":   "config.pretrain_compute (float 3, integer 3)",
		"config.finetune_sequences": "config.finetune_sequences (integer 3, string 3)",
		"config.num_train_epochs":   "config.num_train_epochs (float 3, integer 3)",
		"summary.learning_rate":     "summary.learning_rate (float 5, integer 1)",
	} {
		if vary[key] != want {
			t.Errorf("types vary: %q, want %q (all: %v)", vary[key], want, s.Varying)
		}
	}
	if _, ok := vary["config.seed"]; ok {
		t.Errorf("config.seed does not vary: %v", vary["config.seed"])
	}
}

// checkRunEvals checks run0's evals: flat, nested and both.
func checkRunEvals(t *testing.T, v *loadertest.Env, run0 string) {
	t.Helper()
	// Evals: flat, nested and both.
	for _, e := range []struct{ task, metric, want string }{
		{"arc_challenge", "primary_score", "0"},
		{"arc_easy", "num_instances", "1172"},
		{"boolq", "primary_score", "0.26"},
	} {
		if got := v.Scalar("SELECT value FROM wandb_run_evals WHERE run_id = ? AND task = ? AND metric = ?", run0, e.task, e.metric); got != e.want {
			t.Errorf("eval %s/%s = %s, want %s", e.task, e.metric, got, e.want)
		}
	}
	if got := v.Scalar("SELECT value_json->>'$.num_shots' FROM wandb_run_evals WHERE run_id = ? AND task = 'arc_easy' AND metric = 'task_config'", run0); got != "5" {
		t.Errorf("task_config kept: %s", got)
	}
	if got := v.Scalar("SELECT isnan(value) FROM wandb_run_evals WHERE run_id = ? AND task = 'boolq' AND metric = 'acc_per_char'", run0); got != "true" {
		t.Errorf("NaN eval: %s", got)
	}
	if got := v.Scalar("SELECT count(*) FROM wandb_run_evals WHERE run_id = ?", run0); got != "11" {
		t.Errorf("evals of run 0: %s, want 11 (2 flat, 5 nested, 2 given both ways written once, 2 flat)", got)
	}
}

var _ = math.NaN
var _ = errors.Is

// TestRunsReviewCases: what a review found lost or invented, each on a
// small file: NaN and NULL cells of a wide layout are keys the run did not
// have; v3 keeps the user object and the top-level keys; a date without a
// clock is that date in UTC; tags that are not a JSON list are reported;
// a flat result and a nested text one are one row, the nested one whole.
func TestRunsReviewCases(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	dir := t.TempDir()
	wide := filepath.Join(dir, "wide.parquet")
	v.Exec(fmt.Sprintf(`COPY (SELECT * FROM (VALUES
		('r1', 'r1', 'finished', TIMESTAMP '2025-01-01 00:00:00', 0.0, 5e-05, 'adam', 0.5, NULL::DOUBLE),
		('r2', 'r2', 'finished', TIMESTAMP '2025-01-02 00:00:00', 0.0, 'NaN'::DOUBLE, NULL, 'NaN'::DOUBLE, 0.7))
		t(run_id, run_name, state, created_at, runtime, config_learning_rate, config_opt, summary_train_loss, "summary_oe_eval_metrics/piqa/acc"))
		TO '%s' (FORMAT parquet)`, wide))
	v.LoadKind("wandb-runs", wide, loaders.Options{})
	for q, want := range map[string]string{
		"SELECT CAST(config AS VARCHAR) FROM wandb_runs WHERE run_id = 'r2'":                      "{}",
		"SELECT learning_rate IS NULL AND train_loss IS NULL FROM wandb_runs WHERE run_id = 'r2'": "true",
		"SELECT CAST(config AS VARCHAR) FROM wandb_runs WHERE run_id = 'r1'":                      `{"learning_rate":0.00005,"opt":"adam"}`,
		"SELECT count(*) FROM wandb_run_evals WHERE run_id = 'r1'":                                "0",
	} {
		if got := v.Scalar(q); got != want {
			t.Errorf("%s = %s, want %s", q, got, want)
		}
	}
	v3 := filepath.Join(loadertest.WandbSample(t), "runs_v3.jsonl")
	v.LoadKind("wandb-runs", v3, loaders.Options{})
	if got := v.Scalar("SELECT (export_extra->>'$.user.name') || ' / ' || (export_extra->>'$.exported_at') FROM wandb_runs WHERE run_id = ?", fixtures.RunName(0)); got != "Example User / 2026-02-01T10:00:00Z" {
		t.Errorf("v3 export_extra: %s", got)
	}
	nb := filepath.Join(dir, "nb.jsonl")
	loadertest.WriteFile(t, nb, `{"run_id": "d1", "run_name": "d1", "state": "finished", "project": "p", "entity": "e", "created_at": "2025-08-19", "config": {}, "summary": {"oe_eval_metrics/piqa/acc": 0.5, "oe_eval_metrics/piqa": {"acc": "0.5"}}, "wandb_metadata": {}, "system_metrics": {}, "system_attrs": {}, "sweep_info": {}}`+"\n")
	// The session's zone must not matter (it is the machine's by default).
	v.Exec("SET GLOBAL TimeZone = 'America/New_York'")
	defer v.Exec("SET GLOBAL TimeZone = 'UTC'")
	v.LoadKind("wandb-runs", nb, loaders.Options{})
	if got := v.Scalar("SELECT CAST(epoch(created_at) AS BIGINT) FROM wandb_runs WHERE run_id = 'd1'"); got != "1755561600" {
		t.Errorf("a date without a clock: %s", got)
	}
	if got := v.Scalar("SELECT coalesce(CAST(value AS VARCHAR), 'NULL') || ' ' || CAST(value_json AS VARCHAR) FROM wandb_run_evals WHERE run_id = 'd1'"); got != `NULL "0.5"` {
		t.Errorf("flat number and nested text: %s", got)
	}
	sync := filepath.Join(dir, "sync.parquet")
	v.Exec(fmt.Sprintf(`COPY (SELECT 's1' AS run_id, 's1' AS run_name, 'finished' AS state, 'p' AS project, 'e' AS entity,
		'2025-01-01T00:00:00Z' AS created_at, '2025-01-01T00:00:00Z' AS updated_at, '[''a'', ''b'']' AS tags, 'g' AS "group", 'train' AS job_type,
		'u' AS url, '{"lr": {"value": 1, "desc": null}}' AS json_config, '{}' AS raw_config, '{}' AS summary, '{}' AS wandb_metadata,
		'{}' AS system_metrics, '{}' AS system_attrs, '{}' AS sweep_info) TO '%s' (FORMAT parquet)`, sync))
	s := v.LoadKind("wandb-runs", sync, loaders.Options{})
	if b, _ := json.Marshal(s.Skipped); !strings.Contains(string(b), `"what":"column tags","count":1,"reason":"not a JSON list (e.g. \"['a', 'b']\"): tags left NULL"`) {
		t.Errorf("tags that are not a JSON list: %s", b)
	}
}
