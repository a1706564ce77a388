// Package cli holds dschema's cobra commands, thin over the library packages.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/dschema/dschema/internal/cache"
	_ "github.com/dschema/dschema/internal/loaders/all" // every loader registers itself
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
	root.AddCommand(migrateCmd(g), genCmd(), checkCmd(g), docsCmd(g), versionCmd(), quickstartCmd(g), runnameCmd(),
		loadCmd(g), loadsCmd(g), verifyCmd(g), compactCmd(g), exportCmd(g), importCmd(g), benchCmd(), benchPhaseCmd(), promoteCmd())
	return root
}
