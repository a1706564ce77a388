package datadecide_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/datadecide"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// TestWhatWasNotComparedIsNamed: a load, a verify and an aggregate check of a
// file that lacks a metric column each name the column.
func TestWhatWasNotComparedIsNamed(t *testing.T) {
	t.Parallel()
	full, mean, _ := loadertest.Sample(t)
	v := loadertest.NewEnv(t)
	lacking := loadertest.Derive(t, full, "lacking.parquet", "SELECT * EXCLUDE (arc_easy_acc_raw, piqa_acc_raw) FROM src")
	s := v.Load(lacking, loaders.Options{})
	if want := "2 known metric columns are absent from the file and stay NULL: "; !strings.Contains(strings.Join(s.Notes, "\n"), want) ||
		!strings.Contains(strings.Join(s.Notes, "\n"), "arc_easy_acc_raw") || !strings.Contains(strings.Join(s.Notes, "\n"), "piqa_acc_raw") {
		t.Errorf("load notes = %q, want both absent columns named", s.Notes)
	}
	ver, err := datadecide.VerifyFile(v.Ctx, v.DB, lacking, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ver.NotInFile, ","); got != "piqa_acc_raw,arc_easy_acc_raw" && got != "arc_easy_acc_raw,piqa_acc_raw" {
		t.Errorf("verify: database columns not in the file = %q, want the two absent columns", got)
	}
	if !ver.OK() {
		t.Errorf("verify = %+v, want no difference", ver)
	}

	// The aggregate check of a mean file lacking a column names it too.
	w := loadertest.NewEnv(t)
	w.Load(full, loaders.Options{})
	meanLacking := loadertest.Derive(t, mean, "mean_eval_lacking.parquet", "SELECT * EXCLUDE (hellaswag_acc_raw) FROM src")
	a, err := datadecide.CheckAgg(w.Ctx, w.DB, meanLacking, "mean")
	if err != nil {
		t.Fatal(err)
	}
	if want := "1 columns of the database's layout are not in the file and were not compared: hellaswag_acc_raw"; !strings.Contains(strings.Join(a.Notes, "\n"), want) {
		t.Errorf("aggregate notes = %q, want %q", a.Notes, want)
	}
}

// TestAggregateCheckIsBounded: a per-seed file is refused in one error, and
// a file that disagrees everywhere lists at most MaxAggExamples examples
// while counting every differing cell.
func TestAggregateCheckIsBounded(t *testing.T) {
	t.Parallel()
	full, mean, _ := loadertest.Sample(t)
	v := loadertest.LoadedSampleEnv(t)
	_, err := datadecide.CheckAgg(v.Ctx, v.DB, full, "mean")
	var fe *loaders.FileError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "rows for one group: an aggregate file has one row per (params, data, step)") ||
		!strings.Contains(fe.Place, "group ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("a per-seed file checked as a mean = %v", err)
	}
	off := loadertest.Derive(t, mean, "mean_eval_off.parquet", "SELECT * REPLACE (piqa_acc_raw + 1 AS piqa_acc_raw, arc_easy_acc_raw + 1 AS arc_easy_acc_raw) FROM src")
	a, err := datadecide.CheckAgg(v.Ctx, v.DB, off, "mean")
	if err != nil {
		t.Fatal(err)
	}
	// Every value moved, less NaN (NaN + 1 is NaN) and NULL.
	want := v.Scalar(`SELECT CAST(count_if(NOT isnan(piqa_acc_raw)) + count_if(NOT isnan(arc_easy_acc_raw)) AS VARCHAR) FROM read_parquet('` + mean + `')`)
	if got := fmt.Sprint(a.Differing); a.OK() || got != want || want == "0" || len(a.Disagreements) != datadecide.MaxAggExamples {
		t.Errorf("check = %d differing cells, %d examples; want %s and %d", a.Differing, len(a.Disagreements), want, datadecide.MaxAggExamples)
	}
}

// TestVerifyCountsRowsTheFileLacks: verifying a file against its current
// load counts the rows that load wrote which the file no longer has (three
// rows cut from it after the load); a file no load read has none.
func TestVerifyCountsRowsTheFileLacks(t *testing.T) {
	t.Parallel()
	full, _, _ := loadertest.Sample(t)
	v := loadertest.NewEnv(t)
	path := filepath.Join(t.TempDir(), "full_eval.parquet")
	loadertest.CopyFile(t, full, path)
	v.Load(path, loaders.Options{})
	cut := loadertest.Derive(t, path, "cut.parquet", "SELECT * FROM src WHERE file_row_number >= 3")
	for _, c := range []struct {
		name, path string
		extra      int64
	}{
		{"the loaded file, whole", path, 0},
		{"a file no load read", cut, 0},
	} {
		ver, err := datadecide.VerifyFile(v.Ctx, v.DB, c.path, 3)
		if err != nil || ver.ExtraRows != c.extra {
			t.Fatalf("%s: verify = %+v, %v; want %d rows the file lacks", c.name, ver, err, c.extra)
		}
	}
	loadertest.CopyFile(t, cut, path)
	ver, err := datadecide.VerifyFile(v.Ctx, v.DB, path, 3)
	if err != nil || ver.ExtraRows != 3 {
		t.Fatalf("the loaded file less three rows: verify = %+v, %v; want 3 rows the file lacks", ver, err)
	}
}
