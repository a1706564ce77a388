// Package cli holds dschema's cobra commands, thin over the library packages.
package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dschema/dschema/internal/cache"
	"github.com/dschema/dschema/internal/dbfile"
	_ "github.com/dschema/dschema/internal/loaders/all" // every loader registers itself
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/internal/project"
	"github.com/dschema/dschema/migrations"
)

// Main runs dschema as the command does: SIGINT (Ctrl-C) and SIGTERM both
// cancel the command's context, so a load stopped either way rolls back and
// says so (exit 130).
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, stdout, stderr)
}

// Run executes dschema with args and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := NewRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		msg := errLine(err)
		if ctx.Err() != nil || errors.Is(err, context.Canceled) {
			if !strings.Contains(msg, "interrupted") {
				msg = "interrupted: " + msg
			}
			fmt.Fprintln(stderr, "dschema:", msg)
			return 130 // as a shell reports SIGINT
		}
		fmt.Fprintln(stderr, "dschema:", msg)
		return 1
	}
	return 0
}

// errLine is the first line of err: DuckDB's messages go on with the query
// and a caret, and dschema says what went wrong in one line.
func errLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

type globals struct {
	db      string
	noCache bool
}

// NewRootCmd builds the command tree.
func NewRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "dschema",
		Short:         "Versioned, typed DuckDB databases from a lab's legacy experiment files",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			if g.noCache {
				cmd.SetContext(cache.NewContext(cmd.Context(), cache.MemoryOnly()))
			}
		},
	}
	def := os.Getenv("DSCHEMA_DB")
	if def == "" {
		def = "lab.duckdb"
	}
	root.PersistentFlags().StringVar(&g.db, "db", def, "DuckDB database file (env DSCHEMA_DB)")
	root.PersistentFlags().BoolVar(&g.noCache, "no-cache", false, "neither read nor write the disk cache of replayed migrations and migrated databases (env DSCHEMA_CACHE=off)")
	root.AddCommand(migrateCmd(g), genCmd(), checkCmd(g), docsCmd(), versionCmd(), quickstartCmd(g), runnameCmd(),
		loadCmd(g), loadsCmd(g), verifyCmd(g), compactCmd(g), benchCmd(), benchPhaseCmd(), promoteCmd())
	return root
}

// upNewDB creates the database at path at the newest version when no file
// is there yet (project.MigratedFile: a verified cached copy when there is
// one) and says what it did. It returns the version reached, 0 when path
// already exists and nothing was done.
func upNewDB(ctx context.Context, path string, out io.Writer) (int64, error) {
	if err := dbfile.Named(path); err != nil {
		return 0, err
	}
	if path == ":memory:" {
		return 0, nil
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err := migrate.VerifySum(migrations.FS, "migrations"); err != nil {
		return 0, err
	}
	files, err := migrate.ReadFiles(migrations.FS)
	if err != nil || len(files) == 0 {
		return 0, err
	}
	newest := files[len(files)-1].Version
	start := time.Now()
	rs, cached, err := project.MigratedFile(ctx, files, path)
	printResults(out, rs)
	if err != nil || !cached {
		return newest, err
	}
	// The copy says when the cached database was migrated: record now.
	db, err := dbfile.Open(ctx, path)
	if err != nil {
		return newest, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `UPDATE `+migrate.TableName+` SET tstamp = current_timestamp`); err != nil {
		return newest, err
	}
	for _, f := range files {
		fmt.Fprintf(out, "applied %s (from the cached, verified database of this migration set)\n", f.Name)
	}
	fmt.Fprintf(out, "created %s in %s\n", path, time.Since(start).Round(time.Millisecond))
	return newest, nil
}

// openMigrator opens the database at path with the embedded migrations.
func openMigrator(ctx context.Context, path string, create bool) (*sql.DB, *migrate.Migrator, error) {
	open := dbfile.OpenExisting
	if create {
		if err := dbfile.Named(path); err != nil {
			return nil, nil, err
		}
		open = dbfile.Open
	}
	db, err := open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	m, err := migrate.New(db, path, migrations.FS, "migrations")
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, m, nil
}

func printResults(w io.Writer, rs []migrate.Result) {
	for _, r := range rs {
		dir := "applied"
		if !r.Up {
			dir = "reverted"
		}
		fmt.Fprintf(w, "%s %s (%s)\n", dir, r.File, r.Duration.Round(1e6))
	}
}
