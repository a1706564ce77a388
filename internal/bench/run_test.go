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
