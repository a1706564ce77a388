package wandb_test

import (
	"path/filepath"
	"testing"

	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// TestConformance holds both W&B loaders to the loader contract on a
// parquet and a JSONL layout each.
func TestConformance(t *testing.T) {
	t.Parallel()
	dir := loadertest.WandbSample(t)
	t.Run("wandb-runs", func(t *testing.T) {
		t.Parallel()
		loadertest.Conformance(t, "wandb-runs", filepath.Join(dir, "runs_metadata.parquet"), filepath.Join(dir, "runs_v3.jsonl"))
	})
	t.Run("wandb-history", func(t *testing.T) {
		t.Parallel()
		loadertest.Conformance(t, "wandb-history", filepath.Join(dir, "runs_history.parquet"), filepath.Join(dir, "history_v3.jsonl"))
	})
}
