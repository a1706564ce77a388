package wandb_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
	"github.com/dschema/dschema/internal/loaders/wandb"
)

// TestHistoryLayouts loads each history layout into a fresh database (runs
// loaded first) and checks real values: typed metrics, NaN, the overflow
// map, extra, duplicate steps, DPO rows, times.
func TestHistoryLayouts(t *testing.T) {
	t.Parallel()
	dir := loadertest.WandbSample(t)
	spec := fixtures.SampleWandb()
	run0, dpo := fixtures.RunName(0), fixtures.RunName(2)
	total := 0
	for _, r := range fixtures.WandbRuns(spec) {
		if r.DPO {
			total += spec.DPORows
		} else {
			total += spec.SFTRows + 1
		}
	}
	cases := []struct {
		file, variant string
		tz            string
		nanKept       bool // a logged NaN stays NaN (the canonical layout's NaN means "not logged")
		extraWandb    bool // the row's _wandb is in extra
	}{
		{"runs_history.parquet", wandb.HistCanonical, fixtures.HistorySourceTZ, false, false},
		{"history_flat.parquet", wandb.HistFlattened, "", true, false},
		{"history_scan.parquet", wandb.HistRawScan, "", true, true},
		{"history_arrays.jsonl", wandb.HistJSONLArray, "", true, true},
		{"history_metrics.parquet", wandb.HistMetricsJSON, "", true, true},
		{"history_sync.parquet", wandb.HistSync, "", true, true},
		{"history_v3.jsonl", wandb.HistV3, "", true, true},
		{"history_positional.parquet", wandb.HistPositional, "", true, false},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			v.LoadKind("wandb-runs", filepath.Join(dir, "runs_metadata.parquet"), loaders.Options{})
			s := v.LoadKind("wandb-history", filepath.Join(dir, c.file), loaders.Options{SourceTZ: c.tz})
			if s.Variant != c.variant {
				t.Fatalf("variant %q, want %q", s.Variant, c.variant)
			}
			if s.Rows["wandb_history"] != int64(total) {
				t.Fatalf("rows %v, want %d", s.Rows, total)
			}
			q := func(expr, run string, seq int) string {
				t.Helper()
				return v.Scalar("SELECT "+expr+" FROM wandb_history WHERE run_id = ? AND seq = ?", run, seq)
			}
			type check struct {
				expr string
				run  string
				seq  int
				want string
			}
			checks := []check{
				{"step", run0, 3, "300"},
				{"train_loss", run0, 1, "2.9"},
				{"total_tokens", run0, 4, "5e+06"},
				{"learning_rate", run0, 0, "5e-06"},
				{"extra_metrics['eval/loss']", run0, 3, "1.85"},
				{"extra_metrics IS NULL", run0, 1, "true"},
				{"extra->>'$.phase'", run0, 0, "warmup"},
				{"extra->>'$.samples_table.path'", run0, 0, "media/table/samples_0.table.json"},
				{"step", run0, 8, "700"},
				{"step", run0, 7, "700"},
				{"runtime", run0, 1, "25"},
				{"logged_at::VARCHAR", run0, 1, "2025-08-19 05:36:26.25+00"},
				{"logps_chosen", dpo, 5, "-125"},
				{"rewards_accuracy", dpo, 5, "0.25"},
				{"extra_metrics['rewards/chosen']", dpo, 5, "0.25"},
				{"step", dpo, 19, "19"},
			}
			if c.nanKept {
				checks = append(checks, check{"isnan(train_loss)", run0, 2, "true"})
			} else {
				checks = append(checks, check{"train_loss IS NULL", run0, 2, "true"})
			}
			if c.extraWandb {
				checks = append(checks, check{"extra->>'$._wandb.runtime'", run0, 1, "25"})
			}
			for _, ck := range checks {
				if got := q(ck.expr, ck.run, ck.seq); got != ck.want {
					t.Errorf("%s (run %.20s…, seq %d) = %q, want %q", ck.expr, ck.run, ck.seq, got, ck.want)
				}
			}
			notes := strings.Join(s.Notes, "\n")
			if !strings.Contains(notes, "4 steps were logged more than once (8 rows)") {
				t.Errorf("duplicate steps not reported: %s", notes)
			}
		})
	}
}

// TestWandbVerify: verify agrees after a load, and catches a lost row and
// a changed value in each W&B table.
func TestWandbVerify(t *testing.T) {
	t.Parallel()
	dir := loadertest.WandbSample(t)
	v := loadertest.NewEnv(t)
	runs, hist := filepath.Join(dir, "runs_metadata.parquet"), filepath.Join(dir, "history_v3.jsonl")
	v.LoadKind("wandb-runs", runs, loaders.Options{})
	v.LoadKind("wandb-history", hist, loaders.Options{})
	verify := func(kind, path string) *loaders.Verification {
		t.Helper()
		vf, err := loaders.LookupVerifier(kind)
		if err != nil {
			t.Fatal(err)
		}
		got, err := vf.Verify(v.Ctx, v.DB, path, loaders.VerifyOptions{MaxExamples: 10})
		if err != nil {
			t.Fatal(err)
		}
		return got.(*loaders.Verification)
	}
	for _, c := range []struct{ kind, path string }{{"wandb-runs", runs}, {"wandb-history", hist}} {
		if got := verify(c.kind, c.path); !got.OK() || got.Rows == 0 {
			t.Fatalf("%s after load: %+v", c.kind, got)
		}
	}
	run0 := fixtures.RunName(0)
	v.Exec("UPDATE wandb_runs SET train_loss = 9.5 WHERE run_id = ?", run0)
	v.Exec("DELETE FROM wandb_run_evals WHERE run_id = ? AND task = 'arc_easy' AND metric = 'task_config'", run0)
	v.Exec("UPDATE wandb_history SET extra_metrics = map_concat(extra_metrics, MAP {'eval/loss': 0.5::DOUBLE}) WHERE run_id = ? AND seq = 3", run0)
	v.Exec("DELETE FROM wandb_history WHERE run_id = ? AND seq = 8", run0)
	got := verify("wandb-runs", runs)
	if got.OK() || got.Differing != 1 || got.MissingRows != 1 || got.ByColumn["wandb_runs.train_loss"] != 1 {
		t.Errorf("runs: %+v", got)
	}
	if len(got.Examples) != 1 || got.Examples[0].File != "2.5" || got.Examples[0].DB != "9.5" {
		t.Errorf("runs examples: %+v", got.Examples)
	}
	got = verify("wandb-history", hist)
	if got.OK() || got.Differing != 1 || got.MissingRows != 1 || got.ByColumn["wandb_history.extra_metrics"] != 1 {
		t.Errorf("history: %+v", got)
	}
}

// TestWandbBadInput: a malformed JSONL line and a truncated parquet are
// errors naming the file and the place, and nothing is loaded.
func TestWandbBadInput(t *testing.T) {
	t.Parallel()
	dir := loadertest.WandbSample(t)
	tmp := t.TempDir()
	good, err := os.ReadFile(filepath.Join(dir, "history_v3.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(good), "\n")
	lines[6] = lines[6][:len(lines[6])/2] + "\n" // line 7 cut in the middle
	badJSONL := filepath.Join(tmp, "history_bad.jsonl")
	loadertest.WriteFile(t, badJSONL, strings.Join(lines, ""))
	runsGood, err := os.ReadFile(filepath.Join(dir, "runs_v3.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	rl := strings.SplitAfter(string(runsGood), "\n")
	rl[2] = "{\"exported_at\": \"x\", \"run\": {\"run_id\": \"r\", NaN}}\n"
	badRuns := filepath.Join(tmp, "runs_bad.jsonl")
	loadertest.WriteFile(t, badRuns, strings.Join(rl, ""))
	pq, err := os.ReadFile(filepath.Join(dir, "history_flat.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(tmp, "history_trunc.parquet")
	loadertest.WriteFile(t, truncated, string(pq[:len(pq)*2/3]))
	unknown := filepath.Join(tmp, "history.csv")
	loadertest.WriteFile(t, unknown, "run_id,step\nx,1\n")
	odd := filepath.Join(tmp, "odd.jsonl")
	loadertest.WriteFile(t, odd, "{\"name\": \"x\", \"value\": 1}\n")

	for _, c := range []struct {
		kind, path, place, msg string
	}{
		{"wandb-history", badJSONL, "line 7", "malformed JSON"},
		{"wandb-runs", badRuns, "line 3", "malformed JSON"},
		{"wandb-history", truncated, "", "not a readable parquet file"},
		{"wandb-runs", truncated, "", "not a readable parquet file"},
		{"wandb-history", unknown, "", "neither parquet"},
		{"wandb-runs", odd, "line 1", "unknown runs JSONL layout; expected objects with the keys run_id, run_name"},
		{"wandb-history", odd, "line 1", "unknown history JSONL layout"},
		{"wandb-runs", filepath.Join(dir, "history_flat.parquet"), "", "unknown runs layout; expected one of"},
	} {
		t.Run(filepath.Base(c.path)+"/"+c.kind, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			_, err := v.E.Load(v.Ctx, c.kind, c.path, loaders.Options{})
			var fe *loaders.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("want a FileError, got %v", err)
			}
			if fe.Path != c.path || fe.Place != c.place || !strings.Contains(fe.Msg, c.msg) {
				t.Errorf("got path %q place %q msg %q; want %q, %q, …%s…", fe.Path, fe.Place, fe.Msg, c.path, c.place, c.msg)
			}
			for _, tb := range []string{"wandb_runs", "wandb_run_evals", "wandb_history", "dschema_loads"} {
				if n := v.Scalar("SELECT count(*) FROM " + tb); n != "0" {
					t.Errorf("%s has %s rows after a failed load", tb, n)
				}
			}
		})
	}
}

// TestWandbReloadAndReplace: loading the same content again changes
// nothing; a changed file replaces exactly its rows; history of a run that
// wandb_runs lacks is loaded and reported; runs another source loaded stay
// its own; companions merge into the runs file's rows.
func TestWandbReloadAndReplace(t *testing.T) {
	t.Parallel()
	dir := loadertest.WandbSample(t)
	v := loadertest.NewEnv(t)
	tmp := t.TempDir()
	hist := filepath.Join(tmp, "history.jsonl")
	data, err := os.ReadFile(filepath.Join(dir, "history_v3.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	loadertest.WriteFile(t, hist, string(data))
	s1 := v.LoadKind("wandb-history", hist, loaders.Options{})
	if !strings.Contains(strings.Join(s1.Notes, "\n"), "history of 6 runs not in wandb_runs") {
		t.Errorf("unknown runs not reported: %v", s1.Notes)
	}
	s2 := v.LoadKind("wandb-history", hist, loaders.Options{})
	if !s2.Unchanged || s2.LoadID != s1.LoadID {
		t.Fatalf("reload: %+v", s2)
	}
	// Drop the last run's rows: the new version replaces the old rows exactly.
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	last := fixtures.RunName(5)
	var kept []string
	for _, l := range lines {
		if !strings.Contains(l, last) {
			kept = append(kept, l)
		}
	}
	loadertest.WriteFile(t, hist, strings.Join(kept, "")+"\n")
	s3 := v.LoadKind("wandb-history", hist, loaders.Options{})
	if s3.ReplacedLoad != s1.LoadID || s3.Removed["wandb_history"] != s1.Rows["wandb_history"] || s3.Rows["wandb_history"] != s1.Rows["wandb_history"]-20 {
		t.Errorf("replace: %+v (first %+v)", s3, s1.Rows)
	}
	if got := v.Scalar("SELECT count(*) FROM wandb_history WHERE run_id = ?", last); got != "0" {
		t.Errorf("rows of the dropped run: %s", got)
	}
	// Another source with the same runs: left to the first.
	s4 := v.LoadKind("wandb-history", filepath.Join(dir, "history_flat.parquet"), loaders.Options{})
	if s4.Rows["wandb_history"] != 20 || len(s4.Skipped) != 1 || s4.Skipped[0].Count != 5 {
		t.Errorf("second source: rows %v skipped %+v", s4.Rows, s4.Skipped)
	}

	// The same with JSON lines (read in Go) after JSON lines of five of
	// their six runs.
	w := loadertest.NewEnv(t)
	w.LoadKind("wandb-history", hist, loaders.Options{})
	if s := w.LoadKind("wandb-history", filepath.Join(dir, "history_v3.jsonl"), loaders.Options{}); len(s.Skipped) != 1 || s.Skipped[0].Count != 5 || s.Rows["wandb_history"] != 20 {
		t.Errorf("JSON lines after five of their runs: rows %v skipped %+v", s.Rows, s.Skipped)
	}

	// Companions: system_metrics comes from runs_metadata_system_metrics.parquet.
	split := filepath.Join(dir, "split", "runs_metadata.parquet")
	s5 := v.LoadKind("wandb-runs", split, loaders.Options{})
	if len(s5.Companions) != 1 || s5.Rows["wandb_runs"] != 6 {
		t.Fatalf("companions: %+v", s5)
	}
	if got := v.Scalar("SELECT system_metrics->>'$.cpu' FROM wandb_runs WHERE run_id = ?", fixtures.RunName(0)); got != "3.25" {
		t.Errorf("system_metrics from the companion: %s", got)
	}
	comp := v.LoadKind("wandb-runs", filepath.Join(dir, "split", "runs_metadata_system_metrics.parquet"), loaders.Options{})
	if comp.CompanionOf != split || comp.LoadID != 0 {
		t.Errorf("companion alone: %+v", comp)
	}
	// The same runs from another layout are left to the first source.
	s6 := v.LoadKind("wandb-runs", filepath.Join(dir, "runs_v3.jsonl"), loaders.Options{})
	if s6.Rows["wandb_runs"] != 0 || len(s6.Skipped) != 1 || s6.Skipped[0].Count != 6 {
		t.Errorf("second runs source: %+v", s6)
	}
	// Strict refuses what would be kept aside.
	_, err = v.E.Load(v.Ctx, "wandb-runs", filepath.Join(dir, "runs_metadata.parquet"), loaders.Options{Strict: true})
	if err == nil || !strings.Contains(err.Error(), "--strict: ") || !strings.Contains(err.Error(), "config.max_train_steps (not exactly a BIGINT") {
		t.Errorf("strict: %v", err)
	}
}

// TestHistoryOddValues: a typed key holding text, a key logged as null, a
// number too big for a double, metrics that are not an object and extra
// row data all land somewhere, by name.
func TestHistoryOddValues(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	p := filepath.Join(t.TempDir(), "odd.jsonl")
	loadertest.WriteFile(t, p, `{"run_id": "r", "step": 0, "timestamp": "1.5", "runtime": 1, "wandb_metadata": null, "metrics": {"learning_rate": "n/a", "train_loss": null, "grad": 1e400, "big": 123456789012345678901234, "s": "x", "q\"k": 2}, "extra": {"_custom": 1}}
{"run_id": "r", "step": 1, "timestamp": "2.5", "runtime": 2, "wandb_metadata": {}, "metrics": {}, "extra": {}}
`)
	s := v.LoadKind("wandb-history", p, loaders.Options{})
	if s.Variant != wandb.HistV3 || s.Rows["wandb_history"] != 2 {
		t.Fatalf("%+v", s)
	}
	for _, c := range []struct{ expr, want string }{
		{"learning_rate IS NULL AND train_loss IS NULL", "true"},
		{"extra->>'$.learning_rate'", "n/a"},
		{"json_type(extra, '$.train_loss')", "NULL"},
		{"extra->>'$.s'", "x"},
		{"extra->>'$._custom'", "1"},
		{"CAST(extra->'$.grad' AS VARCHAR)", "1e400"},
		{"extra->>'$.big'", "123456789012345678901234"},
		{"extra_metrics['big'] IS NULL", "true"},
		{`extra_metrics['q"k']`, "2"},
		{"logged_at::VARCHAR", "1970-01-01 00:00:01.5+00"},
	} {
		if got := v.Scalar("SELECT " + c.expr + " FROM wandb_history WHERE seq = 0"); got != c.want {
			t.Errorf("%s = %q, want %q", c.expr, got, c.want)
		}
	}
	if got := v.Scalar("SELECT coalesce(CAST(extra AS VARCHAR), '-') || ' ' || coalesce(CAST(extra_metrics AS VARCHAR), '-') FROM wandb_history WHERE seq = 1"); got != `{"_wandb":{}} -` {
		t.Errorf("empty metrics: %s", got)
	}
	// Metrics that are not an object: the line is named, nothing loaded.
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	loadertest.WriteFile(t, bad, `{"run_id": "r", "step": 0, "timestamp": "1.5", "runtime": 1, "wandb_metadata": null, "metrics": {"a": 1}, "extra": {}}
{"run_id": "r", "step": 1, "timestamp": "2.5", "runtime": 2, "wandb_metadata": {}, "metrics": [1, 2], "extra": {}}
`)
	_, err := v.E.Load(v.Ctx, "wandb-history", bad, loaders.Options{})
	var fe *loaders.FileError
	if !errors.As(err, &fe) || fe.Place != "line 2" || !strings.Contains(fe.Msg, "not the layout's shape") {
		t.Errorf("metrics that are not an object: %v", err)
	}
	if got := v.Scalar("SELECT count(*) FROM wandb_history WHERE load_id <> ?", s.LoadID); got != "0" {
		t.Errorf("a refused load wrote %s rows", got)
	}
}

// TestHistoryRefusesWhatItCannotPlace: what the layouts have no place for,
// or cannot read exactly, is an error naming the place; nothing is loaded.
func TestHistoryRefusesWhatItCannotPlace(t *testing.T) {
	t.Parallel()
	row := func(extra string) string {
		return `{"run_id": "r", "step": 1, "timestamp": "1.5", "runtime": 1, "wandb_metadata": null, "metrics": {"a": 1}, "extra": {}` + extra + "}\n"
	}
	for _, c := range []struct {
		name, data, place, msg string
	}{
		{"unknown key", row("") + row(`, "run_name": "r"`), "line 2", `key "run_name" is not one of run_id, step`},
		{"fractional step", row("") + `{"run_id": "r", "step": 1.5, "timestamp": "1.5", "runtime": 1, "metrics": {}, "extra": {}}` + "\n", "", "run r: step 1.5 is not a whole number"},
		{"timestamp not a time", `{"run_id": "r", "step": 1, "timestamp": "soon", "runtime": 1, "metrics": {}, "extra": {}}` + "\n", "", "run r: timestamp soon is not a time"},
		{"no run_id", `{"run_id": null, "step": 3, "timestamp": "1.5", "runtime": 1, "metrics": {}, "extra": {}}` + "\n", "", "a row without a run_id (step 3)"},
		{"key in metrics and extra", `{"run_id": "r", "step": 1, "timestamp": "1.5", "runtime": 1, "metrics": {"note": "x"}, "extra": {"note": "y"}}` + "\n", "", "a key is both a non-numeric metric and other row data"},
		{"array line not an array", `[{"run_id": "r", "step": 0, "timestamp": 1.5, "runtime": 1, "metrics": {}}]` + "\n" + `{"run_id": "r"}` + "\n", "", "record 2 is a JSON object, not an array of rows"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			p := filepath.Join(t.TempDir(), "h.jsonl")
			loadertest.WriteFile(t, p, c.data)
			_, err := v.E.Load(v.Ctx, "wandb-history", p, loaders.Options{})
			var fe *loaders.FileError
			if !errors.As(err, &fe) || fe.Place != c.place || !strings.Contains(fe.Msg, c.msg) {
				t.Fatalf("Load = %v; want place %q, %q", err, c.place, c.msg)
			}
			if got := v.Scalar("SELECT count(*) FROM wandb_history"); got != "0" {
				t.Errorf("%s rows loaded", got)
			}
		})
	}
}

// TestHistoryExactValues: ISO times, a NaN step, whole steps written as
// floats, an array element's other keys, a 40-digit integer, and rows tied
// in time, step and runtime (verify agrees right after the load).
func TestHistoryExactValues(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	dir := t.TempDir()
	rows := filepath.Join(dir, "rows.jsonl")
	var b strings.Builder
	b.WriteString(`{"run_id": "r", "step": 2.0, "timestamp": "2025-08-19T05:36:01Z", "runtime": 1, "wandb_metadata": null, "metrics": {"big": 1234567890123456789012345678901234567890}, "extra": {}}` + "\n")
	b.WriteString(`{"run_id": "r", "step": NaN, "timestamp": "2025-08-19 05:36:02", "runtime": 2, "wandb_metadata": null, "metrics": {"a": 1}, "extra": {}}` + "\n")
	for i := 0; i < 50; i++ { // fifty rows equal in time, step and runtime, different metrics
		fmt.Fprintf(&b, `{"run_id": "t", "step": 5, "timestamp": "9.5", "runtime": 1, "wandb_metadata": null, "metrics": {"v": %d}, "extra": {}}`+"\n", i)
	}
	loadertest.WriteFile(t, rows, b.String())
	s := v.LoadKind("wandb-history", rows, loaders.Options{})
	if s.Rows["wandb_history"] != 52 {
		t.Fatalf("rows %v", s.Rows)
	}
	for _, c := range []struct{ q, want string }{
		{"SELECT step FROM wandb_history WHERE run_id = 'r' AND seq = 0", "2"},
		{"SELECT logged_at::VARCHAR FROM wandb_history WHERE run_id = 'r' AND seq = 0", "2025-08-19 05:36:01+00"},
		{"SELECT CAST(extra->'$.big' AS VARCHAR) FROM wandb_history WHERE run_id = 'r' AND seq = 0", "1234567890123456789012345678901234567890"},
		{"SELECT step IS NULL FROM wandb_history WHERE run_id = 'r' AND seq = 1", "true"},
		{"SELECT logged_at::VARCHAR FROM wandb_history WHERE run_id = 'r' AND seq = 1", "2025-08-19 05:36:02+00"},
	} {
		if got := v.Scalar(c.q); got != c.want {
			t.Errorf("%s = %s, want %s", c.q, got, c.want)
		}
	}
	if !strings.Contains(loadertest.KeptText(s), `"what":"rows without a step","count":1`) {
		t.Errorf("the NaN step is not reported: %s", loadertest.KeptText(s))
	}
	vf, _ := loaders.LookupVerifier("wandb-history")
	got, err := vf.Verify(v.Ctx, v.DB, rows, loaders.VerifyOptions{})
	if err != nil || !got.OK() {
		t.Errorf("verify right after the load: %+v %v", got, err)
	}
	arrays := filepath.Join(dir, "arrays.jsonl")
	loadertest.WriteFile(t, arrays, `[{"run_id": "a", "step": 0, "timestamp": 1.5, "runtime": 1, "metrics": {"x": 1}, "run_name": "alpha", "extra": {"k": 1}}]`+"\n")
	v.LoadKind("wandb-history", arrays, loaders.Options{})
	if got := v.Scalar("SELECT extra->>'$.run_name' || ' ' || CAST(extra->'$.extra' AS VARCHAR) FROM wandb_history WHERE run_id = 'a'"); got != `alpha {"k":1}` {
		t.Errorf("an array element's other keys: %s", got)
	}
}

// TestHistoryValuesDuckDBWouldChange: values DuckDB's JSON reader or its
// sort would store as something else are kept as written, or the file is
// refused naming the line and the value: a typed key logged as null (kept
// in extra as null, like any other key), an integer one below HUGEINT's
// end (no double holds it: extra, not a failed load), a runtime of -0.0
// (the sign kept), and a number too small for a double (refused: the
// reader would store 0).
func TestHistoryValuesDuckDBWouldChange(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	p := filepath.Join(t.TempDir(), "h.jsonl")
	loadertest.WriteFile(t, p, `{"run_id": "r", "step": 0, "timestamp": "1.5", "runtime": -0.0, "wandb_metadata": null, "metrics": {"train_loss": null, "e": 170141183460469231731687303715884105727, "f": 1e-300}, "extra": {}}
{"run_id": "r", "step": 1, "timestamp": "2.5", "runtime": 1, "wandb_metadata": null, "metrics": {"train_loss": 2}, "extra": {}}
`)
	v.LoadKind("wandb-history", p, loaders.Options{})
	for _, c := range []struct{ expr, want string }{
		{"json_exists(extra, '$.train_loss') AND json_type(extra, '$.train_loss') = 'NULL'", "true"},
		{"train_loss IS NULL", "true"},
		{"CAST(extra->'$.e' AS VARCHAR)", "170141183460469231731687303715884105727"},
		{"extra_metrics['e'] IS NULL", "true"},
		{"extra_metrics['f'] = 1e-300", "true"},
		{"CAST(runtime AS VARCHAR)", "-0.0"},
	} {
		if got := v.Scalar("SELECT " + c.expr + " FROM wandb_history WHERE seq = 0"); got != c.want {
			t.Errorf("%s = %q, want %q", c.expr, got, c.want)
		}
	}
	if got := v.Verify("wandb-history", p); !got.OK() {
		t.Errorf("verify: %+v", got)
	}
	for _, c := range []struct{ name, line, literal, place string }{
		{"metric", `{"run_id": "u", "step": 0, "timestamp": "1.5", "runtime": 1, "metrics": {"a": 1e-400}, "extra": {}}`, "1e-400", "line 2 (byte 78)"},
		{"nested in extra", `{"run_id": "u", "step": 0, "timestamp": "1.5", "runtime": 1, "metrics": {}, "extra": {"k": [1, {"x": -2.5E-350}]}}`, "-2.5E-350", "line 2 (byte 101)"},
		{"runtime", `{"run_id": "u", "step": 0, "timestamp": "1.5", "runtime": 0.1e-323, "metrics": {}, "extra": {}}`, "0.1e-323", "line 2 (byte 58)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			p := filepath.Join(t.TempDir(), "u.jsonl")
			loadertest.WriteFile(t, p, `{"run_id": "u", "step": 1, "timestamp": "1.5", "runtime": 1, "metrics": {"b": 0e-999, "c": 4.9e-324}, "extra": {}}`+"\n"+c.line+"\n")
			v.LoadFails("wandb-history", p, loaders.Options{}, c.place, "the number "+c.literal+" is too small for a double")
		})
	}
}
