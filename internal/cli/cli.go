// Package cli holds dschema's cobra commands, thin over the library packages.
package cli

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/migrations"
)

// Run executes dschema with args and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := NewRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "dschema:", err)
		return 1
	}
	return 0
}

type globals struct {
	db string
}

// NewRootCmd builds the command tree.
func NewRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "dschema",
		Short:         "Versioned, typed DuckDB databases from a lab's legacy experiment files",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	def := os.Getenv("DSCHEMA_DB")
	if def == "" {
		def = "lab.duckdb"
	}
	root.PersistentFlags().StringVar(&g.db, "db", def, "DuckDB database file (env DSCHEMA_DB)")
	root.AddCommand(migrateCmd(g), genCmd(), checkCmd(g), docsCmd(), versionCmd(), quickstartCmd(g),
		loadCmd(g), loadsCmd(g), verifyCmd(g), benchCmd(), benchPhaseCmd())
	return root
}

// openMigrator opens the database at path with the embedded migrations.
func openMigrator(ctx context.Context, path string) (*sql.DB, *migrate.Migrator, error) {
	db, err := dbfile.Open(ctx, path)
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
