package site

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/docs"
	"github.com/dschema/dschema/internal/quickstart"
	"github.com/dschema/dschema/internal/schema"
)

// The quickstart database and its page, built once for the package's tests.
var shared struct {
	once          sync.Once
	dir, db, page string
	html          string
	schema        *schema.Schema
	err           error
}

// quickstartPage builds the quickstart database and writes its page (about a minute).
func quickstartPage(t *testing.T) (db, page, html string, s *schema.Schema) {
	t.Helper()
	shared.once.Do(func() {
		ctx := context.Background()
		shared.dir, shared.err = os.MkdirTemp("", "dschema-site-")
		if shared.err != nil {
			return
		}
		shared.db = filepath.Join(shared.dir, "lab.duckdb")
		if shared.err = quickstart.Run(ctx, quickstart.Options{DB: shared.db, Out: io.Discard}); shared.err != nil {
			return
		}
		if shared.schema, shared.err = docs.CanonicalSchema(ctx); shared.err != nil {
			return
		}
		var res *Result
		if res, shared.err = Write(ctx, filepath.Join(shared.dir, "site"), shared.schema, Options{DB: shared.db}); shared.err != nil {
			return
		}
		shared.page = res.Path
		var b []byte
		b, shared.err = os.ReadFile(res.Path)
		shared.html = string(b)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.db, shared.page, shared.html, shared.schema
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

func queryInt(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestQuickstartPage: the page of the quickstart database shows what the
// database holds, counted independently here.
func TestQuickstartPage(t *testing.T) {
	path, _, page, s := quickstartPage(t)
	db, err := dbfile.OpenExisting(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tab := range s.Tables {
		n := queryInt(t, db, "SELECT count(*) FROM "+tab.Name)
		if want := fmt.Sprintf(`data-table="%s">%d</td>`, tab.Name, n); !strings.Contains(page, want) {
			t.Errorf("row count of %s: no %s", tab.Name, want)
		}
	}
	for _, m := range DefaultMetrics {
		rows := queryInt(t, db, "SELECT count(*) FROM pretrain_evals_mean")
		drawn := queryInt(t, db, fmt.Sprintf("SELECT count(*) FROM pretrain_evals_mean WHERE %s IS NOT NULL AND isfinite(%s) AND tokens IS NOT NULL", m, m))
		want := fmt.Sprintf(`data-metric="%s" data-rows="%d" data-plotted="%d"`, m, rows, drawn)
		if drawn > 0 && !strings.Contains(page, want) {
			t.Errorf("metric %s: no %s", m, want)
		}
	}
	// The values drawn are the view's: mean over seeds, exactly.
	rs, err := db.Query(`SELECT tokens, arc_easy_primary_metric FROM pretrain_evals_mean
		WHERE params = '1B' AND data = 'C4' AND arc_easy_primary_metric IS NOT NULL ORDER BY step`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rs.Next() {
		var x, y float64
		if err := rs.Scan(&x, &y); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(`data-series="C4" data-x="%s" data-y="%s"`, exact(x), exact(y)); !strings.Contains(page, want) {
			t.Errorf("1B C4 arc_easy_primary_metric: no point %s", want)
		}
		n++
	}
	rs.Close()
	if n == 0 {
		t.Errorf("no 1B C4 arc_easy_primary_metric in the view")
	}
	loads := queryInt(t, db, "SELECT count(*) FROM dschema_loads")
	if got := strings.Count(page, `<tr><td class="num">`); got != loads {
		t.Errorf("%d loads on the page, want %d", got, loads)
	}
	runs := queryInt(t, db, "SELECT count(DISTINCT run_id) FROM wandb_history WHERE train_loss IS NOT NULL")
	rows := queryInt(t, db, "SELECT count(*) FROM wandb_history WHERE run_id IN (SELECT run_id FROM wandb_history WHERE train_loss IS NOT NULL)")
	if want := fmt.Sprintf(`<figure id="loss" data-runs="%d" data-rows="%d">`, runs, rows); !strings.Contains(page, want) {
		t.Errorf("no %s", want)
	}
	for _, want := range []string{
		// The quickstart sample's two matched runs start from checkpoints pretrain_evals lacks.
		"2 matched run(s); 0 with deltas.",
		"no pretrain_evals row (seed 0) at its checkpoint 530M Dolma1.7 step 6250",
		`<figure id="framedeltas" data-bars="3">`,
		`data-missing="1">1 value not drawn`,
		"2 run(s) log no <code>train_loss</code>",
		// Provenance as the loaders declare it.
		`<code>c4_en-valppl</code> <span>(datadecide: full_eval (1,939-column layout))</span>`,
		`<code>summary._runtime</code> <span>(wandb-runs: every layout)</span>`,
		`<code>logps/chosen</code> <span>(wandb-history: every layout)</span>`,
		`<code>qa-outputs</code>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, `id="nodb"`) {
		t.Errorf("the page says there is no database")
	}
}

// TestPageWithoutDatabase: without a database file the page holds the
// dictionary, says why there is nothing else, and creates no file.
func TestPageWithoutDatabase(t *testing.T) {
	ctx := context.Background()
	s, err := docs.CanonicalSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	missing := filepath.Join(dir, "none.duckdb")
	res, err := Write(ctx, filepath.Join(dir, "site"), s, Options{DB: missing})
	if err != nil {
		t.Fatal(err)
	}
	if res.HasDB {
		t.Errorf("HasDB with no database")
	}
	b, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{`id="nodb"`, "database " + missing + " does not exist", `id="t-pretrain_evals"`, `<code>params_numeric</code>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, not := range []string{`id="pretraining"`, `<svg`, `id="loadtable"`} {
		if strings.Contains(page, not) {
			t.Errorf("the page without a database has %q", not)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("Write created %s", missing)
	}
}

// TestUnknownMetric: a metric that is not a value column is refused, naming it.
func TestUnknownMetric(t *testing.T) {
	ctx := context.Background()
	s, err := docs.CanonicalSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"arc_easy_nope", "tokens", "params", "extra_metrics"} {
		_, err := Write(ctx, t.TempDir(), s, Options{DB: "none.duckdb", Metrics: []string{m}})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("metric %q", m)) {
			t.Errorf("metric %s: %v, want it refused", m, err)
		}
	}
}
