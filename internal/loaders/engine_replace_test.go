package loaders_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// TestAnotherZoneReplaces: the same content loaded with another
// --source-tz is a new version of the source (its times differ): it
// replaces the first load; the same content with the same zone changes
// nothing.
func TestAnotherZoneReplaces(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	p := filepath.Join(t.TempDir(), "runs_history.parquet")
	v.CanonicalHistory(p, "2025-08-19 05:36:01", "2025-08-19 05:37:01")
	ny := loaders.Options{SourceTZ: "America/New_York"}
	first := v.LoadKind("wandb-history", p, loaders.Options{})
	for i, c := range []struct {
		opts      loaders.Options
		unchanged bool
		first     string // logged_at of seq 0, UTC
	}{
		{ny, false, "2025-08-19 09:36:01+00"},
		{ny, true, "2025-08-19 09:36:01+00"},
		{loaders.Options{}, false, "2025-08-19 05:36:01+00"},
	} {
		prev := v.Scalar("SELECT max(load_id) FROM dschema_loads")
		s := v.LoadKind("wandb-history", p, c.opts)
		if s.Unchanged != c.unchanged || (!c.unchanged && fmt.Sprint(s.ReplacedLoad) != prev) {
			t.Errorf("load %d (zone %q): unchanged %v, replaced load %d; want unchanged %v, replacing load %s", i+2, c.opts.SourceTZ, s.Unchanged, s.ReplacedLoad, c.unchanged, prev)
		}
		if got := v.Scalar("SELECT logged_at::VARCHAR FROM wandb_history WHERE seq = 0"); got != c.first {
			t.Errorf("load %d (zone %q): logged_at %s, want %s", i+2, c.opts.SourceTZ, got, c.first)
		}
		if got := v.Scalar("SELECT count(*) FROM wandb_history"); got != "2" {
			t.Errorf("load %d: %s rows, want 2", i+2, got)
		}
	}
	if first.LoadID != 1 {
		t.Errorf("first load id %d", first.LoadID)
	}
}

// TestReplacementRemovesDerivedRows: a new version of a runs file replaces
// the finetune_runs rows the old version derived, not only its wandb_runs.
func TestReplacementRemovesDerivedRows(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	p := filepath.Join(t.TempDir(), "runs.jsonl")
	data, err := os.ReadFile(filepath.Join(loadertest.WandbSample(t), "runs_metadata.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	loadertest.WriteFile(t, p, string(data))
	s1 := v.LoadKind("wandb-runs", p, loaders.Options{})
	if s1.Rows["finetune_runs"] != 6 {
		t.Fatalf("first load derived %d finetune_runs rows, want 6", s1.Rows["finetune_runs"])
	}
	last := fixtures.RunName(5)
	var kept []string
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if !strings.Contains(l, last) {
			kept = append(kept, l)
		}
	}
	loadertest.WriteFile(t, p, strings.Join(kept, ""))
	s2 := v.LoadKind("wandb-runs", p, loaders.Options{})
	if s2.ReplacedLoad != s1.LoadID || s2.Removed["finetune_runs"] != 6 || s2.Rows["finetune_runs"] != 5 {
		t.Errorf("replacement: replaced %d, removed %v, written %v; want load %d replaced, 6 finetune_runs removed, 5 written", s2.ReplacedLoad, s2.Removed, s2.Rows, s1.LoadID)
	}
	if got := v.Scalar("SELECT count(*) || ' ' || count(*) FILTER (WHERE load_id = ?) || ' ' || count(*) FILTER (WHERE run_id = ?) FROM finetune_runs", s1.LoadID, last); got != "5 0 0" {
		t.Errorf("finetune_runs: rows, of the old load, of the dropped run = %s, want 5 0 0", got)
	}
}

// TestRunsHashCoversCompanions: a runs load's sha256 covers its
// runs_metadata_<component>.parquet companions: a changed companion is a
// changed source (replaced), an unchanged one is not.
func TestRunsHashCoversCompanions(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	dir := t.TempDir()
	split := filepath.Join(loadertest.WandbSample(t), "split")
	main, comp := filepath.Join(dir, "runs_metadata.parquet"), filepath.Join(dir, "runs_metadata_system_metrics.parquet")
	loadertest.CopyFile(t, filepath.Join(split, "runs_metadata.parquet"), main)
	loadertest.CopyFile(t, filepath.Join(split, "runs_metadata_system_metrics.parquet"), comp)
	s1 := v.LoadKind("wandb-runs", main, loaders.Options{})
	if len(s1.Companions) != 1 || s1.Companions[0] != comp {
		t.Fatalf("companions %v", s1.Companions)
	}
	if s := v.LoadKind("wandb-runs", main, loaders.Options{}); !s.Unchanged {
		t.Errorf("the same files again: %+v", s)
	}
	run0 := fixtures.RunName(0)
	changed := filepath.Join(dir, "changed.parquet")
	v.Exec(fmt.Sprintf(`COPY (SELECT * REPLACE (CASE WHEN run_id = '%s' THEN '{"cpu": 9.75}' ELSE system_metrics END AS system_metrics)
		FROM read_parquet('%s')) TO '%s' (FORMAT parquet)`, run0, comp, changed))
	if err := os.Rename(changed, comp); err != nil {
		t.Fatal(err)
	}
	s2 := v.LoadKind("wandb-runs", main, loaders.Options{})
	if s2.Unchanged || s2.ReplacedLoad != s1.LoadID || s2.SHA256 == s1.SHA256 {
		t.Errorf("a changed companion: unchanged %v, replaced %d, sha256 %s (was %s)", s2.Unchanged, s2.ReplacedLoad, s2.SHA256, s1.SHA256)
	}
	if got := v.Scalar("SELECT system_metrics->>'$.cpu' FROM wandb_runs WHERE run_id = ?", run0); got != "9.75" {
		t.Errorf("system_metrics after the changed companion: %s", got)
	}
}

// sampleRuns is the W&B sample's runs_metadata.jsonl, its lines (one a
// run, at least three), and the same runs with the first two swapped (the
// same size, another content).
func sampleRuns(t *testing.T) (original string, lines []string, swapped string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(loadertest.WandbSample(t), "runs_metadata.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines = strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("%d runs in the sample", len(lines))
	}
	return string(data), lines, lines[1] + lines[0] + strings.Join(lines[2:], "") + "\n"
}

// TestHashBesideTheLoad: the engine hashes a source before the load only
// when a current load of its kind has its size (it may then be unchanged
// or loaded elsewhere); otherwise the hash is read beside the load. Either
// way the load records the content's sha256, and unchanged, elsewhere and
// replaced sources are told apart as before.
func TestHashBesideTheLoad(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	dir := t.TempDir()
	original, lines, swapped := sampleRuns(t)
	p, q := filepath.Join(dir, "runs.jsonl"), filepath.Join(dir, "copy.jsonl")
	fewer := strings.Join(lines[1:], "") + "\n" // one run fewer
	loadertest.WriteFile(t, q, original)
	for i, c := range []struct {
		path, content string
		before        bool   // hashed before the load
		outcome       string // written, unchanged, elsewhere
		replaced      int64
	}{
		{p, original, false, "written", 0},
		{p, original, true, "unchanged", 0},
		{q, original, true, "elsewhere", 0},
		{p, swapped, true, "written", 1},
		{p, fewer, false, "written", 2},
		{q, original, false, "written", 0}, // load 1, of that size, was replaced
		{q, original, true, "unchanged", 0},
	} {
		if c.path == p {
			loadertest.WriteFile(t, p, c.content)
		}
		hashedBefore := false
		s, err := v.E.Load(v.Ctx, "wandb-runs", c.path, loaders.Options{HashProgress: func(_, _ int64) { hashedBefore = true }})
		want := fmt.Sprintf("%x", sha256.Sum256([]byte(c.content)))
		outcome := "written"
		switch {
		case err != nil && strings.Contains(err.Error(), "is already loaded from"):
			outcome = "elsewhere"
		case err != nil:
			t.Fatalf("load %d: %v", i+1, err)
		case s.Unchanged:
			outcome = "unchanged"
		}
		if hashedBefore != c.before || outcome != c.outcome {
			t.Errorf("load %d of %s: hashed before %v, %s; want %v, %s", i+1, filepath.Base(c.path), hashedBefore, outcome, c.before, c.outcome)
		}
		if outcome != "written" {
			continue
		}
		if s.SHA256 != want || s.ReplacedLoad != c.replaced {
			t.Errorf("load %d: sha256 %s, replaced %d; want %s, %d", i+1, s.SHA256, s.ReplacedLoad, want, c.replaced)
		}
		if got := v.Scalar("SELECT sha256 || ' ' || size_bytes FROM dschema_loads WHERE load_id = ?", s.LoadID); got != fmt.Sprintf("%s %d", want, len(c.content)) {
			t.Errorf("load %d recorded %s, want %s %d", i+1, got, want, len(c.content))
		}
	}
}

// TestHashedSizeIsTheContents: the size a load records is the bytes its
// hash read, so a file that grew while it was hashed is recorded with the
// size of the content its hash is of, and a copy of that content is still
// found loaded elsewhere (sizeSeen decides on the recorded sizes). A
// current load without a recorded size makes every source of its kind be
// hashed first; a folder source (QA outputs) is hashed beside its first
// load and unchanged on the second.
func TestHashedSizeIsTheContents(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	dir := t.TempDir()
	original, lines, swapped := sampleRuns(t)
	// One more run, appended while p is hashed.
	more := strings.ReplaceAll(lines[0], fixtures.RunName(0), fixtures.RunName(40))
	grown := original + more
	seed, p, q := filepath.Join(dir, "seed.jsonl"), filepath.Join(dir, "runs.jsonl"), filepath.Join(dir, "copy.jsonl")
	loadertest.WriteFile(t, seed, swapped) // p's size: p is hashed first
	loadertest.WriteFile(t, p, original)
	loadertest.WriteFile(t, q, grown)
	v.LoadKind("wandb-runs", seed, loaders.Options{})
	grew := false
	s, err := v.E.Load(v.Ctx, "wandb-runs", p, loaders.Options{HashProgress: func(_, _ int64) {
		if !grew {
			grew = true
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err == nil {
				_, err = f.WriteString(more)
				f.Close()
			}
			if err != nil {
				t.Error(err)
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%x %d", sha256.Sum256([]byte(grown)), len(grown))
	if got := v.Scalar("SELECT sha256 || ' ' || size_bytes FROM dschema_loads WHERE load_id = ?", s.LoadID); !grew || got != want || s.SizeBytes != int64(len(grown)) {
		t.Errorf("a file grown while hashed: recorded %s (summary %d bytes), want %s", got, s.SizeBytes, want)
	}
	if _, err := v.E.Load(v.Ctx, "wandb-runs", q, loaders.Options{}); err == nil || !strings.Contains(err.Error(), "is already loaded from "+p) {
		t.Errorf("a copy of the grown content: %v, want it refused as loaded from %s", err, p)
	}

	// A load without a recorded size: any size may be its content's.
	v.Exec("UPDATE dschema_loads SET size_bytes = NULL WHERE source = ?", seed)
	r := filepath.Join(dir, "fewer.jsonl")
	loadertest.WriteFile(t, r, strings.Join(lines[2:], "")+"\n")
	hashedFirst := false
	if _, err := v.E.Load(v.Ctx, "wandb-runs", r, loaders.Options{HashProgress: func(_, _ int64) { hashedFirst = true }}); err != nil || !hashedFirst {
		t.Errorf("with a load of no recorded size: %v, hashed first %v; want hashed first", err, hashedFirst)
	}

	qaDir := filepath.Join(dir, "qa")
	if err := fixtures.WriteQAExtracted(qaDir, fixtures.SampleQACheckpoints()[:1], fixtures.QATasks[:1], 3); err != nil {
		t.Fatal(err)
	}
	for i, wantFirst := range []bool{false, true} {
		hashedFirst := false
		s, err := v.E.Load(v.Ctx, "qa-outputs", qaDir, loaders.Options{HashProgress: func(_, _ int64) { hashedFirst = true }})
		if err != nil {
			t.Fatal(err)
		}
		if hashedFirst != wantFirst || s.Unchanged != wantFirst {
			t.Errorf("folder load %d: hashed first %v, unchanged %v; want %v, %v", i+1, hashedFirst, s.Unchanged, wantFirst, wantFirst)
		}
	}
}
