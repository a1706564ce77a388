package loaders_test

import (
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
