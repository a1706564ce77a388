package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/loaders"
)

// loadFlags are the flags of dschema load.
type loadFlags struct {
	opts   loaders.Options
	asJSON bool
	stat   string
	dryRun bool
}

func loadCmd(g *globals) *cobra.Command {
	var f loadFlags
	cmd := &cobra.Command{
		Use:   "load [<kind>] <path>...",
		Short: "Load legacy files into the database, one transaction per file, with provenance",
		Long: "Load legacy files into the database. Kinds:\n" + kindList() +
			"\nEach file is one all-or-nothing load recorded in dschema_loads. Loading the same content again\n" +
			"changes nothing; a changed file at the same source replaces exactly the rows its old version wrote.\n\n" +
			"Without a kind, every argument is a file or folder: folders are walked, each file is recognised by\n" +
			"its content and loaded in dependency order, each in its own transaction, a failed file not\n" +
			"stopping the others; --dry-run prints the plan. A first argument that is a kind is the kind:\n" +
			"write ./NAME for a file or folder of that name.",
		Args: cobra.MinimumNArgs(1),
		Example: `  dschema load datadecide full_eval.parquet --db lab.duckdb
  dschema load datadecide-agg mean_eval.parquet std_eval.parquet
  dschema load datadecide full_eval.parquet --json --strict
  dschema load lab.duckdb.sample --dry-run`,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			var said bool
			if f.asJSON {
				defer jsonError(cmd.OutOrStdout(), &err, &said)
			}
			if err := checkLoadArgs(args, exists); err != nil {
				return err
			}
			if !isKind(args[0]) {
				return loadPaths(cmd, g, &f, args, &said)
			}
			if f.dryRun {
				return fmt.Errorf("--dry-run is for dschema load <path>... without a kind")
			}
			return loadKind(cmd, g, &f, args[0], args[1:], &said)
		},
	}
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print a machine-readable summary (one JSON object per file; without a kind, one for the whole load)")
	cmd.Flags().BoolVar(&f.opts.Strict, "strict", false, "refuse columns the schema does not know instead of keeping them aside")
	cmd.Flags().StringVar(&f.opts.Source, "source", "", "logical source name (default: the file's absolute path)")
	cmd.Flags().StringVar(&f.opts.MemoryLimit, "memory-limit", "", "bound DuckDB's memory during the load (DuckDB syntax; \"\" for DuckDB's own, 80% of RAM; default by kind: "+memoryLimits()+")")
	cmd.Flags().StringVar(&f.stat, "stat", "", "for datadecide-agg: mean or std (default: from the file name)")
	cmd.Flags().StringVar(&f.opts.SourceTZ, "source-tz", "", "wandb-history: time zone of the canonical runs_history.parquet's naive timestamps, e.g. America/New_York (default: read as UTC, and said so; refused for layouts without naive times)")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "without a kind: print the plan (path, kind, layout, action per file) and write nothing")
	return cmd
}

// isKind reports whether arg is a registered load or check kind.
func isKind(arg string) bool {
	_, err := loaders.Lookup(arg)
	return err == nil || loaders.IsCheck(arg)
}

// exists reports whether a file or folder (or link) is at path.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// checkLoadArgs checks load's arguments: a kind takes at least one path;
// a first argument that is no kind is a path, unless it exists nowhere and
// reads as a kind (a word without a dot or a slash): then it is a
// mistyped kind.
func checkLoadArgs(args []string, exists func(string) bool) error {
	first := args[0]
	switch {
	case isKind(first) && len(args) < 2:
		return fmt.Errorf("give the files to load as %s: dschema load %s <path>... (./%s names a file or folder of that name)", first, first, first)
	case isKind(first) || exists(first) || strings.ContainsAny(first, "./"+string(filepath.Separator)):
		return nil
	}
	return fmt.Errorf("unknown load kind %q (known: %s)", first, strings.Join(append(loaders.Kinds(), loaders.CheckKinds()...), ", "))
}

// loadKind is dschema load <kind> <path>...: it stops at the first file
// that fails.
func loadKind(cmd *cobra.Command, g *globals, f *loadFlags, kind string, paths []string, said *bool) error {
	ctx := cmd.Context()
	opts := f.opts
	check := loaders.IsCheck(kind) // a check of files that are not loaded (datadecide-agg)
	if !check && f.stat != "" {
		return fmt.Errorf("--stat is for %s, not for %s", strings.Join(loaders.StatKinds(), ", "), kind)
	}
	if err := loaders.CheckOptions(kind, opts); err != nil {
		return err
	}
	if opts.Source != "" && len(paths) > 1 {
		return fmt.Errorf("--source names one source: give one file")
	}
	db, err := dbfile.OpenExisting(ctx, g.db)
	if err != nil {
		return err
	}
	defer db.Close()
	e := &loaders.Engine{DB: db, DBPath: g.db}
	out := cmd.OutOrStdout()
	if check {
		if _, err := e.Prepare(ctx); err != nil {
			return err
		}
		bad, err := verifyFiles(ctx, db, kind, paths, loaders.VerifyOptions{Stat: f.stat}, f.asJSON, out)
		if err != nil {
			return err
		}
		if bad > 0 {
			*said = true
			return fmt.Errorf("%d of %d aggregate files disagree with the database", bad, len(paths))
		}
		return nil
	}
	if !cmd.Flags().Changed("memory-limit") {
		opts.MemoryLimit = loaders.DefaultMemoryLimit(kind)
	}
	for i, p := range paths {
		o := opts
		done := startProgress(cmd.ErrOrStderr(), p, &o)
		s, err := e.Load(ctx, kind, p, o)
		done()
		if err != nil {
			return notTried(err, paths[i+1:])
		}
		if f.asJSON {
			writeJSON(out, s)
		} else {
			loaders.PrintSummary(out, p, s)
		}
	}
	return nil
}

// startProgress sets a load's progress reporting to a bar on w (a
// terminal) and returns what ends it.
func startProgress(w io.Writer, path string, o *loaders.Options) (done func()) {
	bar := newProgress(w, path)
	o.Progress, o.HashProgress, o.ReadProgress = bar.stage, bar.bytes, bar.read
	if bar.on {
		o.Fraction = bar.fraction
	}
	return bar.finish
}

// loadPaths is dschema load <path>...: a plan of every file found,
// printed with --dry-run, else run file by file.
func loadPaths(cmd *cobra.Command, g *globals, f *loadFlags, paths []string, said *bool) error {
	ctx := cmd.Context()
	switch {
	case f.opts.Source != "":
		return fmt.Errorf("--source names the source of one file given with its kind (dschema load <kind> <file> --source NAME); without a kind, each file is its own source")
	case f.stat != "":
		return fmt.Errorf("--stat is for dschema load datadecide-agg <file>; without a kind, a check tells mean from std by the file name")
	}
	db, err := dbfile.OpenExisting(ctx, g.db)
	if err != nil {
		return err
	}
	defer db.Close()
	e := &loaders.Engine{DB: db, DBPath: g.db}
	plan, err := e.Plan(ctx, paths, loaders.PlanOptions{Hash: f.dryRun, SourceTZ: f.opts.SourceTZ})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	var s *loaders.FolderSummary
	if f.dryRun {
		s = loaders.DryRun(plan)
		if !f.asJSON {
			loaders.PrintPlan(out, s)
		}
	} else {
		ro := loaders.RunOptions{Load: f.opts, MemoryLimitSet: cmd.Flags().Changed("memory-limit"),
			Start: func(p string, o *loaders.Options) func() { return startProgress(cmd.ErrOrStderr(), p, o) }}
		if !f.asJSON {
			ro.Each = func(r *loaders.FileResult) { loaders.PrintResult(out, r) }
		}
		if s, err = e.Run(ctx, plan, ro); err != nil {
			return err
		}
		if !f.asJSON {
			loaders.PrintFolderSummary(out, s)
		}
	}
	if f.asJSON {
		writeJSON(out, s)
	}
	if !s.OK() {
		*said = true
		return fmt.Errorf("%s", failureLine(s))
	}
	return nil
}

// failureLine says how many files failed or disagreed.
func failureLine(s *loaders.FolderSummary) string {
	if s.DryRun {
		return fmt.Sprintf("%d of %d files would be refused", s.Totals["refused"], s.Totals["files"])
	}
	return fmt.Sprintf("%d of %d files failed, %d checks disagree", s.Totals[loaders.ResultFailed], s.Totals["files"], s.Totals[loaders.ResultDisagrees])
}

// notTried adds to a file's error the files after it, which a multi-file
// command does not try once one failed (the ones before it stay loaded).
func notTried(err error, rest []string) error {
	if len(rest) == 0 {
		return err
	}
	return fmt.Errorf("%w (stopped there: %d later file(s) not tried: %s)", err, len(rest), strings.Join(rest, ", "))
}

// jsonError prints a failed command's error as one JSON object, for --json,
// unless the failure was already said in JSON (a result with ok false).
func jsonError(w io.Writer, err *error, said *bool) {
	if *err == nil || (said != nil && *said) {
		return
	}
	out := map[string]any{"error": errLine(*err)}
	var fe *loaders.FileError
	if errors.As(*err, &fe) {
		out["path"], out["place"] = fe.Path, fe.Place
	}
	writeJSON(w, out)
}

// memoryLimits lists each kind's default limit, for --help.
func memoryLimits() string {
	var out []string
	for _, k := range loaders.Kinds() {
		out = append(out, k+" "+loaders.DefaultMemoryLimit(k))
	}
	return strings.Join(out, ", ")
}

func kindList() string {
	var b strings.Builder
	for _, k := range loaders.Kinds() {
		l, _ := loaders.Lookup(k)
		fmt.Fprintf(&b, "  %-16s %s\n", k, l.Short())
	}
	for _, k := range loaders.CheckKinds() {
		v, _ := loaders.LookupVerifier(k)
		short := "a check that stores nothing (the same as dschema verify " + k + ")"
		if d, ok := v.(interface{ Short() string }); ok {
			short = d.Short()
		}
		fmt.Fprintf(&b, "  %-16s %s\n", k, short)
	}
	return b.String()
}

func writeJSON(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintln(w, string(b))
}

// progress shows a bar on a terminal for loads that take over a second:
// bytes while the file is hashed, then each stage of the load with the
// part of the file DuckDB reports its statement has read, in bytes (a
// spinner when it reports none).
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	bar   *progressbar.ProgressBar
	mode  string // "bytes" (hashing), "read" (DuckDB's fraction as bytes) or "spinner": what bar shows
	path  string
	size  int64 // of the file: DuckDB's fraction of a statement is shown as bytes of it
	stg   string
	on    bool
}

// Test hooks: whether w is a terminal, and how long a load runs before a bar shows.
var (
	isTerminal = func(w io.Writer) bool {
		f, ok := w.(*os.File)
		return ok && term.IsTerminal(int(f.Fd()))
	}
	progressAfter = time.Second
)

func newProgress(w io.Writer, path string) *progress {
	var size int64
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	return &progress{w: w, start: time.Now(), path: filepath.Base(path), size: size, on: isTerminal(w)}
}

// barFor returns the bar in mode, making a new one when the mode changes.
func (p *progress) barFor(mode string, total int64) *progressbar.ProgressBar {
	if !p.on || time.Since(p.start) < progressAfter {
		return nil
	}
	if p.bar != nil && p.mode == mode {
		return p.bar
	}
	if p.bar != nil {
		p.bar.Finish()
	}
	opts := []progressbar.Option{progressbar.OptionSetWriter(p.w), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30),
		progressbar.OptionSetDescription(p.path + ": " + p.stg)}
	switch mode {
	case "bytes", "read":
		opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionShowCount())
	}
	p.bar, p.mode = progressbar.NewOptions64(total, opts...), mode
	return p.bar
}

func (p *progress) bytes(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stg = "hashing"
	if b := p.barFor("bytes", total); b != nil {
		b.Set64(done)
	}
}

// read shows how many bytes of the source a streaming loader has read.
func (p *progress) read(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.barFor("read", total); b != nil {
		b.Describe(p.path + ": " + p.stg)
		b.Set64(done)
	}
}

func (p *progress) stage(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stg = s
	if b := p.barFor("spinner", -1); b != nil {
		b.Describe(p.path + ": " + s)
		b.RenderBlank()
	}
}

func (p *progress) fraction(s string, f float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s != p.stg {
		return // a late report of a stage that ended
	}
	// The loaders' statements scan the file: DuckDB's fraction of the
	// statement is shown as bytes of it.
	if b := p.barFor("read", p.size); b != nil {
		b.Describe(p.path + ": " + s)
		b.Set64(int64(f * float64(p.size)))
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
	}
}

func loadsCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "loads",
		Short:   "List the loads recorded in the database (dschema_loads)",
		Args:    cobra.NoArgs,
		Example: "  dschema loads --db lab.duckdb\n  dschema loads --json",
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			out := cmd.OutOrStdout()
			if asJSON {
				defer jsonError(out, &err, nil)
			}
			ctx := cmd.Context()
			db, err := openNewest(ctx, g.db)
			if err != nil {
				return err
			}
			defer db.Close()
			list, err := loaders.ListLoads(ctx, db)
			if err != nil {
				return err
			}
			if asJSON {
				writeJSON(out, list)
				return nil
			}
			fmt.Fprintf(out, "%-5s %-12s %-10s %-20s %-13s %9s %-9s %s\n", "LOAD", "KIND", "STATE", "STARTED (UTC)", "SHA256", "ROWS", "REPLACES", "SOURCE")
			for _, r := range list {
				replaced := "-"
				if r.Replaces != nil {
					replaced = fmt.Sprint(*r.Replaces)
				}
				fmt.Fprintf(out, "%-5d %-12s %-10s %-20s %-13.12s %9d %-9s %s\n", r.LoadID, r.Kind, r.State, r.Started, r.SHA256, r.Rows, replaced, r.Source)
			}
			if len(list) == 0 {
				fmt.Fprintln(out, "(no loads yet)")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the loads as a JSON array")
	return cmd
}

func verifyCmd(g *globals) *cobra.Command {
	var opts loaders.VerifyOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify <kind> <path>...",
		Short: "Compare files with the database value for value (NaN = NaN, NULL = NULL); store nothing",
		Long: "Compares each file with what the database holds and exits non-zero on any difference, naming\n" +
			"examples and every column it did not compare. Kinds: " + strings.Join(loaders.VerifierKinds(), ", ") + ".",
		Args: cobra.MinimumNArgs(2),
		Example: `  dschema verify datadecide full_eval.parquet --db lab.duckdb
  dschema verify datadecide-agg mean_eval.parquet std_eval.parquet
  dschema verify qa-outputs models/c4.tar.gz instances_extracted/`,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			var said bool
			if asJSON {
				defer jsonError(cmd.OutOrStdout(), &err, &said)
			}
			kind, paths := args[0], args[1:]
			if _, err := loaders.LookupVerifier(kind); err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := openNewest(ctx, g.db)
			if err != nil {
				return err
			}
			defer db.Close()
			bad, err := verifyFiles(ctx, db, kind, paths, opts, asJSON, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			switch {
			case bad > 0 && len(paths) == 1:
				said = asJSON
				return fmt.Errorf("%s differs from the database", paths[0])
			case bad > 0:
				said = asJSON
				return fmt.Errorf("%d of %d files differ from the database", bad, len(paths))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&opts.MaxExamples, "examples", 5, "differing cells to show")
	cmd.Flags().StringVar(&opts.Stat, "stat", "", "for datadecide-agg: mean or std (default: from the file name)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a machine-readable result per file")
	return cmd
}

// verifyFiles verifies each file with the verifier of kind, printing each
// verdict (one JSON object per file with asJSON), and returns how many
// disagree. It stops at the first file it cannot verify.
func verifyFiles(ctx context.Context, db *sql.DB, kind string, paths []string, opts loaders.VerifyOptions, asJSON bool, out io.Writer) (int, error) {
	v, err := loaders.LookupVerifier(kind)
	if err != nil {
		return 0, err
	}
	bad := 0
	for i, p := range paths {
		verdict, err := v.Verify(ctx, db, p, opts)
		if err != nil {
			return bad, notTried(err, paths[i+1:])
		}
		if asJSON {
			writeJSON(out, verdict)
		} else {
			verdict.Report(out)
		}
		if !verdict.OK() {
			bad++
		}
	}
	return bad, nil
}

// openNewest opens the database and refuses it unless it is at the newest schema version.
func openNewest(ctx context.Context, path string) (*sql.DB, error) {
	db, err := dbfile.OpenExisting(ctx, path)
	if err != nil {
		return nil, err
	}
	if _, err := (&loaders.Engine{DB: db, DBPath: path}).Prepare(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
