package datadecide_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/datadecide"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

func TestLoadSample(t *testing.T) {
	t.Parallel()
	full, _, _ := loadertest.Sample(t)
	v := loadertest.NewEnv(t)
	s := v.Load(full, loaders.Options{})
	if s.Variant != datadecide.VariantFullEval || s.Unchanged || s.LoadID != 1 {
		t.Errorf("summary = %+v", s)
	}
	wantRows := map[string]int64{"pretrain_models": 4, "pretrain_datasets": 3, "pretrain_runs": 36, "pretrain_evals": 144}
	for tbl, n := range wantRows {
		if s.Rows[tbl] != n {
			t.Errorf("rows written to %s = %d, want %d", tbl, s.Rows[tbl], n)
		}
	}
	if len(s.Kept) != 1 || !strings.Contains(s.Kept[0].What, fixtures.UnknownMetric) {
		t.Errorf("kept = %+v, want the unknown metric column", s.Kept)
	}
	src := fmt.Sprintf("read_parquet('%s')", full)
	tests := []struct {
		name, query, want string
	}{
		// tokens = step × batch_size × 2048 (150M: batch 192 → 491,520,000 at step 1250).
		{"tokens", `SELECT CAST(tokens AS BIGINT) FROM pretrain_evals WHERE params = '150M' AND step = 1250 AND seed = 0 AND data = 'C4'`, "491520000"},
		{"step is an integer", `SELECT typeof(step) FROM pretrain_evals LIMIT 1`, "BIGINT"},
		{"4M final steps by seed", `SELECT string_agg(DISTINCT step::VARCHAR, ',' ORDER BY step::VARCHAR) FROM pretrain_evals WHERE params = '4M' AND step > 5000`, "5725,5735,5745"},
		{"seed names", `SELECT string_agg(DISTINCT seed || '=' || seed_name, ',' ORDER BY seed || '=' || seed_name) FROM pretrain_runs`, "0=default,1=small aux 2,2=small aux 3"},
		{"model details", `SELECT d_model || ' ' || n_layers || ' ' || batch_size || ' ' || activation_type FROM pretrain_models WHERE params = '1B'`, "2048 16 1024 swiglu"},
		{"load ids", `SELECT string_agg(DISTINCT load_id::VARCHAR, ',') FROM pretrain_evals`, "1"},
		{"perplexity-only rows", `SELECT count(*) FROM pretrain_evals WHERE params = '4M' AND step > 5000 AND arc_easy_acc_raw IS NULL AND pile_valppl IS NOT NULL`, "9"},
		{"downstream-only rows", `SELECT count(*) FROM pretrain_evals WHERE step = 0 AND pile_valppl IS NULL`, "36"},
		{"entirely NULL metric", `SELECT count(arc_easy_bits_per_byte_corr) FROM pretrain_evals`, "0"},
		// Every cell of every known metric, compared with the file: NaN = NaN, NULL = NULL.
		{"same NaN cells", fmt.Sprintf(`SELECT (SELECT count(*) FROM (UNPIVOT (SELECT COLUMNS('_(acc_raw|margin)$') FROM pretrain_evals) ON COLUMNS(*)) WHERE isnan(value))
			|| '=' || (SELECT count(*) FROM (UNPIVOT (SELECT COLUMNS('_(acc_raw|margin)$') FROM %s) ON COLUMNS(*)) WHERE isnan(value))`, src), ""},
		{"same NULL cells", fmt.Sprintf(`SELECT (SELECT count_if(piqa_acc_raw IS NULL) FROM pretrain_evals) || '=' || (SELECT count_if(piqa_acc_raw IS NULL) FROM %s)`, src), ""},
		{"overflow values", fmt.Sprintf(`SELECT (SELECT sum(x) FILTER (WHERE NOT isnan(x)) || '/' || count_if(isnan(x)) || '/' || count(x) FROM (SELECT extra_metrics['%[1]s'] AS x FROM pretrain_evals))
			= (SELECT sum(x) FILTER (WHERE NOT isnan(x)) || '/' || count_if(isnan(x)) || '/' || count(x) FROM (SELECT %[1]s AS x FROM %[2]s))`, fixtures.UnknownMetric, src), "true"},
		{"perplexity renamed", fmt.Sprintf(`SELECT (SELECT sum(dolma_common_crawl_valppl) FILTER (WHERE NOT isnan(dolma_common_crawl_valppl)) FROM pretrain_evals) = (SELECT sum("dolma_common-crawl-valppl") FILTER (WHERE NOT isnan("dolma_common-crawl-valppl")) FROM %s)`, src), "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := v.Scalar(tt.query)
			if tt.want == "" { // "a=b": both sides must be equal and non-trivial
				parts := strings.Split(got, "=")
				if len(parts) != 2 || parts[0] != parts[1] || parts[0] == "0" {
					t.Errorf("%s = %s, want two equal non-zero counts", tt.name, got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("%s = %s, want %s", tt.name, got, tt.want)
			}
		})
	}

	// The legacy view gives back the file: same names, order and types.
	fileCols := v.Columns("SELECT * EXCLUDE (" + fixtures.UnknownMetric + ") FROM " + src)
	viewCols := v.Columns("SELECT * FROM datadecide_full_eval")
	if len(viewCols) != 1939 || strings.Join(fileCols, ",") != strings.Join(viewCols, ",") {
		t.Errorf("datadecide_full_eval has %d columns; differs from the file's layout: first %v", len(viewCols), loadertest.FirstDiff(fileCols, viewCols))
	}
	ver, err := datadecide.VerifyFile(v.Ctx, v.DB, full, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !ver.OK() || ver.Rows != 144 || ver.Columns != 1936 {
		t.Errorf("verify = %+v", ver)
	}

	// One changed cell is found, with its key and both values.
	v.Exec(`UPDATE pretrain_evals SET arc_easy_acc_raw = 0.123 WHERE params = '150M' AND data = 'C4' AND seed = 1 AND step = 1250`)
	ver, err = datadecide.VerifyFile(v.Ctx, v.DB, full, 5)
	if err != nil {
		t.Fatal(err)
	}
	if ver.OK() || ver.Differing != 1 || len(ver.Examples) != 1 {
		t.Fatalf("verify after one change = %+v", ver)
	}
	if ex := ver.Examples[0]; ex.Key != "150M / C4 / seed 1 / step 1250.0" || ex.Column != "arc_easy_acc_raw" || ex.DB != "0.123" {
		t.Errorf("example = %+v", ex)
	}
	// A changed overflow value is found too.
	v.Exec(`UPDATE pretrain_evals SET extra_metrics = MAP {'` + fixtures.UnknownMetric + `': 42.0} WHERE params = '1B' AND data = 'C4' AND seed = 0 AND step = 0`)
	ver, _ = datadecide.VerifyFile(v.Ctx, v.DB, full, 5)
	if ver.Differing != 2 || ver.ByColumn[fixtures.UnknownMetric] != 1 {
		t.Errorf("verify after an overflow change = %+v", ver.ByColumn)
	}
}

func TestIdempotentAndReplace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v := loadertest.NewEnv(t)
	dir := t.TempDir()
	a := filepath.Join(dir, "a.parquet")
	other := filepath.Join(dir, "other.parquet")
	spec := fixtures.SampleSpec()
	if _, err := fixtures.WriteFullEval(ctx, a, spec); err != nil {
		t.Fatal(err)
	}
	// Another source with a different recipe shares the sizes.
	otherSpec := spec
	otherSpec.Recipes = []string{"FineWeb-Edu"}
	if _, err := fixtures.WriteFullEval(ctx, other, otherSpec); err != nil {
		t.Fatal(err)
	}
	first := v.Load(a, loaders.Options{})
	o := v.Load(other, loaders.Options{})
	if o.Rows["pretrain_models"] != 0 || o.Rows["pretrain_datasets"] != 1 || o.Rows["pretrain_evals"] != 48 {
		t.Errorf("second source rows = %v, want the shared sizes not rewritten", o.Rows)
	}
	before := v.Snapshot()

	again := v.Load(a, loaders.Options{})
	if !again.Unchanged || again.LoadID != first.LoadID {
		t.Errorf("reloading the same content = %+v, want unchanged load %d", again, first.LoadID)
	}
	if after := v.Snapshot(); after != before {
		t.Errorf("reloading changed the database:\n%s\n%s", before, after)
	}

	// A new version of the same source: fewer checkpoints.
	spec.Steps = 1
	if _, err := fixtures.WriteFullEval(ctx, a, spec); err != nil {
		t.Fatal(err)
	}
	otherBefore := v.Scalar(`SELECT count(*) || ':' || sum(hash(e)) FROM pretrain_evals e WHERE load_id = ?`, o.LoadID)
	// A replacement that fails after the old rows were removed changes nothing.
	beforeReplace := v.Snapshot()
	injected := errors.New("injected failure")
	if _, err := v.E.Load(ctx, "datadecide", a, loaders.Options{FailAt: func(point string, l *loaders.Load) error {
		if point == "removed" {
			var n int64
			if err := l.Conn.QueryRowContext(ctx, "SELECT count(*) FROM pretrain_evals WHERE load_id = ?", first.LoadID).Scan(&n); err != nil || n != 0 {
				t.Errorf("after removal the replaced load still has %d rows (%v)", n, err)
			}
			return injected
		}
		return nil
	}}); !errors.Is(err, injected) {
		t.Errorf("replacement with a failure = %v, want the injected failure", err)
	}
	if after := v.Snapshot(); after != beforeReplace {
		t.Errorf("a failed replacement changed the database")
	}
	r := v.Load(a, loaders.Options{})
	if r.ReplacedLoad != first.LoadID || r.Removed["pretrain_evals"] != 144 || r.Rows["pretrain_evals"] != 72 {
		t.Errorf("replacement = %+v", r)
	}
	if got := v.Scalar(`SELECT count(*) FROM pretrain_evals WHERE load_id = ?`, first.LoadID); got != "0" {
		t.Errorf("%s rows of the replaced load remain", got)
	}
	if got := v.Scalar(`SELECT count(*) FROM pretrain_evals`); got != "120" {
		t.Errorf("pretrain_evals holds %s rows, want 72 + 48", got)
	}
	if got := v.Scalar(`SELECT count(*) || ':' || sum(hash(e)) FROM pretrain_evals e WHERE load_id = ?`, o.LoadID); got != otherBefore {
		t.Errorf("the other source's rows changed: %s, was %s", got, otherBefore)
	}
	if got := v.Scalar(`SELECT count(*) FROM dschema_loads`); got != "3" {
		t.Errorf("dschema_loads has %s rows, want 3", got)
	}
	if got := v.Scalar(`SELECT replaced_load_id FROM dschema_loads WHERE load_id = ?`, r.LoadID); got != fmt.Sprint(first.LoadID) {
		t.Errorf("replaced_load_id = %s", got)
	}
	ver, err := datadecide.VerifyFile(ctx, v.DB, a, 3)
	if err != nil || !ver.OK() {
		t.Errorf("verify after replacement = %+v, %v", ver, err)
	}
}

func TestFailedLoadsChangeNothing(t *testing.T) {
	t.Parallel()
	full, _, _ := loadertest.Sample(t)
	v := loadertest.NewEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A first load, so that failures also have something to keep.
	dir := t.TempDir()
	first := filepath.Join(dir, "first.parquet")
	spec := fixtures.SampleSpec()
	spec.Recipes = []string{"FineWeb-Edu"}
	if _, err := fixtures.WriteFullEval(context.Background(), first, spec); err != nil {
		t.Fatal(err)
	}
	v.Load(first, loaders.Options{})
	before := v.Snapshot()
	injected := errors.New("injected failure")
	tests := []struct {
		name string
		ctx  context.Context
		opts loaders.Options
		want string
	}{
		{"after half the tables", ctx, loaders.Options{Progress: func(stage string) {
			if stage == "writing pretrain_runs" {
				panic(injected)
			}
		}}, "injected failure"},
		{"after every row", ctx, loaders.Options{FailAt: func(point string, l *loaders.Load) error {
			if point != "written" {
				return nil
			}
			var n int64
			if err := l.Conn.QueryRowContext(ctx, "SELECT count(*) FROM pretrain_evals WHERE load_id = ?", l.ID).Scan(&n); err != nil {
				t.Error(err)
			}
			if n != 144 {
				t.Errorf("the load has written %d eval rows, want 144", n)
			}
			return injected
		}}, "injected failure"},
		{"after dschema_loads is written, before commit", ctx, loaders.Options{FailAt: func(point string, l *loaders.Load) error {
			if point != "recorded" {
				return nil
			}
			var n int64
			if err := l.Conn.QueryRowContext(ctx, "SELECT count(*) FROM dschema_loads WHERE load_id = ?", l.ID).Scan(&n); err != nil {
				t.Error(err)
			}
			if n != 1 {
				t.Errorf("the load's dschema_loads row is not there (%d rows)", n)
			}
			return injected
		}}, "injected failure"},
		{"interrupted (Ctrl-C) while writing evals", ctx, loaders.Options{Progress: func(stage string) {
			if stage == "writing pretrain_evals" {
				cancel()
			}
		}}, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := func() (err error) {
				defer func() {
					if r := recover(); r != nil {
						err = r.(error)
					}
				}()
				_, err = v.E.Load(tt.ctx, "datadecide", full, tt.opts)
				return err
			}()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load() error = %v, want %q", err, tt.want)
			}
			if after := v.Snapshot(); after != before {
				t.Errorf("the failed load changed the database:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}
