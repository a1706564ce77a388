package bench_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/bench"
	"github.com/dschema/dschema/internal/cli"
)

// TestMain lets the test binary be dschema for the bench's phases, which
// run in processes of their own (the bench spawns its own executable).
func TestMain(m *testing.M) {
	if os.Getenv("DSCHEMA_TEST_RUN_CLI") != "" {
		os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestBenchAtAFewRows runs the bench end to end on a tiny file: it spawns
// itself for each phase (here the test binary, as dschema).
func TestBenchAtAFewRows(t *testing.T) {
	t.Setenv("DSCHEMA_TEST_RUN_CLI", "1")
	var out strings.Builder
	if err := bench.Run(context.Background(), bench.Options{Kind: "datadecide", Rows: 1, Runs: 1, MemoryLimit: "3GB", Out: &out}); err != nil {
		t.Fatalf("bench = %v\n%s", err, out.String())
	}
	for _, want := range []string{"generated ", "rows × 1,940 columns", "native", "ratio", "rows/s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bench output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestQABenchLimits: the qa-outputs bench at a smoke size runs the load
// under its own limit and the native read under NativeMemoryLimit (DuckDB's
// read_json of the bench's predictions runs out of memory under the QA
// load's 128MB at 256MiB), and says so.
func TestQABenchLimits(t *testing.T) {
	t.Setenv("DSCHEMA_TEST_RUN_CLI", "1")
	if got := bench.NativeMemoryLimit("qa-outputs"); got != "256MB" {
		t.Fatalf("NativeMemoryLimit(qa-outputs) = %q, want 256MB", got)
	}
	if got := bench.NativeMemoryLimit("wandb-history"); got != "" {
		t.Errorf("NativeMemoryLimit(wandb-history) = %q, want \"\" (the load's own)", got)
	}
	var out strings.Builder
	o := bench.Options{Kind: "qa-outputs", Size: "64KiB", Rows: 1, Runs: 1, MemoryLimit: "128MB", NativeMemoryLimit: "256MB", Out: &out}
	if err := bench.Run(context.Background(), o); err != nil {
		t.Fatalf("bench = %v\n%s", err, out.String())
	}
	lines := strings.Split(out.String(), "\n")
	want := map[string]string{"system tar -xzf": "256MB", "dschema load qa-outputs": "128MB"}
	for _, l := range lines {
		for prefix, limit := range want {
			if strings.HasPrefix(l, prefix) && strings.HasSuffix(l, "  "+limit) {
				delete(want, prefix)
			}
		}
	}
	if len(want) != 0 || !strings.Contains(lines[0], "memory limit of the load 128MB, of the native read 256MB") {
		t.Errorf("bench output does not give each side's limit (missing %v):\n%s", want, out.String())
	}
}
