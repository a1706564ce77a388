package finetune_test

import (
	"context"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// writeRunsJSONL writes runs in the notebook JSONL layout.
func writeRunsJSONL(t *testing.T, path string, runs []*fixtures.Run) {
	t.Helper()
	if err := fixtures.WriteRuns(context.Background(), path, fixtures.RunsNotebook, runs, false); err != nil {
		t.Fatal(err)
	}
}

// withConfig is a copy of r under id, its config with the given keys set.
func withConfig(r *fixtures.Run, id string, kv ...any) *fixtures.Run {
	c := *r
	c.ID = id
	cfg := fixtures.O()
	for _, k := range r.Config.Keys() {
		v, _ := r.Config.Get(k)
		cfg.Set(k, v)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		cfg.Set(kv[i].(string), kv[i+1])
	}
	c.Config = cfg
	return &c
}

// TestFinetuneRunsKeepPickleRows: a run the modernized pickle already
// wrote to finetune_runs keeps that row when the W&B runs load comes
// after: the load skips it and says so, and derives only the others.
func TestFinetuneRunsKeepPickleRows(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	v.LoadKind("showntell", loadertest.ModernizedPickle, loaders.Options{})
	s := v.LoadKind("wandb-runs", filepath.Join(loadertest.WandbSample(t), "runs_metadata.parquet"), loaders.Options{})
	if s.Rows["finetune_runs"] != 3 {
		t.Errorf("derived %d finetune_runs rows, want 3 (6 finetune names, 3 already from the pickle)", s.Rows["finetune_runs"])
	}
	found := false
	for _, k := range s.Skipped {
		found = found || (k.Count == 3 && k.Reason == "already in finetune_runs from another source (the first source to load a row keeps it)" && strings.Contains(k.What, fixtures.RunName(5)))
	}
	if !found {
		t.Errorf("skipped = %+v, want the 3 pickle runs named", s.Skipped)
	}
	if got := v.Scalar("SELECT origin || ' ' || tokens FROM finetune_runs WHERE run_id = ?", fixtures.RunName(5)); got != "pickle 100000000000000.0" {
		t.Errorf("the pickle's row of run 5 = %s, want it kept (legacy 1e14 tokens)", got)
	}
	if got := v.Scalar("SELECT string_agg(origin, ',' ORDER BY origin) FROM (SELECT DISTINCT origin FROM finetune_runs)"); got != "pickle,run name" {
		t.Errorf("origins %s", got)
	}
}

// TestFinetuneRunsReplacedWithRunsFile: a changed runs file replaces its
// derived finetune_runs rows: a run gone from the file loses its row, a
// config change reaches the row, and every row carries the new load.
func TestFinetuneRunsReplacedWithRunsFile(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	path := filepath.Join(t.TempDir(), "runs_metadata.jsonl")
	runs := fixtures.WandbRuns(fixtures.SampleWandb())
	writeRunsJSONL(t, path, runs)
	s1 := v.LoadKind("wandb-runs", path, loaders.Options{})
	if s1.Rows["finetune_runs"] != 6 || v.Scalar("SELECT lr IS NULL FROM finetune_runs WHERE run_id = ?", fixtures.RunName(1)) != "true" {
		t.Fatalf("first load: %v", s1.Rows)
	}
	// The new version: run 2 gone, run 1's config with a learning rate.
	changed := []*fixtures.Run{runs[0], withConfig(runs[1], runs[1].ID, "learning_rate", 3e-05), runs[3], runs[4], runs[5]}
	writeRunsJSONL(t, path, changed)
	s2 := v.LoadKind("wandb-runs", path, loaders.Options{})
	if s2.ReplacedLoad != s1.LoadID || s2.Rows["finetune_runs"] != 5 {
		t.Fatalf("second load replaced %d (want %d), derived %d rows (want 5)", s2.ReplacedLoad, s1.LoadID, s2.Rows["finetune_runs"])
	}
	for q, want := range map[string]string{
		"SELECT count(*) FROM finetune_runs":                                                                                                  "5",
		"SELECT count(*) FROM finetune_runs WHERE load_id = " + strconv.FormatInt(s2.LoadID, 10):                                              "5",
		"SELECT count(*) FROM finetune_runs WHERE run_id = '" + fixtures.RunName(2) + "'":                                                     "0",
		"SELECT lr || ' ' || CAST(source->'$.filled_from_config' AS VARCHAR) FROM finetune_runs WHERE run_id = '" + fixtures.RunName(1) + "'": `3e-05 ["lr"]`,
	} {
		if got := v.Scalar(q); got != want {
			t.Errorf("%s = %s, want %s", q, got, want)
		}
	}
}

// TestLRTextAsTheConfigWroteIt: a learning rate filled from the config of
// the canonical runs parquet (which holds the config as JSON text) keeps
// the config's text in lr_text ("as the run name or record wrote it"):
// 3e-05 stays 3e-05 and 5e-07 stays 5e-07, where DuckDB's json_extract
// wrote them 0.00003 and 5e-7.
func TestLRTextAsTheConfigWroteIt(t *testing.T) {
	t.Parallel()
	runs := fixtures.WandbRuns(fixtures.SampleWandb())
	for _, tt := range []struct{ lr, want string }{
		{"3e-05", "3e-05"}, {"5e-07", "5e-07"}, {"0.00010", "0.00010"}, {"2E-5", "2E-5"}, {`"1e-4"`, "1e-4"},
	} {
		v := loadertest.NewEnv(t)
		path := filepath.Join(t.TempDir(), "runs_metadata.parquet")
		run := withConfig(runs[1], runs[1].ID, "learning_rate", fixtures.Raw(tt.lr)) // no lr in the name
		if err := fixtures.WriteRuns(context.Background(), path, fixtures.RunsCanonical, []*fixtures.Run{run}, false); err != nil {
			t.Fatal(err)
		}
		v.LoadKind("wandb-runs", path, loaders.Options{})
		if got := v.Scalar("SELECT lr_text FROM finetune_runs WHERE run_id = ?", runs[1].ID); got != tt.want {
			t.Errorf("config learning_rate %s: lr_text %s, want %s", tt.lr, got, tt.want)
		}
	}
}

// TestFinetuneRunsConfigValues: a config value that is no number to fill
// (NaN or Infinity, bare or as text) fills nothing and is named; a seed a
// BIGINT cannot hold exactly (1e30) leaves seed NULL and is named, the
// parse in source keeping its text.
func TestFinetuneRunsConfigValues(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	path := filepath.Join(t.TempDir(), "runs_metadata.jsonl")
	runs := fixtures.WandbRuns(fixtures.SampleWandb())
	nanText := "250912-172812_match_150M_c4_finetune_100Mtx1_DD-d17-530M-6250-3"
	writeRunsJSONL(t, path, []*fixtures.Run{
		withConfig(runs[1], runs[1].ID, "learning_rate", math.NaN()), // no lr in the name
		withConfig(runs[1], nanText, "learning_rate", "NaN"),
		withConfig(runs[3], runs[3].ID, "seed", 1e30), // no seed in the name
	})
	s := v.LoadKind("wandb-runs", path, loaders.Options{})
	for _, c := range []struct{ run, col, want string }{
		{fixtures.RunName(1), "lr", "NULL"},
		{fixtures.RunName(1), "lr_text", "NULL"},
		{fixtures.RunName(1), "source->'$.filled_from_config'", "NULL"},
		{nanText, "lr", "NULL"},
		{nanText, "source->'$.filled_from_config'", "NULL"},
		{fixtures.RunName(3), "seed", "NULL"},
		{fixtures.RunName(3), "source->>'$.seed'", "1e30"}, // as the config's JSON holds it
	} {
		q := "SELECT coalesce(CAST(" + c.col + " AS VARCHAR), 'NULL') FROM finetune_runs WHERE run_id = ?"
		if got := v.Scalar(q, c.run); got != c.want {
			t.Errorf("run %s: %s = %s, want %s", c.run, c.col, got, c.want)
		}
	}
	rep := loadertest.ReportText(s)
	for _, want := range []string{
		"config values with no number to fill a field the run name lacks: ",
		fixtures.RunName(1) + ": learning_rate NaN",
		nanText + `: learning_rate "NaN"`,
		fixtures.RunName(3) + `: seed text "1e30" is not a whole number a BIGINT holds`,
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("the summary lacks %q:\n%s", want, rep)
		}
	}
}
