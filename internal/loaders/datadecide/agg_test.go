package datadecide_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/datadecide"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

func TestAggregates(t *testing.T) {
	t.Parallel()
	full, mean, std := loadertest.Sample(t)
	v := loadertest.LoadedSampleEnv(t)
	dir := t.TempDir()
	oldMean, oldStd := filepath.Join(dir, "mean_eval_old.parquet"), filepath.Join(dir, "std_eval_old.parquet")
	if err := fixtures.WriteAggregates(context.Background(), full, oldMean, oldStd, fixtures.AggOld); err != nil {
		t.Fatal(err)
	}
	before := v.Snapshot() // the checks store nothing
	for _, tt := range []struct {
		path, stat, variant string
		note                string
	}{
		{mean, "mean", datadecide.AggVariantCurrent, ""},
		{std, "std", datadecide.AggVariantCurrent, ""},
		{oldMean, "mean", datadecide.AggVariantOldSeed, "ignored the averaged seed column"},
		{oldStd, "std", datadecide.AggVariantOldSeed, "ignored the averaged seed column"},
	} {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			a, err := datadecide.CheckAgg(v.Ctx, v.DB, tt.path, "")
			if err != nil {
				t.Fatal(err)
			}
			// The older layout also compares tokens and compute, as values.
			wantCols := 1919
			if tt.variant != datadecide.AggVariantCurrent && tt.stat == "mean" {
				wantCols = 1921
			}
			if !a.OK() || a.Stat != tt.stat || a.Variant != tt.variant || a.Groups != 54 || a.Columns != wantCols {
				t.Errorf("check = %+v (disagreements %v)", a, first(a.Disagreements))
			}
			if tt.note != "" && !strings.Contains(strings.Join(a.Notes, "\n"), tt.note) {
				t.Errorf("notes = %v, want %q", a.Notes, tt.note)
			}
		})
	}
	if after := v.Snapshot(); after != before {
		t.Errorf("the checks stored something")
	}
}

// TestAggregateDisagreements: a value off by 1e-6 relative and a group
// the database lacks are reported; 1e-12 relative is within tolerance; a
// file name that says neither mean nor std needs --stat.
func TestAggregateDisagreements(t *testing.T) {
	t.Parallel()
	full, mean, _ := loadertest.Sample(t)
	v := loadertest.LoadedSampleEnv(t)

	// One value off by 1e-6 relative, and one group missing from the database.
	bad := loadertest.Derive(t, mean, "mean_eval_bad.parquet", `SELECT * REPLACE (CASE WHEN file_row_number = 7 THEN piqa_acc_raw * (1 + 1e-6) ELSE piqa_acc_raw END AS piqa_acc_raw)
		FROM src UNION ALL SELECT * REPLACE ('FineWeb-Edu' AS data) FROM src WHERE file_row_number = 0`)
	a, err := datadecide.CheckAgg(v.Ctx, v.DB, bad, "mean")
	if err != nil {
		t.Fatal(err)
	}
	if a.OK() || len(a.Disagreements) != 1 || a.Disagreements[0].Column != "piqa_acc_raw" || len(a.MissingGroups) != 1 ||
		!strings.HasPrefix(a.MissingGroups[0], "150M / FineWeb-Edu / step 0") && !strings.Contains(a.MissingGroups[0], "FineWeb-Edu") {
		t.Errorf("tampered check = disagreements %+v, missing %v", a.Disagreements, a.MissingGroups)
	}
	// A tiny float difference within tolerance is not a disagreement.
	close := loadertest.Derive(t, mean, "mean_eval_close.parquet", `SELECT * REPLACE (piqa_acc_raw * (1 + 1e-12) AS piqa_acc_raw) FROM src`)
	if a, _ := datadecide.CheckAgg(v.Ctx, v.DB, close, "mean"); !a.OK() {
		t.Errorf("1e-12 relative differences were reported: %v", first(a.Disagreements))
	}
	if _, err := datadecide.CheckAgg(v.Ctx, v.DB, full, ""); err == nil || !strings.Contains(err.Error(), "say which with --stat mean or --stat std") {
		t.Errorf("a file name without mean/std: %v", err)
	}
}

func first(d []loaders.Difference) any {
	if len(d) == 0 {
		return nil
	}
	return d[0]
}
