package showntell_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

func verifyShowntell(t *testing.T, v *loadertest.Env, path string) *loaders.Verification {
	t.Helper()
	vf, err := loaders.LookupVerifier("showntell")
	if err != nil {
		t.Fatal(err)
	}
	got, err := vf.Verify(v.Ctx, v.DB, path, loaders.VerifyOptions{MaxExamples: 20})
	if err != nil {
		t.Fatalf("verify %s: %v", path, err)
	}
	return got.(*loaders.Verification)
}

// TestShowntellVerifyAfterRunNames: as quickstart does, W&B runs load
// first (finetune_runs rows from their names), then the modernized pickle,
// which writes the run the W&B load lacks and compares the others, keeping
// their rows and reporting the fields that differ. Verify of that pickle
// agrees: it compares what this load wrote, and lists the differences the
// load set aside as such (not as differing cells).
func TestShowntellVerifyAfterRunNames(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	v.LoadKind("wandb-runs", filepath.Join(loadertest.WandbSample(t), "runs_metadata.parquet"), loaders.Options{})
	v.LoadKind("showntell", modernized, loaders.Options{})
	got := verifyShowntell(t, v, modernized)
	if !got.OK() || got.Rows != 1 || got.Differing != 0 || got.MissingRows != 0 || got.ExtraRows != 0 {
		t.Errorf("verify after load = %+v, want OK over the 1 row this load wrote", got)
	}
	set := strings.Join(got.NotCompared, "\n")
	for _, want := range []string{
		"(3): another source's load holds them",
		"3 cells differ from the file: ",
		fixtures.RunName(5) + ": finetune_runs.tokens file 100000000000000.0, database 100000000.0",
		fixtures.RunName(0) + ": finetune_runs.seed file NULL, database 0",
	} {
		if !strings.Contains(set, want) {
			t.Errorf("rows not compared lack %q:\n%s", want, set)
		}
	}
}

// TestShowntellVerifyChangedFile: verify compares a file with what its
// current load wrote, source (the record whole) included. A pickle
// replaced at the same path by a version with a NaN tuple in a record is a
// report naming finetune_runs.source, not a panic; a run dropped from the
// pickle, or the last row of a matched frame (with its value and curve),
// is counted as a row the file no longer has, a run added as missing; a changed source in the database is a differing cell.
func TestShowntellVerifyChangedFile(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	v1 := modernizedPickle(
		record("run-a", "seed", "0", "lr", "1e-05"),
		record("run-b", "seed", "1"),
		record("run-c", "seed", "2"),
	)
	withTuple := modernizedPickle(
		record("run-a", "seed", "0", "lr", "1e-05", "lrs", pyTuple{1e-5, nan}),
		record("run-b", "seed", "1"),
		record("run-c", "seed", "2"),
	)
	dropped := modernizedPickle(
		record("run-a", "seed", "0", "lr", "1e-05"),
		record("run-c", "seed", "2"),
	)
	frame := func(ids ...any) any {
		return pdFrame(pdRangeIndex(len(ids)),
			frameColumn{"run_id", "O8", ids},
			frameColumn{"pt_step", "f8", []float64{1, 2, 3}[:len(ids)]},
			frameColumn{"ft_loss_list", "O8", []any{[]any{1.0}, []any{2.0}, []any{3.0}}[:len(ids)]})
	}
	for _, c := range []struct {
		name          string
		loaded, now   any
		sql           string // a change made to the database after the load
		differing     int64
		column        string
		missing, gone int64
	}{
		{name: "unchanged", loaded: v1, now: v1},
		{name: "NaN tuple added", loaded: v1, now: withTuple, differing: 1, column: "finetune_runs.source"},
		{name: "run dropped", loaded: v1, now: dropped, gone: 1},
		{name: "run added", loaded: dropped, now: v1, missing: 1},
		{name: "source changed", loaded: v1, now: v1, sql: `UPDATE finetune_runs SET source = '{"run_id":"run-b"}' WHERE run_id = 'run-b'`, differing: 1, column: "finetune_runs.source"},
		{name: "matched row dropped", loaded: frame("m0", "m1", "m2"), now: frame("m0", "m1"), gone: 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			path := writePickle(t, t.TempDir(), "20250104_000000_modernized_run_data.pkl", c.loaded)
			v.LoadKind("showntell", path, loaders.Options{})
			if c.sql != "" {
				v.Exec(c.sql)
			}
			if err := os.WriteFile(path, pickleBytes(c.now), 0o644); err != nil {
				t.Fatal(err)
			}
			got := verifyShowntell(t, v, path)
			if got.Differing != c.differing || got.MissingRows != c.missing || got.ExtraRows != c.gone || got.OK() != (c.differing+c.missing+c.gone == 0) {
				t.Errorf("verify = %+v, want %d differing, %d missing, %d gone", got, c.differing, c.missing, c.gone)
			}
			if c.column != "" && got.ByColumn[c.column] != c.differing {
				t.Errorf("differing by column = %v, want %s", got.ByColumn, c.column)
			}
		})
	}
}
