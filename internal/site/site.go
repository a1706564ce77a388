// Package site writes dschema's static site: one self-contained HTML page
// (dschema docs --html DIR) with the data dictionary, where each column
// comes from, row counts, the load history and charts drawn as SVG by Go.
// The page fetches nothing and bundles no script library: its only script
// is a few inline lines that choose the metric shown.
package site

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/labdb"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/schema"
	"github.com/dschema/dschema/internal/version"
)

// DefaultMetrics are the pretrain_evals columns charted when none are named:
// the perplexities on Pile and C4 and the primary metric of the core tasks.
var DefaultMetrics = []string{
	"arc_easy_primary_metric", "arc_challenge_primary_metric", "boolq_primary_metric", "csqa_primary_metric",
	"hellaswag_primary_metric", "openbookqa_primary_metric", "piqa_primary_metric", "socialiqa_primary_metric",
	"winogrande_primary_metric", "mmlu_average_primary_metric", "pile_valppl", "c4_en_valppl",
}

// Options say what the page shows.
type Options struct {
	// DB is the database whose row counts, loads and data the page shows.
	// When there is no file there, the page holds the dictionary alone and says so.
	DB string
	// Metrics are the pretrain_evals columns charted (DefaultMetrics when
	// empty); the page's selector chooses among them.
	Metrics []string
}

// Result says what Write wrote.
type Result struct {
	Path    string // DIR/index.html
	Bytes   int64
	HasDB   bool
	Metrics int // metrics charted
}

// Page is what the template renders.
type Page struct {
	Tool          string
	DB            string
	HasDB         bool
	NoDB          string // why there is no data, when HasDB is false
	SchemaVersion int64
	Domains       []DomainView
	Undeclared    []string // loader kinds that declare no column sources
	Loads         []loaders.LoadRecord
	Metrics       []Metric
	NoValues      []string // metrics asked for without a single value
	Loss          Loss
	Deltas        Deltas
}

// Write renders the page for s (with canonical types) into dir/index.html,
// creating dir. A database that exists but is not at the newest schema
// version is refused, as a load refuses it.
func Write(ctx context.Context, dir string, s *schema.Schema, o Options) (*Result, error) {
	if len(o.Metrics) == 0 {
		o.Metrics = DefaultMetrics
	}
	if err := checkMetrics(s, o.Metrics); err != nil {
		return nil, err
	}
	p, err := build(ctx, s, o)
	if err != nil {
		return nil, err
	}
	return render(dir, p)
}

// checkMetrics refuses a metric that is not a DOUBLE value column of pretrain_evals.
func checkMetrics(s *schema.Schema, metrics []string) error {
	t := s.Table("pretrain_evals")
	if t == nil {
		return errors.New("the schema has no pretrain_evals table")
	}
	for _, m := range metrics {
		c := t.Column(m)
		if c == nil || c.Type != "DOUBLE" || slices.Contains([]string{"tokens", "compute"}, m) {
			return fmt.Errorf("metric %q: not a value column of pretrain_evals (e.g. arc_easy_primary_metric, pile_valppl)", m)
		}
	}
	return nil
}

// build reads what the page shows.
func build(ctx context.Context, s *schema.Schema, o Options) (*Page, error) {
	p := &Page{Tool: version.String(), DB: o.DB}
	srcs := loaders.ColumnSources()
	for _, k := range loaders.Kinds() {
		if _, ok := srcs[k]; !ok {
			p.Undeclared = append(p.Undeclared, k)
		}
	}
	db, m, err := labdb.OpenMigrator(ctx, o.DB, false)
	if errors.Is(err, dbfile.ErrNoDatabase) {
		p.NoDB = err.Error()
		p.Domains = dictionary(s, srcs, nil)
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if p.SchemaVersion, err = m.RequireNewest(ctx); err != nil {
		return nil, fmt.Errorf("%w (docs --html reads the newest schema)", err)
	}
	p.HasDB = true
	counts, err := rowCounts(ctx, db, s)
	if err != nil {
		return nil, err
	}
	p.Domains = dictionary(s, srcs, counts)
	if err := readData(ctx, db, p, o.Metrics); err != nil {
		return nil, err
	}
	return p, nil
}

// readData reads the load history and the charts' data.
func readData(ctx context.Context, db *sql.DB, p *Page, metrics []string) error {
	var err error
	if p.Loads, err = loaders.ListLoads(ctx, db); err != nil {
		return err
	}
	for _, name := range metrics {
		rows, err := curveRows(ctx, db, name)
		if err != nil {
			return err
		}
		m := pretrainMetric(name, rows)
		if m.Plotted == 0 {
			p.NoValues = append(p.NoValues, name)
			continue
		}
		p.Metrics = append(p.Metrics, m)
	}
	loss, err := lossRows(ctx, db)
	if err != nil {
		return err
	}
	p.Loss = lossChart(loss)
	p.Deltas, err = deltas(ctx, db)
	return err
}

//go:embed page.html.tmpl
var pageTemplate string

var tmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"legend": legendHTML,
	"short":  func(s string) string { return shorten(s, 12) },
}).Parse(pageTemplate))

// render writes p to dir/index.html through a temporary file, so a failed
// render leaves an older page as it was.
func render(dir string, p *Page) (*Result, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(dir, "index.html")
	f, err := os.CreateTemp(dir, ".index-*.html")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := tmpl.Execute(f, p); err != nil {
		f.Close()
		return nil, fmt.Errorf("render %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return &Result{Path: path, Bytes: st.Size(), HasDB: p.HasDB, Metrics: len(p.Metrics)}, nil
}

// PrintResult says what Write wrote, in one line.
func PrintResult(w io.Writer, r *Result) {
	what := "the data dictionary alone (no database)"
	if r.HasDB {
		what = fmt.Sprintf("the dictionary, row counts, loads and %d pretraining metrics", r.Metrics)
	}
	fmt.Fprintf(w, "wrote %s (%d bytes): %s\n", r.Path, r.Bytes, what)
}
