package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dschema/dschema/internal/migrate"
)

func migrateCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply, revert and inspect schema migrations of a database",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		Example: `  dschema migrate up --db lab.duckdb
  dschema migrate status --db lab.duckdb`,
	}
	cmd.AddCommand(migrateUpCmd(g), migrateDownCmd(g), migrateStatusCmd(g), migrateRedoCmd(g), migrateValidateCmd(g), migrateHashCmd())
	return cmd
}

func migrateUpCmd(g *globals) *cobra.Command {
	var dryRun bool
	var to int64
	cmd := &cobra.Command{
		Use:     "up",
		Short:   "Apply every pending migration (or up to --to)",
		Args:    cobra.NoArgs,
		Example: "  dschema migrate up --db lab.duckdb\n  dschema migrate up --dry-run",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if !dryRun && to == 0 {
				v, err := upNewDB(ctx, g.db, cmd.OutOrStdout())
				if err != nil {
					return err
				}
				if v > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "%s is at version %d\n", g.db, v)
					return nil
				}
			}
			db, m, err := openMigrator(ctx, g.db)
			if err != nil {
				return err
			}
			defer db.Close()
			target := m.Newest()
			if to > 0 {
				target = to
			}
			out := cmd.OutOrStdout()
			if dryRun {
				pending, err := m.Pending(ctx)
				if err != nil {
					return err
				}
				if len(pending) == 0 {
					fmt.Fprintf(out, "-- %s is at the newest version %d; nothing to run\n", g.db, m.Newest())
				}
				for _, f := range pending {
					if f.Version > target {
						break
					}
					fmt.Fprintf(out, "-- %s\n%s\n", f.Name, migrate.UpSQL(f))
				}
				return nil
			}
			rs, err := m.UpTo(ctx, target)
			printResults(out, rs)
			if err != nil {
				return err
			}
			cur, err := m.Current(ctx)
			if err != nil {
				return err
			}
			if len(rs) == 0 {
				fmt.Fprintf(out, "%s is already at version %d\n", g.db, cur)
			} else {
				fmt.Fprintf(out, "%s is at version %d\n", g.db, cur)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the SQL that would run, change nothing")
	cmd.Flags().Int64Var(&to, "to", 0, "stop at this version")
	return cmd
}

func migrateDownCmd(g *globals) *cobra.Command {
	var to int64 = -1
	cmd := &cobra.Command{
		Use:     "down",
		Short:   "Revert the newest applied migration (or down to --to; --to 0 reverts all)",
		Args:    cobra.NoArgs,
		Example: "  dschema migrate down --db lab.duckdb\n  dschema migrate down --to 0",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, m, err := openMigrator(ctx, g.db)
			if err != nil {
				return err
			}
			defer db.Close()
			var rs []migrate.Result
			if to >= 0 {
				rs, err = m.DownTo(ctx, to)
			} else {
				rs, err = m.Down(ctx)
			}
			printResults(cmd.OutOrStdout(), rs)
			if err != nil {
				return err
			}
			cur, err := m.Current(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is at version %d\n", g.db, cur)
			return nil
		},
	}
	cmd.Flags().Int64Var(&to, "to", -1, "revert down to this version")
	return cmd
}

func migrateStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "status",
		Short:   "List every migration: applied or pending, with checksums",
		Args:    cobra.NoArgs,
		Example: "  dschema migrate status --db lab.duckdb",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, m, err := openMigrator(ctx, g.db)
			if err != nil {
				return err
			}
			defer db.Close()
			st, err := m.Status(ctx)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%-8s %-40s %-8s %-20s %-14s %s\n", "VERSION", "FILE", "STATE", "APPLIED AT", "SHA256", "TOOL")
			for _, s := range st {
				state, at, tool := "pending", "-", "-"
				if s.Applied {
					state, at, tool = "applied", s.AppliedAt.UTC().Format("2006-01-02 15:04:05"), s.ToolVersion
				}
				fmt.Fprintf(out, "%-8s %-40s %-8s %-20s %-14s %s\n", strconv.FormatInt(s.File.Version, 10), s.File.Name, state, at, s.File.Checksum()[:12], tool)
			}
			return nil
		},
	}
}

func migrateRedoCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "redo",
		Short:   "Revert and re-apply the newest applied migration",
		Args:    cobra.NoArgs,
		Example: "  dschema migrate redo --db lab.duckdb",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, m, err := openMigrator(ctx, g.db)
			if err != nil {
				return err
			}
			defer db.Close()
			cur, err := m.Current(ctx)
			if err != nil {
				return err
			}
			rs, err := m.Down(ctx)
			printResults(cmd.OutOrStdout(), rs)
			if err != nil {
				return err
			}
			rs, err = m.UpTo(ctx, cur)
			printResults(cmd.OutOrStdout(), rs)
			return err
		},
	}
}

func migrateValidateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "validate",
		Short:   "Verify the migrations (sum file) and, if the database exists, their recorded checksums",
		Args:    cobra.NoArgs,
		Example: "  dschema migrate validate --db lab.duckdb",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := migrate.VerifySum(migrationsFS(), "migrations"); err != nil {
				return err
			}
			files, err := migrate.ReadFiles(migrationsFS())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d migrations match dschema.sum\n", len(files))
			if !fileExists(g.db) {
				return nil
			}
			db, m, err := openMigrator(ctx, g.db)
			if err != nil {
				return err
			}
			defer db.Close()
			cur, err := m.Current(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is at version %d; its applied migrations match their files\n", g.db, cur)
			return nil
		},
	}
}

func migrateHashCmd() *cobra.Command {
	var root string
	return &cobra.Command{
		Use:     "hash",
		Short:   "Rewrite migrations/dschema.sum from the migration files on disk (after an intended change)",
		Args:    cobra.NoArgs,
		Example: "  dschema migrate hash",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeSum(cmd, root)
		},
	}
}
