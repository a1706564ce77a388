// Package quickstart builds a database from the bundled sample data through
// the real pipeline: it writes the sample files (generated
// deterministically), migrates the database, loads the sample folder as
// dschema load <folder> does (which checks the legacy aggregates against
// the database's seed-aggregate views), and prints what the database
// holds.
package quickstart

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/labdb"
	"github.com/dschema/dschema/internal/loaders"
	_ "github.com/dschema/dschema/internal/loaders/all" // quickstart loads every kind
	"github.com/dschema/dschema/internal/migrate"
)

// Source is the logical source of quickstart's sample full_eval; each
// other sample file's source is Source + "/" + its base name.
const Source = "dschema quickstart sample: full_eval.parquet"

// Options say where quickstart builds its database and where it reports.
type Options struct {
	// DB is the database file; it must be named. A file already there is
	// migrated up and the sample loaded into it (unchanged files load nothing).
	DB string
	// SampleDir is where the sample files are written (default: DB + ".sample").
	SampleDir string
	// Out receives the report.
	Out io.Writer
}

// sample is the files quickstart writes.
type sample struct {
	dir                  string
	full, mean, std      string // DataDecide full_eval and its aggregates
	runs, history        string // W&B runs metadata and history
	qaTarball, qaDump    string // QA outputs: a recipe tarball, an OLMES dump folder
	modernized, combined string // show-and-tell pickles
}

// Run writes the sample, builds the database at o.DB from it and prints
// what it holds to o.Out. It fails when a legacy aggregate disagrees with
// the database.
func Run(ctx context.Context, o Options) error {
	// Before anything is written: an empty DB would put the sample in ./.sample.
	if err := dbfile.Named(o.DB); err != nil {
		return err
	}
	if o.SampleDir == "" {
		o.SampleDir = o.DB + ".sample"
	}
	s, err := writeSample(ctx, o.SampleDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "sample data written to %s\n", s.dir)

	if _, err := labdb.UpNewDB(ctx, o.DB, o.Out); err != nil {
		return err
	}
	db, m, err := labdb.OpenMigrator(ctx, o.DB, true)
	if err != nil {
		return err
	}
	defer db.Close()
	rs, err := m.Up(ctx)
	labdb.PrintResults(o.Out, rs)
	if err != nil {
		return err
	}
	if err := load(ctx, &loaders.Engine{DB: db, DBPath: o.DB}, s, o.Out); err != nil {
		return err
	}
	if err := describe(ctx, db, m, o.DB, o.Out); err != nil {
		return err
	}
	return printTables(ctx, db, o.Out)
}

// writeSample writes the sample files into dir.
func writeSample(ctx context.Context, dir string) (*sample, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &sample{
		dir:       dir,
		full:      filepath.Join(dir, "full_eval.parquet"),
		mean:      filepath.Join(dir, "mean_eval.parquet"),
		std:       filepath.Join(dir, "std_eval.parquet"),
		runs:      filepath.Join(dir, "runs_metadata.parquet"),
		history:   filepath.Join(dir, "runs_history.jsonl"),
		qaTarball: filepath.Join(dir, "instances", "c4.tar.gz"),
	}
	if _, err := fixtures.WriteFullEval(ctx, s.full, fixtures.SampleSpec()); err != nil {
		return nil, err
	}
	if err := fixtures.WriteAggregates(ctx, s.full, s.mean, s.std, fixtures.AggCurrent); err != nil {
		return nil, err
	}
	spec := fixtures.SampleWandb()
	wruns := fixtures.WandbRuns(spec)
	if err := fixtures.WriteRuns(ctx, s.runs, fixtures.RunsCanonical, wruns, false); err != nil {
		return nil, err
	}
	if err := fixtures.WriteHistory(ctx, s.history, fixtures.HistV3, fixtures.WandbHistory(spec, wruns)); err != nil {
		return nil, err
	}
	if err := fixtures.WriteQARecipeTarball(s.qaTarball, fixtures.SampleQACheckpoints(), fixtures.QATasks, fixtures.QAQuestions); err != nil {
		return nil, err
	}
	var err error
	s.qaDump, err = fixtures.WriteOLMESDump(filepath.Join(dir, "olmes"), fixtures.RunName(1), fixtures.QATasks, fixtures.QAQuestions)
	if err != nil {
		return nil, err
	}
	if s.modernized, err = fixtures.WritePickle(dir, fixtures.ModernizedPickle); err != nil {
		return nil, err
	}
	if s.combined, err = fixtures.WritePickle(dir, fixtures.MatchedPickle); err != nil {
		return nil, err
	}
	return s, nil
}

// load loads the sample folder as dschema load <folder> does: every file
// recognised by its content, in dependency order, the aggregate checks
// included, printing each result and the summary. It fails when a file
// fails or an aggregate disagrees with the database.
func load(ctx context.Context, e *loaders.Engine, s *sample, out io.Writer) error {
	plan, err := e.Plan(ctx, []string{s.dir}, loaders.PlanOptions{SourceFor: SourceFor})
	if err != nil {
		return err
	}
	sum, err := e.Run(ctx, plan, loaders.RunOptions{Each: func(r *loaders.FileResult) { loaders.PrintResult(out, r) }})
	if err != nil {
		return err
	}
	loaders.PrintFolderSummary(out, sum)
	if !sum.OK() {
		return fmt.Errorf("the sample in %s did not load: %d files failed, %d checks disagree", s.dir, sum.Totals[loaders.ResultFailed], sum.Totals[loaders.ResultDisagrees])
	}
	return nil
}

// SourceFor names the source of a sample file by its path under the
// sample folder: Source for full_eval.parquet, Source + "/" + its base
// name for the others. The sample is the same wherever it is written, so
// a copy of the database takes it as unchanged.
func SourceFor(rel string) string {
	if rel == "full_eval.parquet" {
		return Source
	}
	return Source + "/" + path.Base(rel)
}

// describe prints the database's version, its tables with their column and
// row counts, and its views.
func describe(ctx context.Context, db *sql.DB, m *migrate.Migrator, path string, out io.Writer) error {
	cur, err := m.RequireNewest(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%s is at schema version %d and holds:\n", path, cur)
	state, err := dbschema.Introspect(ctx, db)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%-22s %8s %8s\n", "TABLE", "COLUMNS", "ROWS")
	for _, t := range state.Tables {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+dbschema.Ident(t.Name)).Scan(&n); err != nil {
			return err
		}
		fmt.Fprintf(out, "%-22s %8d %8d\n", t.Name, len(t.Columns), n)
	}
	var views []string
	for _, v := range state.Views {
		views = append(views, v.Name)
	}
	sort.Strings(views)
	fmt.Fprintf(out, "views: %s\n", strings.Join(views, ", "))
	return nil
}
