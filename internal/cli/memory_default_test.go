package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/dschema/dschema/internal/loaders"
)

// TestMemoryLimitByKind: a load without --memory-limit runs under the limit
// its loader declares (the W&B history streams: 600MB keeps a 1.4 GiB
// history under 1 GiB of RSS), one with it under the one given; the
// summary says which.
func TestMemoryLimitByKind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hist := filepath.Join(dir, "history.jsonl")
	hist2 := filepath.Join(dir, "history2.jsonl")
	runs := filepath.Join(dir, "runs.jsonl")
	for p, data := range map[string]string{
		hist:  `{"run_id": "r", "step": 0, "timestamp": "1.5", "runtime": 1, "wandb_metadata": null, "metrics": {"train_loss": 2.5}, "extra": {}}` + "\n",
		hist2: `{"run_id": "q", "step": 0, "timestamp": "1.5", "runtime": 1, "wandb_metadata": null, "metrics": {"train_loss": 2.5}, "extra": {}}` + "\n",
		runs:  `{"run_id": "r", "run_name": "r", "state": "finished", "project": "p", "entity": "e", "created_at": "2025-08-19T05:36:01Z", "config": {}, "summary": {}, "wandb_metadata": {}, "system_metrics": {}, "system_attrs": {}, "sweep_info": {}}` + "\n",
	} {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := migratedDB(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"wandb-history", hist}, "600MB"},
		{[]string{"wandb-runs", runs}, "512MB"},
		{[]string{"wandb-history", hist2, "--memory-limit", "1GB"}, "1GB"},
	} {
		out, errOut, code := runCmd(t, append(append([]string{"load"}, c.args...), "--db", db, "--json")...)
		var s struct {
			MemoryLimit string `json:"memory_limit"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
			t.Fatalf("load %v = %d, %s %s", c.args, code, out, errOut)
		}
		if s.MemoryLimit != c.want {
			t.Errorf("load %v ran under memory limit %q, want %q", c.args, s.MemoryLimit, c.want)
		}
	}
	for kind, want := range map[string]string{"datadecide": "3GB", "qa-outputs": "128MB", "wandb-history": "600MB", "wandb-runs": "512MB", "showntell": "3GB"} {
		if got := loaders.DefaultMemoryLimit(kind); got != want {
			t.Errorf("loaders.DefaultMemoryLimit(%q) = %q, want %q", kind, got, want)
		}
	}
}
