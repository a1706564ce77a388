package loaders_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// sampleFolder writes a folder of every kind's files, as quickstart's,
// with a companion, a hidden file, a symbolic link and an empty file.
func sampleFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	full, mean, std := loadertest.Sample(t)
	for _, f := range []string{full, mean, std} {
		loadertest.CopyFile(t, f, filepath.Join(dir, filepath.Base(f)))
	}
	ctx := context.Background()
	spec := fixtures.SampleWandb()
	runs := fixtures.WandbRuns(spec)
	if err := fixtures.WriteRuns(ctx, filepath.Join(dir, "runs_metadata.parquet"), fixtures.RunsCanonical, runs, true); err != nil {
		t.Fatal(err)
	}
	if err := fixtures.WriteHistory(ctx, filepath.Join(dir, "runs_history.jsonl"), fixtures.HistV3, fixtures.WandbHistory(spec, runs)); err != nil {
		t.Fatal(err)
	}
	if _, err := fixtures.WritePickle(dir, fixtures.MatchedPickle); err != nil {
		t.Fatal(err)
	}
	if _, err := fixtures.WriteOLMESDump(filepath.Join(dir, "olmes"), fixtures.RunName(1), fixtures.QATasks, fixtures.QAQuestions); err != nil {
		t.Fatal(err)
	}
	loadertest.WriteFile(t, filepath.Join(dir, ".notes"), "hidden")
	loadertest.WriteFile(t, filepath.Join(dir, "empty.txt"), "")
	if err := os.Symlink("full_eval.parquet", filepath.Join(dir, "link.parquet")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// planLines is each entry of a plan as "path under dir | kind | action".
func planLines(dir string, files []*loaders.FileResult) []string {
	var out []string
	for _, r := range files {
		rel, _ := filepath.Rel(dir, r.Path)
		out = append(out, filepath.ToSlash(rel)+" | "+r.Kind+" | "+r.ActionText())
	}
	return out
}

// TestPlanAndRun: the plan of a folder lists every file in dependency
// order with its action; a dry run writes nothing; the run loads every
// file, each in a load of its own, and checks the aggregates; a second
// plan says unchanged for every load, and a second run writes nothing.
func TestPlanAndRun(t *testing.T) {
	t.Parallel()
	dir := sampleFolder(t)
	v := loadertest.NewEnv(t)
	before := v.Snapshot()
	plan, err := v.E.Plan(v.Ctx, []string{dir}, loaders.PlanOptions{Hash: true})
	if err != nil {
		t.Fatal(err)
	}
	dump := "olmes/" + fixtures.OLMESDumpDir(fixtures.RunName(1))
	want := []string{
		"full_eval.parquet | datadecide | load",
		"mean_eval.parquet | datadecide-agg | check",
		"std_eval.parquet | datadecide-agg | check",
		dump + " | qa-outputs | load",
		"runs_metadata.parquet | wandb-runs | load",
		"runs_metadata_system_metrics.parquet | wandb-runs | part of runs_metadata.parquet",
		"combined_plotting_data_matched.pkl | showntell | load",
		"runs_history.jsonl | wandb-history | load",
		".notes |  | skipped: hidden (its name starts with a dot): not walked; give its path to load it",
		"empty.txt |  | not recognised: empty file",
		"link.parquet |  | skipped: symbolic link: not followed; give its target's path to load it",
	}
	dry := loaders.DryRun(plan)
	if got := planLines(dir, dry.Files); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !dry.OK() || dry.Totals["files"] != 11 || dry.Totals["load"] != 5 || dry.Totals["check"] != 2 {
		t.Errorf("dry run totals %v", dry.Totals)
	}
	if after := v.Snapshot(); after != before {
		t.Errorf("planning wrote to the database: %s, then %s", before, after)
	}

	s, err := v.E.Run(v.Ctx, plan, loaders.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.OK() || s.Totals[loaders.ResultLoaded] != 5 || s.Totals[loaders.ResultAgrees] != 2 || s.Totals[loaders.ResultNotLoaded] != 4 {
		t.Errorf("run totals %v", s.Totals)
	}
	ids := map[int64]bool{}
	for _, r := range s.Files {
		if r.Result == loaders.ResultLoaded {
			if r.Rows == 0 || r.Load == nil || ids[r.LoadID] {
				t.Errorf("%s: rows %d, load id %d (seen: %v)", r.Path, r.Rows, r.LoadID, ids[r.LoadID])
			}
			ids[r.LoadID] = true
		}
	}
	if got := v.Scalar("SELECT string_agg(kind, ',' ORDER BY load_id) FROM dschema_loads"); got != "datadecide,qa-outputs,wandb-runs,showntell,wandb-history" {
		t.Errorf("loads in order %s", got)
	}

	loaded := v.Snapshot()
	again, err := v.E.Plan(v.Ctx, []string{dir}, loaders.PlanOptions{Hash: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range again.Entries {
		if en.Kind != "" && en.Action != loaders.ActionUnchanged && en.Action != loaders.ActionCheck && en.Action != loaders.ActionPart {
			t.Errorf("second plan: %s: %s", en.Path, en.ActionText())
		}
	}
	s, err = v.E.Run(v.Ctx, again, loaders.RunOptions{})
	if err != nil || !s.OK() || s.Totals[loaders.ResultUnchanged] != 5 || s.Totals["rows_written"] != 0 {
		t.Errorf("second run: %v, totals %v", err, s.Totals)
	}
	if after := v.Snapshot(); after != loaded {
		t.Errorf("the second run wrote: %s, then %s", loaded, after)
	}
}

// TestRunGoesOnAfterAFailure: a file that fails does not stop the others;
// its result names the place; a file of a kind that comes after it is
// still tried, and its result names the failed file; the run is not OK.
func TestRunGoesOnAfterAFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	full, _, _ := loadertest.Sample(t)
	loadertest.CopyFile(t, full, filepath.Join(dir, "full_eval.parquet"))
	wb := loadertest.WandbSample(t)
	b, err := os.ReadFile(filepath.Join(wb, "runs_v3.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(string(b), "\n")
	bad := filepath.Join(dir, "runs.jsonl")
	loadertest.WriteFile(t, bad, string(b)+"{\"exported_at\": 1, \"run\": \n")
	loadertest.CopyFile(t, filepath.Join(wb, "history_v3.jsonl"), filepath.Join(dir, "history.jsonl"))
	v := loadertest.NewEnv(t)
	plan, err := v.E.Plan(v.Ctx, []string{dir}, loaders.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := v.E.Run(v.Ctx, plan, loaders.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*loaders.FileResult{}
	for _, r := range s.Files {
		got[filepath.Base(r.Path)] = r
	}
	for _, name := range []string{"runs.jsonl", "history.jsonl", "full_eval.parquet"} {
		if got[name] == nil {
			t.Fatalf("no result for %s: the run stopped early (%d results)", name, len(s.Files))
		}
	}
	if r := got["runs.jsonl"]; r.Result != loaders.ResultFailed || r.Place != "line "+strconv.Itoa(lines+1) || !strings.Contains(r.Error, bad) {
		t.Errorf("runs.jsonl: %s at %q: %s", r.Result, r.Place, r.Error)
	}
	if r := got["history.jsonl"]; r.Result != loaders.ResultLoaded || len(r.AfterFailed) != 1 || r.AfterFailed[0] != bad {
		t.Errorf("history.jsonl: %s, after failed %v", r.Result, r.AfterFailed)
	}
	if r := got["full_eval.parquet"]; r.Result != loaders.ResultLoaded {
		t.Errorf("full_eval.parquet: %s %s", r.Result, r.Error)
	}
	if s.OK() || s.Totals[loaders.ResultFailed] != 1 || s.Totals[loaders.ResultLoaded] != 2 {
		t.Errorf("totals %v, OK %v", s.Totals, s.OK())
	}
	if n := v.Scalar("SELECT count(*) FROM wandb_runs"); n != "0" {
		t.Errorf("the failed runs file left %s wandb_runs rows", n)
	}
}

// TestPlanOfAMixedFolder: a QA folder claim does not swallow files of
// other kinds (the folder is refused as one source, and the walk plans its
// other files); a companion's name makes a file part of a main file only
// when that file is the companion kind's (a full_eval_summary.parquet
// beside a DataDecide file is planned by its own content); a second copy
// of a content the plan loads is refused, as its load would be.
func TestPlanOfAMixedFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	full, mean, _ := loadertest.Sample(t)
	loadertest.CopyFile(t, full, filepath.Join(dir, "full_eval.parquet"))
	loadertest.CopyFile(t, full, filepath.Join(dir, "zz-copy.parquet"))
	loadertest.CopyFile(t, mean, filepath.Join(dir, "full_eval_summary.parquet"))
	ctx := context.Background()
	spec := fixtures.SampleWandb()
	hist := filepath.Join(dir, "history.jsonl")
	if err := fixtures.WriteHistory(ctx, hist, fixtures.HistV3, fixtures.WandbHistory(spec, fixtures.WandbRuns(spec))); err != nil {
		t.Fatal(err)
	}
	loadertest.CopyFile(t, hist, filepath.Join(dir, "history_summary.jsonl"))
	dump, err := fixtures.WriteOLMESDump(filepath.Join(dir, "olmes"), fixtures.RunName(1), fixtures.QATasks, fixtures.QAQuestions)
	if err != nil {
		t.Fatal(err)
	}
	loadertest.CopyFile(t, filepath.Join(dump, "metrics-all.jsonl"), filepath.Join(dir, "metrics-all.jsonl"))

	v := loadertest.NewEnv(t)
	plan, err := v.E.Plan(v.Ctx, []string{dir}, loaders.PlanOptions{Hash: true})
	if err != nil {
		t.Fatal(err)
	}
	got := planLines(dir, loaders.DryRun(plan).Files)
	rel, _ := filepath.Rel(dir, dump)
	want := []string{
		"full_eval.parquet | datadecide | load",
		"zz-copy.parquet | datadecide | refused: the same content (sha256 ",
		"full_eval_summary.parquet | datadecide-agg | check",
		". | qa-outputs | refused: a qa-outputs folder that also holds files of other kinds (full_eval.parquet: datadecide, full_eval_summary.parquet: datadecide-agg, history.jsonl: wandb-history): not loaded as one source",
		filepath.ToSlash(rel) + " | qa-outputs | load",
		"history.jsonl | wandb-history | load",
		"history_summary.jsonl | wandb-history | refused: the same content (sha256 ",
		"metrics-all.jsonl |  | not recognised: JSON whose first line matches no loader",
	}
	if len(got) != len(want) {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("plan line %d = %q\nwant it to start %q", i, got[i], want[i])
		}
	}
	if s := loaders.DryRun(plan); s.OK() {
		t.Errorf("a dry run with refused files is OK: %v", s.Totals)
	}
}
