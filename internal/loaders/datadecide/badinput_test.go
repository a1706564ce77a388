package datadecide_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/datadecide"
	"github.com/dschema/dschema/internal/loaders/loadertest"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/migrations"
)

func TestBadInput(t *testing.T) {
	t.Parallel()
	full, _, _ := loadertest.Sample(t)
	v := loadertest.NewEnv(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	whole, _ := os.ReadFile(full)
	tests := []struct {
		name string
		path string
		opts loaders.Options
		want []string
	}{
		{"missing file", filepath.Join(dir, "nope.parquet"), loaders.Options{}, []string{"nope.parquet: no such file"}},
		{"empty file", write("empty.parquet", nil), loaders.Options{}, []string{"empty.parquet: empty file"}},
		{"truncated parquet", write("truncated.parquet", whole[:len(whole)/2]), loaders.Options{}, []string{"truncated.parquet: not a readable parquet file"}},
		{"not parquet", write("notes.parquet", []byte("params,data,seed\n4M,C4,0\n")), loaders.Options{}, []string{"notes.parquet: not a readable parquet file"}},
		{"missing key column", loadertest.Derive(t, full, "noseed.parquet", "SELECT * EXCLUDE (seed) FROM src"), loaders.Options{},
			[]string{"noseed.parquet: unknown layout: missing key columns seed", "expected params, data, seed, step, tokens, compute", "found params, data, step, tokens"}},
		{"wrong key type", loadertest.Derive(t, full, "seedtext.parquet", "SELECT * REPLACE (CAST(seed AS VARCHAR) AS seed) FROM src"), loaders.Options{},
			[]string{"seedtext.parquet: column seed: type VARCHAR, want integer (BIGINT)"}},
		{"wrong metric type", loadertest.Derive(t, full, "metrictext.parquet", "SELECT * REPLACE (CAST(arc_easy_acc_raw AS VARCHAR) AS arc_easy_acc_raw) FROM src"), loaders.Options{},
			[]string{"metrictext.parquet: column arc_easy_acc_raw: type VARCHAR, want a number (DOUBLE)"}},
		{"duplicate keys", loadertest.Derive(t, full, "dup.parquet", "SELECT * FROM src UNION ALL (SELECT * FROM src WHERE file_row_number = 40) ORDER BY file_row_number"), loaders.Options{},
			[]string{"dup.parquet: rows 41, 42: duplicate key (params \"20M\", data \"Dolma1.7\", seed 1, step 0): 2 rows"}},
		{"NULL key", loadertest.Derive(t, full, "nullkey.parquet", "SELECT * REPLACE (CASE WHEN file_row_number = 5 THEN NULL ELSE params END AS params) FROM src"), loaders.Options{},
			[]string{"nullkey.parquet: row 6: column params is NULL"}},
		{"seed out of range", loadertest.Derive(t, full, "seed7.parquet", "SELECT * REPLACE (CASE WHEN file_row_number = 3 THEN 7 ELSE seed END AS seed) FROM src"), loaders.Options{},
			[]string{"seed7.parquet: row 4: seed 7 is not a DataDecide seed number (0-4)"}},
		{"seed just above the range", loadertest.Derive(t, full, "seed5.parquet", "SELECT * REPLACE (CASE WHEN file_row_number = 3 THEN 5 ELSE seed END AS seed) FROM src"), loaders.Options{},
			[]string{"seed5.parquet: row 4: seed 5 is not a DataDecide seed number (0-4)"}},
		{"seed just below the range", loadertest.Derive(t, full, "seedneg.parquet", "SELECT * REPLACE (CASE WHEN file_row_number = 3 THEN -1 ELSE seed END AS seed) FROM src"), loaders.Options{},
			[]string{"seedneg.parquet: row 4: seed -1 is not a DataDecide seed number (0-4)"}},
		{"params not a size", loadertest.Derive(t, full, "banana.parquet", "SELECT * REPLACE (CASE WHEN file_row_number = 5 THEN 'banana' ELSE params END AS params) FROM src"), loaders.Options{},
			[]string{"banana.parquet: row 6: params banana is not a model size label (a number and K, M, B or T, as in 150M or 1B)"}},
		{"params with a unit but no number", loadertest.Derive(t, full, "bigm.parquet", "SELECT * REPLACE (CASE WHEN file_row_number = 5 THEN 'M' ELSE params END AS params) FROM src"), loaders.Options{},
			[]string{"bigm.parquet: row 6: params M is not a model size label"}},
		{"fractional step", loadertest.Derive(t, full, "halfstep.parquet", "SELECT * REPLACE (CASE WHEN file_row_number = 2 THEN 1250.5 ELSE step END AS step) FROM src"), loaders.Options{},
			[]string{"halfstep.parquet: row 3: step 1250.5 is not a whole number of steps"}},
		{"model detail not constant", loadertest.Derive(t, full, "dmodel.parquet", "SELECT * REPLACE (CASE WHEN file_row_number = 100 THEN 999 ELSE d_model END AS d_model) FROM src"), loaders.Options{},
			[]string{"dmodel.parquet: rows ", "same params but d_model differs", "model details must be constant per size"}},
		{"partial layout", loadertest.Derive(t, full, "partial.parquet", "SELECT * EXCLUDE (d_model, pct_code) FROM src"), loaders.Options{},
			[]string{"partial.parquet: unknown layout: it has 54 of the 56 schedule, dataset and model columns of full_eval but lacks pct_code, d_model"}},
		{"strict refuses unknown columns", full, loaders.Options{Strict: true},
			[]string{"full_eval.parquet: --strict: columns the schema does not know: " + fixtures.UnknownMetric}},
	}
	before := v.Snapshot()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.E.Load(v.Ctx, "datadecide", tt.path, tt.opts)
			if err == nil {
				t.Fatal("Load() succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load() error = %q\nwant it to contain %q", err, w)
				}
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("error spans lines: %q", err)
			}
			var fe *loaders.FileError
			if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), fe.Path) || !strings.Contains(tt.path, filepath.Base(fe.Path)) {
				t.Errorf("Load() error %q is not a *loaders.FileError naming the file", err)
			}
			if after := v.Snapshot(); after != before {
				t.Errorf("the database changed")
			}
		})
	}
}

func TestConflictsBetweenSources(t *testing.T) {
	t.Parallel()
	full, _, _ := loadertest.Sample(t)
	v := loadertest.NewEnv(t)
	first := v.Load(full, loaders.Options{})
	before := v.Snapshot()
	copyPath := filepath.Join(t.TempDir(), "copy.parquet")
	b, _ := os.ReadFile(full)
	os.WriteFile(copyPath, b, 0o644)
	_, err := v.E.Load(v.Ctx, "datadecide", copyPath, loaders.Options{})
	want := fmt.Sprintf("copy.parquet: the same content (sha256 %.12s…) is already loaded from %s (load %d); to load this file as that source: dschema load datadecide %s --source %q", first.SHA256, full, first.LoadID, copyPath, full)
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("loading the same content from another path: %v\nwant %q", err, want)
	}
	// As that source, it is the same content: unchanged.
	if s, err := v.E.Load(v.Ctx, "datadecide", copyPath, loaders.Options{Source: full}); err != nil || !s.Unchanged || s.LoadID != first.LoadID {
		t.Errorf("the copy with --source = %+v, %v; want unchanged since load %d", s, err, first.LoadID)
	}
	// Other content with the same keys: the keys are refused.
	changed := loadertest.Derive(t, full, "changed.parquet", "SELECT * REPLACE (arc_easy_acc_raw + 1 AS arc_easy_acc_raw) FROM src")
	_, err = v.E.Load(v.Ctx, "datadecide", changed, loaders.Options{})
	want = fmt.Sprintf("changed.parquet: key (params \"4M\", data \"Dolma1.7\", seed 0, step 0): already loaded from %s (load %d); a key belongs to one source", full, first.LoadID)
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("loading the same keys from another source: %v\nwant %q", err, want)
	}
	if after := v.Snapshot(); after != before {
		t.Errorf("a refused load changed the database")
	}
	other := loadertest.Derive(t, full, "c4.parquet", "SELECT * REPLACE ('FineWeb-Pro' AS data, CASE WHEN data = 'C4' THEN pct_code + 1 ELSE pct_code END AS pct_code) FROM src WHERE data = 'C4'")
	other2 := loadertest.Derive(t, full, "c4b.parquet", "SELECT * REPLACE (step + 1 AS step, pct_code + 1 AS pct_code) FROM src WHERE data = 'C4'")
	if _, err := v.E.Load(v.Ctx, "datadecide", other, loaders.Options{}); err != nil {
		t.Fatalf("a new recipe from another source: %v", err)
	}
	before = v.Snapshot()
	_, err = v.E.Load(v.Ctx, "datadecide", other2, loaders.Options{})
	if err == nil || !strings.Contains(err.Error(), "c4b.parquet: data \"C4\": pretrain_datasets differs from the row loaded from "+full) {
		t.Errorf("conflicting dataset features: %v", err)
	}
	if after := v.Snapshot(); after != before {
		t.Errorf("a refused load changed the database")
	}
}

// TestRangeEdgesLoad: the accepted edges of each range load: seeds 0 and 4,
// a size label DataDecide does not have (reported).
func TestRangeEdgesLoad(t *testing.T) {
	t.Parallel()
	full, _, _ := loadertest.Sample(t)
	v := loadertest.NewEnv(t)
	edges := loadertest.Derive(t, full, "edges.parquet", `SELECT * REPLACE (CASE WHEN seed = 2 THEN 4 ELSE seed END AS seed,
		CASE WHEN params = '4M' THEN '5M' ELSE params END AS params) FROM src`)
	s := v.Load(edges, loaders.Options{})
	if got := v.Scalar(`SELECT string_agg(DISTINCT seed, ',' ORDER BY seed) FROM pretrain_runs`); got != "0,1,4" {
		t.Errorf("seeds loaded = %s, want 0,1,4", got)
	}
	if !strings.Contains(strings.Join(s.Notes, "\n"), "model sizes DataDecide does not have: 5M (loaded as new pretrain_models rows)") {
		t.Errorf("notes = %q, want the new size 5M reported", s.Notes)
	}
}

func TestUnknownTextColumnIsSkippedAndReported(t *testing.T) {
	t.Parallel()
	full, _, _ := loadertest.Sample(t)
	v := loadertest.NewEnv(t)
	p := loadertest.Derive(t, full, "comment.parquet", "SELECT *, 'free text' AS comment FROM src")
	s := v.Load(p, loaders.Options{})
	if len(s.Skipped) != 1 || !strings.Contains(s.Skipped[0].What, "comment") || s.Rows["pretrain_evals"] != 144 {
		t.Errorf("summary = %+v", s)
	}
	if got := v.Scalar(`SELECT report->>'$.skipped[0].what' FROM dschema_loads`); got != "columns comment" {
		t.Errorf("dschema_loads.report skipped = %q", got)
	}
}

func TestMetricsOnlyLayout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v := loadertest.NewEnv(t)
	p := filepath.Join(t.TempDir(), "old.parquet")
	spec := fixtures.SampleSpec()
	spec.MetricsOnly = true
	if _, err := fixtures.WriteFullEval(ctx, p, spec); err != nil {
		t.Fatal(err)
	}
	s := v.Load(p, loaders.Options{})
	if s.Variant != datadecide.VariantMetricsOnly || s.Rows["pretrain_evals"] != 144 || s.Rows["pretrain_models"] != 4 {
		t.Errorf("summary = %+v", s)
	}
	if got := v.Scalar(`SELECT count(*) FILTER (WHERE d_model IS NULL AND total_steps IS NULL) FROM pretrain_models`); got != "4" {
		t.Errorf("model rows without details = %s, want 4", got)
	}
	if got := v.Scalar(`SELECT count(lr_at_step) FROM pretrain_evals`); got != "0" {
		t.Errorf("lr_at_step values = %s, want none", got)
	}
	ver, err := datadecide.VerifyFile(ctx, v.DB, p, 3)
	if err != nil || !ver.OK() {
		t.Errorf("verify = %+v, %v", ver, err)
	}
}

func TestVersionGuard(t *testing.T) {
	t.Parallel()
	full, _, _ := loadertest.Sample(t)
	v := loadertest.NewEnv(t)
	m, err := migrate.New(v.DB, v.Path, migrations.FS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.DownTo(v.Ctx, 1); err != nil {
		t.Fatal(err)
	}
	_, err = v.E.Load(v.Ctx, "datadecide", full, loaders.Options{})
	var ve *migrate.VersionError
	want := fmt.Sprintf("database %[1]s is at schema version 1, this dschema needs %[2]d: run dschema migrate up --db %[1]s", v.Path, m.Newest())
	if !errors.As(err, &ve) || err.Error() != want {
		t.Errorf("Load() on an old database = %v\nwant %q", err, want)
	}
	if cur, _ := m.Current(v.Ctx); cur != 1 {
		t.Errorf("the load migrated the database to %d: it must never migrate implicitly", cur)
	}
}

func TestUnknownKind(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	_, err := v.E.Load(v.Ctx, "no-such-kind", "x", loaders.Options{})
	if err == nil || !strings.Contains(err.Error(), `unknown load kind "no-such-kind" (known: `+strings.Join(loaders.Kinds(), ", ")+")") {
		t.Errorf("Load() = %v", err)
	}
}
