package showntell_test

import (
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
	"github.com/dschema/dschema/internal/loaders/showntell"
)

const modernized = loadertest.ModernizedPickle

// TestShowntellModernized: a modernized pickle loads into finetune_runs;
// runs the W&B load already derived are compared field by field, and the
// disagreements (the legacy 100Mt bug, records against frames) reported.
func TestShowntellModernized(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	v.LoadKind("wandb-runs", filepath.Join(loadertest.WandbSample(t), "runs_metadata.parquet"), loaders.Options{})
	s := v.LoadKind("showntell", modernized, loaders.Options{})
	if s.Variant != showntell.VariantModernized || s.Rows["finetune_runs"] != 1 {
		t.Fatalf("variant %q rows %v", s.Variant, s.Rows)
	}
	sweep := "250905-101010_sweep_10Mtx2_DD-d17-150M-5000-0_lr=1e-05"
	for col, want := range map[string]string{
		"origin": "pickle", "run_type": "simple_ft_vary_tokens", "lr": "1e-05", "lr_text": "1e-05", "seed": "0", "checkpoint_step": "5000",
		"checkpoint_is_main": "false", "tokens": "20000000.0", "started_at IS NULL": "true", "tokens_real IS NULL": "true",
		"source->>'$.exp_name'": "sweep",
	} {
		if got := v.Scalar("SELECT coalesce(CAST("+col+" AS VARCHAR), 'NULL') FROM finetune_runs WHERE run_id = ?", sweep); got != want {
			t.Errorf("%s = %s, want %s", col, got, want)
		}
	}
	all := strings.Join(s.Notes, "\n") + loadertest.KeptText(s)
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
// its byte.
func TestShowntellRefuses(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	data, err := os.ReadFile(modernized)
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(t.TempDir(), "trunc.pkl")
	if err := os.WriteFile(trunc, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, place, msg string }{
		{"../../pickle/testdata/system.pkl", "byte 45", "refused posix.system"},
		{trunc, "byte 2", "FRAME: length"},
	} {
		_, err := v.E.Load(v.Ctx, "showntell", c.path, loaders.Options{})
		var fe *loaders.FileError
		if !errors.As(err, &fe) || fe.Place != c.place || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("%s: %v", c.path, err)
		}
	}
	if got := v.Scalar("SELECT count(*) FROM dschema_loads"); got != "0" {
		t.Errorf("%s loads recorded", got)
	}
}

// TestShowntellMatched: the combined matched frame loads without loss:
// base columns typed, every other number by legacy name, every list as a
// curve (JSON when an element is None), other text kept; verify-style
// counts add up to rows × columns.
func TestShowntellMatched(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	s := v.LoadKind("showntell", "../../fixtures/pickles/combined_plotting_data_matched.pkl", loaders.Options{})
	if s.Variant != showntell.VariantMatched || s.Rows["finetune_matched_runs"] != 3 {
		t.Fatalf("variant %q rows %v", s.Variant, s.Rows)
	}
	// 32 columns: 19 base, 3 list columns (9 curves), 9 numeric (27 values), 1 text (in other_text).
	if got := s.Rows["finetune_matched_values"] + s.Rows["finetune_matched_curves"]; got != 36 || s.Rows["finetune_matched_curves"] != 9 {
		t.Errorf("values + curves = %d (%v)", got, s.Rows)
	}
	run1, run2, run3 := fixtures.RunName(1), fixtures.RunName(4), "250912-172812_match_150M_c4_finetune_Ft_DD-d17-530M-6250-2"
	for _, c := range []struct{ q, arg, want string }{
		{"SELECT ckpt_steps || ' ' || matched_group_id || ' ' || matched_group_name || ' ' || row_index FROM finetune_matched_runs WHERE run_id = ?", run1, "6250 0 150M_c4 0"},
		{"SELECT timestamp::VARCHAR FROM finetune_matched_runs WHERE run_id = ?", run1, "2025-09-12 17:28:12"},
		{"SELECT timestamp IS NULL AND lr IS NULL AND ft_tok_real = 1330254868 FROM finetune_matched_runs WHERE run_id = ?", run3, "true"},
		{"SELECT isnan(ft_tok_real) AND isnan(abs_difference_ft_tokens_pct) FROM finetune_matched_runs WHERE run_id = ?", run2, "true"},
		{"SELECT other_text->>'$.note' FROM finetune_matched_runs WHERE run_id = ?", run1, "first"},
		{"SELECT json_type(other_text, '$.note') FROM finetune_matched_runs WHERE run_id = ?", run2, "NULL"},
		{"SELECT value FROM finetune_matched_values WHERE run_id = ? AND name = 'pt_c4_en-valppl'", run2, "30.25"},
		{"SELECT family FROM finetune_matched_values WHERE run_id = ? AND name = 'group_avg_delta_arc_easy_acc_uncond'", run1, "group"},
		{"SELECT isnan(value) FROM finetune_matched_values WHERE run_id = ? AND name = 'pt_arc_easy_acc_raw'", run2, "true"},
		{"SELECT isnan(value) FROM finetune_matched_values WHERE run_id = ? AND name = 'ft_core9_full_primary_score'", run2, "true"},
		{"SELECT value FROM finetune_matched_values WHERE run_id = ? AND name = 'late_flag'", run2, "0"},
		{"SELECT CAST(points AS VARCHAR) FROM finetune_matched_curves WHERE run_id = ? AND name = 'ft_loss_list'", run1, "[3.0, 2.5, nan]"},
		{"SELECT CAST(points AS VARCHAR) FROM finetune_matched_curves WHERE run_id = ? AND name = 'ft_steps_list'", run3, "[]"},
		{"SELECT CAST(points_json AS VARCHAR) FROM finetune_matched_curves WHERE run_id = ? AND name = 'pt_arc_easy_acc_raw_list'", run3, "[0.1,null]"},
	} {
		if got := v.Scalar(c.q, c.arg); got != c.want {
			t.Errorf("%s = %s, want %s", c.q, got, c.want)
		}
	}
}

// TestShowntellVerify: verify agrees after a load of each pickle, and
// names a changed value, a lost row, and a field where the run-name parse
// the database holds differs from the pickle.
func TestShowntellVerify(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	matched := "../../fixtures/pickles/combined_plotting_data_matched.pkl"
	v.LoadKind("showntell", matched, loaders.Options{})
	v.LoadKind("showntell", modernized, loaders.Options{})
	vf, err := loaders.LookupVerifier("showntell")
	if err != nil {
		t.Fatal(err)
	}
	verify := func(path string) *loaders.Verification {
		t.Helper()
		got, err := vf.Verify(v.Ctx, v.DB, path, loaders.VerifyOptions{MaxExamples: 10})
		if err != nil {
			t.Fatal(err)
		}
		return got.(*loaders.Verification)
	}
	for _, p := range []string{matched, modernized} {
		if got := verify(p); !got.OK() || got.Rows == 0 {
			t.Errorf("%s after load: %+v", p, got)
		}
	}
	run1 := fixtures.RunName(1)
	v.Exec("UPDATE finetune_matched_values SET value = 0.99 WHERE run_id = ? AND name = 'ft_arc_easy_acc_raw'", run1)
	v.Exec("DELETE FROM finetune_matched_curves WHERE run_id = ? AND name = 'ft_loss_list'", run1)
	got := verify(matched)
	if got.OK() || got.Differing != 1 || got.MissingRows != 1 || len(got.Examples) != 1 || got.Examples[0].File != "0.5" || got.Examples[0].DB != "0.99" {
		t.Errorf("matched after changes: %+v", got)
	}
	// A database whose finetune_runs came from the run names: the pickle's
	// legacy 100Mt value is one of the differences named.
	w := loadertest.NewEnv(t)
	w.LoadKind("wandb-runs", filepath.Join(loadertest.WandbSample(t), "runs_metadata.parquet"), loaders.Options{})
	got2, err := vf.Verify(w.Ctx, w.DB, modernized, loaders.VerifyOptions{MaxExamples: 50})
	if err != nil {
		t.Fatal(err)
	}
	g := got2.(*loaders.Verification)
	found := false
	for _, d := range g.Examples {
		if d.Column == "finetune_runs.tokens" && strings.HasPrefix(d.Key, fixtures.RunName(5)) && d.File == "100000000000000.0" && d.DB == "100000000.0" {
			found = true
		}
	}
	if g.OK() || !found || g.MissingRows != 1 {
		t.Errorf("modernized against derived rows: %+v", g)
	}
}

// TestShowntellMessages: a refusal names the value's Python type
// (pickle.TypeName: "numpy.dtype", never a Go type), and a place the
// decoder cannot give as a byte (-1) reads "offset unknown", not "byte -1".
func TestShowntellMessages(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	dir := t.TempDir()
	unbuilt := writePickle(t, dir, "unbuilt.pkl", pyReduce{pyGlobal{"pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked"},
		pyTuple{pyGlobal{"pandas.core.arrays.categorical", "Categorical"}, pyTuple{}, nil}})
	dtype := writePickle(t, dir, "20250104_000000_modernized_run_data.pkl", modernizedPickle(record("bad", "dt", npDtype("f8", "<"))))
	for _, c := range []struct{ path, want string }{
		{unbuilt, unbuilt + ": offset unknown: a pandas Categorical never given its state (no BUILD)"},
		{dtype, dtype + ": processed_runs[0] (run bad), key dt: a numpy.dtype has no JSON form"},
	} {
		_, err := v.E.Load(v.Ctx, "showntell", c.path, loaders.Options{})
		var fe *loaders.FileError
		if !errors.As(err, &fe) || err.Error() != c.want {
			t.Errorf("Load(%s) = %v\nwant %s", filepath.Base(c.path), err, c.want)
		}
	}
	// A time zone is kept as Python's str() names it, and a dict's int
	// keys as Python's json writes them, 2**64 included; a number column
	// does not take a zone, and says it is a tzinfo.
	big64 := new(big.Int).Lsh(big.NewInt(1), 64)
	tz := writePickle(t, dir, "20250105_000000_modernized_run_data.pkl", modernizedPickle(record("zoned",
		"zone", pyTimezone(7200), "lr", pyReduce{pyGlobal{"pytz", "_p"}, pyTuple{"Europe/Paris"}},
		"by_step", pyDict{{big64, "a"}, {-1, "b"}})))
	s := v.LoadKind("showntell", tz, loaders.Options{})
	want := `{"run_id":"zoned","_run_type":"simple_ft","zone":"UTC+02:00","lr":"Europe/Paris","by_step":{"18446744073709551616":"a","-1":"b"}}`
	if got := v.Scalar("SELECT CAST(source AS VARCHAR) FROM finetune_runs WHERE run_id = 'zoned'"); got != want {
		t.Errorf("source = %s\nwant     %s", got, want)
	}
	if got := v.Scalar("SELECT lr_text || ' ' || coalesce(CAST(lr AS VARCHAR), 'NULL') FROM finetune_runs WHERE run_id = 'zoned'"); got != "Europe/Paris NULL" {
		t.Errorf("lr_text, lr = %s", got)
	}
	if rep := loadertest.ReportText(s); !strings.Contains(rep, "zoned: lr a tzinfo, not a number") {
		t.Errorf("the summary lacks the zone:\n%s", rep)
	}
}
