package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/loaders"
)

const aggKind = "datadecide-agg"

func loadCmd(g *globals) *cobra.Command {
	var opts loaders.Options
	var asJSON bool
	var stat string
	cmd := &cobra.Command{
		Use:   "load <kind> <path>...",
		Short: "Load legacy files into the database, one transaction per file, with provenance",
		Long: "Load legacy files into the database. Kinds:\n" + kindList() +
			"\nEach file is one all-or-nothing load recorded in dschema_loads. Loading the same content again\n" +
			"changes nothing; a changed file at the same source replaces exactly the rows its old version wrote.",
		Args: cobra.MinimumNArgs(2),
		Example: `  dschema load datadecide full_eval.parquet --db lab.duckdb
  dschema load datadecide-agg mean_eval.parquet std_eval.parquet
  dschema load datadecide full_eval.parquet --json --strict`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			kind, paths := args[0], args[1:]
			if kind != aggKind {
				if _, err := loaders.Lookup(kind); err != nil {
					return fmt.Errorf("%w, %s", err, aggKind)
				}
			}
			if opts.Source != "" && len(paths) > 1 {
				return fmt.Errorf("--source names one source: give one file")
			}
			db, err := dbfile.Open(ctx, g.db)
			if err != nil {
				return err
			}
			defer db.Close()
			e := &loaders.Engine{DB: db, DBPath: g.db}
			out := cmd.OutOrStdout()
			if kind == aggKind {
				if _, err := e.Prepare(ctx); err != nil {
					return err
				}
				bad := 0
				for _, p := range paths {
					a, err := loaders.CheckDataDecideAgg(ctx, db, p, stat)
					if err != nil {
						return err
					}
					if asJSON {
						writeJSON(out, a)
					} else {
						printAgg(out, a)
					}
					if !a.OK() {
						bad++
					}
				}
				if bad > 0 {
					return fmt.Errorf("%d of %d aggregate files disagree with the database", bad, len(paths))
				}
				return nil
			}
			for _, p := range paths {
				o := opts
				bar := newProgress(cmd.ErrOrStderr(), p)
				o.Progress, o.HashProgress = bar.stage, bar.bytes
				s, err := e.Load(ctx, kind, p, o)
				bar.finish()
				if err != nil {
					return err
				}
				if asJSON {
					writeJSON(out, s)
				} else {
					printSummary(out, p, s)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a machine-readable summary (one JSON object per file)")
	cmd.Flags().BoolVar(&opts.Strict, "strict", false, "refuse columns the schema does not know instead of keeping them aside")
	cmd.Flags().StringVar(&opts.Source, "source", "", "logical source name (default: the file's absolute path)")
	cmd.Flags().StringVar(&stat, "stat", "", "for datadecide-agg: mean or std (default: from the file name)")
	return cmd
}

func kindList() string {
	var b strings.Builder
	for _, k := range loaders.Kinds() {
		l, _ := loaders.Lookup(k)
		fmt.Fprintf(&b, "  %-16s %s\n", k, l.Short())
	}
	fmt.Fprintf(&b, "  %-16s %s\n", aggKind, "check a legacy mean_eval/std_eval.parquet against the seed-aggregate views (stores nothing)")
	return b.String()
}

func writeJSON(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintln(w, string(b))
}

func printSummary(w io.Writer, path string, s *loaders.Summary) {
	name := filepath.Base(path)
	if s.Unchanged {
		fmt.Fprintf(w, "%s: unchanged since load %d (sha256 %.12s…, %s); nothing written\n", name, s.LoadID, s.SHA256, s.Variant)
		return
	}
	fmt.Fprintf(w, "%s: loaded as %s, layout %s: load %d in %.2fs\n", name, s.Kind, s.Variant, s.LoadID, s.Seconds)
	if s.ReplacedLoad != 0 {
		var removed []string
		for _, t := range sortedKeys(s.Removed) {
			removed = append(removed, fmt.Sprintf("%s %d", t, s.Removed[t]))
		}
		fmt.Fprintf(w, "  replaced load %d of the same source (rows removed: %s)\n", s.ReplacedLoad, strings.Join(removed, ", "))
	}
	for _, t := range sortedKeys(s.Rows) {
		fmt.Fprintf(w, "  %-20s %9d rows written\n", t, s.Rows[t])
	}
	for _, k := range s.Kept {
		fmt.Fprintf(w, "  kept aside: %s: %s\n", k.What, k.Reason)
	}
	for _, k := range s.Skipped {
		fmt.Fprintf(w, "  skipped: %s: %s\n", k.What, k.Reason)
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

func printAgg(w io.Writer, a *loaders.AggCheck) {
	name := filepath.Base(a.Path)
	fmt.Fprintf(w, "%s: %s of seeds, layout %s: %d groups, %d columns compared with datadecide_%s_eval\n", name, a.Stat, a.Variant, a.Groups, a.Columns, a.Stat)
	for _, n := range a.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	for _, k := range a.MissingGroups {
		fmt.Fprintf(w, "  group %s: in the file, not in the database\n", k)
	}
	if a.ExtraGroups > 0 {
		fmt.Fprintf(w, "  %d groups in the database are not in the file\n", a.ExtraGroups)
	}
	for _, d := range a.Disagreements {
		fmt.Fprintf(w, "  %s: %s: file %s, database %s\n", d.Key, d.Column, d.File, d.DB)
	}
	if a.OK() {
		fmt.Fprintf(w, "  agrees with the database (relative tolerance %g)\n", loaders.RelTolerance)
	} else {
		fmt.Fprintf(w, "  %d disagreements beyond %g relative\n", len(a.Disagreements), loaders.RelTolerance)
	}
}

func sortedKeys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// progress shows a bar on a terminal for loads that take over a second:
// bytes while the file is hashed, then the stage being written.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	bar   *progressbar.ProgressBar
	path  string
	on    bool
}

func newProgress(w io.Writer, path string) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, start: time.Now(), path: filepath.Base(path), on: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) ensure(total int64) *progressbar.ProgressBar {
	if !p.on || time.Since(p.start) < time.Second {
		return nil
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(p.w), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription(p.path+": hashing"), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
	}
	return p.bar
}

func (p *progress) bytes(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.ensure(total); b != nil {
		b.Set64(done)
	}
}

func (p *progress) stage(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.ensure(-1); b != nil {
		b.Describe(p.path + ": " + s)
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
	return &cobra.Command{
		Use:     "loads",
		Short:   "List the loads recorded in the database (dschema_loads)",
		Args:    cobra.NoArgs,
		Example: "  dschema loads --db lab.duckdb",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, err := openNewest(ctx, g.db)
			if err != nil {
				return err
			}
			defer db.Close()
			rows, err := db.QueryContext(ctx, `SELECT load_id, kind, coalesce(variant, ''), source, coalesce(sha256, ''),
				coalesce((SELECT sum(v) FROM (SELECT unnest(map_values(rows_written)) AS v)), 0),
				strftime(started_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S'), coalesce(CAST(replaced_load_id AS VARCHAR), '-'),
				EXISTS (SELECT 1 FROM dschema_loads n WHERE n.replaced_load_id = l.load_id)
				FROM dschema_loads l ORDER BY load_id`)
			if err != nil {
				return err
			}
			defer rows.Close()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%-5s %-12s %-10s %-20s %-13s %9s %-9s %s\n", "LOAD", "KIND", "STATE", "STARTED (UTC)", "SHA256", "ROWS", "REPLACES", "SOURCE")
			n := 0
			for rows.Next() {
				var id, total int64
				var kind, variant, source, sum, started, replaced string
				var superseded bool
				if err := rows.Scan(&id, &kind, &variant, &source, &sum, &total, &started, &replaced, &superseded); err != nil {
					return err
				}
				state := "current"
				if superseded {
					state = "replaced"
				}
				fmt.Fprintf(out, "%-5d %-12s %-10s %-20s %-13.12s %9d %-9s %s\n", id, kind, state, started, sum, total, replaced, source)
				n++
			}
			if n == 0 {
				fmt.Fprintln(out, "(no loads yet)")
			}
			return rows.Err()
		},
	}
}

func verifyCmd(g *globals) *cobra.Command {
	var max int
	var asJSON bool
	return func() *cobra.Command {
		cmd := &cobra.Command{
			Use:     "verify datadecide <full_eval.parquet>",
			Short:   "Compare a loaded file with the database value for value (NaN = NaN, NULL = NULL)",
			Args:    cobra.ExactArgs(2),
			Example: `  dschema verify datadecide full_eval.parquet --db lab.duckdb`,
			RunE: func(cmd *cobra.Command, args []string) error {
				if args[0] != "datadecide" {
					return fmt.Errorf("verify knows the kind datadecide, not %q", args[0])
				}
				ctx := cmd.Context()
				db, err := openNewest(ctx, g.db)
				if err != nil {
					return err
				}
				defer db.Close()
				v, err := loaders.VerifyDataDecide(ctx, db, args[1], max)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if asJSON {
					writeJSON(out, v)
				} else {
					fmt.Fprintf(out, "%s: %d rows × %d columns compared: %d differing cells, %d rows missing from the database, %d rows missing from the file\n",
						filepath.Base(v.Path), v.Rows, v.Columns, v.Differing, v.MissingRows, v.ExtraRows)
					for _, d := range v.Examples {
						fmt.Fprintf(out, "  %s: %s: file %s, database %s\n", d.Key, d.Column, d.File, d.DB)
					}
					if len(v.Skipped) > 0 {
						fmt.Fprintf(out, "  not compared (non-numeric, not in the schema): %s\n", strings.Join(v.Skipped, ", "))
					}
				}
				if !v.OK() {
					return fmt.Errorf("%s differs from the database", args[1])
				}
				return nil
			},
		}
		cmd.Flags().IntVar(&max, "examples", 5, "differing cells to show")
		cmd.Flags().BoolVar(&asJSON, "json", false, "print a machine-readable result")
		return cmd
	}()
}

// openNewest opens the database and refuses it unless it is at the newest schema version.
func openNewest(ctx context.Context, path string) (*sql.DB, error) {
	db, err := dbfile.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if _, err := (&loaders.Engine{DB: db, DBPath: path}).Prepare(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
