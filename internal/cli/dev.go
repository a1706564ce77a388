package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dschema/dschema/internal/docs"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/internal/project"
	"github.com/dschema/dschema/internal/quickstart"
	"github.com/dschema/dschema/internal/site"
	"github.com/dschema/dschema/internal/version"
	"github.com/dschema/dschema/migrations"
)

func migrationsFS() fs.FS { return migrations.FS }

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func writeSum(cmd *cobra.Command, root string) error {
	if root == "" {
		root = "."
	}
	dir := filepath.Join(root, "migrations")
	files, err := migrate.ReadFiles(os.DirFS(dir))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, migrate.SumFile), migrate.Sum(files), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s for %d migrations\n", filepath.Join(dir, migrate.SumFile), len(files))
	return nil
}

func genCmd() *cobra.Command {
	var opts project.GenOptions
	var root string
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Write the next migration for schema/ edits and regenerate gen/ (what go generate runs)",
		Args:  cobra.NoArgs,
		Example: `  dschema gen
  dschema gen --name add_run_notes
  dschema gen --allow-destructive   # permit dropping columns or tables`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := project.Gen(cmd.Context(), project.DefaultLayout(root), opts)
			if err != nil {
				return err
			}
			project.PrintGen(cmd.OutOrStdout(), res)
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "name of the new migration (derived from the changes when empty)")
	cmd.Flags().BoolVar(&opts.AllowDestructive, "allow-destructive", false, "allow dropping tables or columns and narrowing types")
	cmd.Flags().StringVar(&root, "root", ".", "repository root")
	return cmd
}

func checkCmd(g *globals) *cobra.Command {
	var root string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check that schema, migrations, generated code (and with --db a database) agree",
		Args:  cobra.NoArgs,
		Example: `  dschema check
  dschema check --db lab.duckdb`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := project.CheckOptions{}
			if cmd.Flags().Changed("db") || os.Getenv("DSCHEMA_DB") != "" {
				opts.DB = g.db
			}
			problems, err := project.Check(cmd.Context(), project.DefaultLayout(root), opts, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if len(problems) == 0 {
				msg := "schema, migrations and gen/ agree"
				if opts.DB != "" {
					msg += "; " + opts.DB + " matches the migrations at its version"
				}
				fmt.Fprintln(cmd.OutOrStdout(), msg)
				return nil
			}
			for _, p := range problems {
				fmt.Fprintln(cmd.OutOrStdout(), p)
			}
			return fmt.Errorf("check found %d problem(s)", len(problems))
		},
	}
	cmd.Flags().StringVar(&root, "root", ".", "repository root")
	return cmd
}

func docsCmd(g *globals) *cobra.Command {
	var dir string
	var metrics []string
	cmd := &cobra.Command{
		Use:   "docs",
		Short: "Print the data dictionary as Markdown, or with --html write a static site of the database",
		Long: "Prints the data dictionary of every table as Markdown. With --html DIR it writes DIR/index.html instead:\n" +
			"one self-contained page (nothing fetched) with the dictionary, where each column comes from, and, from the\n" +
			"database --db names, row counts, the load history and charts drawn as SVG (pretraining curves, W&B training\n" +
			"loss, finetune-minus-pretraining deltas). Without a database file the page holds the dictionary alone and says so.",
		Args: cobra.NoArgs,
		Example: `  dschema docs > DATA-DICTIONARY.md
  dschema docs --html site --db lab.duckdb
  dschema docs --html site --metric pile_valppl --metric arc_easy_acc_raw`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := docs.CanonicalSchema(cmd.Context())
			if err != nil {
				return err
			}
			if dir == "" {
				if len(metrics) > 0 {
					return fmt.Errorf("--metric needs --html")
				}
				return docs.Write(cmd.OutOrStdout(), s)
			}
			res, err := site.Write(cmd.Context(), dir, s, site.Options{DB: g.db, Metrics: metrics})
			if err != nil {
				return err
			}
			site.PrintResult(cmd.OutOrStdout(), res)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "html", "", "write a static site (DIR/index.html) instead of printing Markdown")
	cmd.Flags().StringArrayVar(&metrics, "metric", nil, "pretrain_evals column to chart (repeatable; default: the core tasks' primary metrics and two perplexities)")
	return cmd
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the tool version and the schema version it was built for",
		Args:    cobra.NoArgs,
		Example: "  dschema version",
		RunE: func(cmd *cobra.Command, _ []string) error {
			files, err := migrate.ReadFiles(migrationsFS())
			if err != nil {
				return err
			}
			var v int64
			if len(files) > 0 {
				v = files[len(files)-1].Version
			}
			fmt.Fprintf(cmd.OutOrStdout(), "dschema %s (schema version %d)\n", version.String(), v)
			return nil
		},
	}
}

func quickstartCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "quickstart",
		Short: "Build a database from the bundled sample data through the real pipeline and show what it holds",
		Long: "Writes the bundled sample files (generated deterministically: a DataDecide full_eval.parquet in the\n" +
			"real 1,939-column layout with its mean_eval and std_eval), migrates the database, loads the sample,\n" +
			"checks the legacy aggregates against the database's seed-aggregate views, and prints what it holds.",
		Args: cobra.NoArgs,
		Example: `  go run ./cmd/dschema quickstart
  dschema quickstart --db /tmp/try.duckdb`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return quickstart.Run(cmd.Context(), quickstart.Options{DB: g.db, Out: cmd.OutOrStdout()})
		},
	}
}
