package cli

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dschema/dschema/internal/labdb"
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
			if cmd.Flags().Changed("to") && to < 1 {
				return fmt.Errorf("--to %d: a version to migrate up to is 1 or more (leave --to out for the newest)", to)
			}
			if !dryRun && to == 0 {
				v, err := labdb.UpNewDB(ctx, g.db, cmd.OutOrStdout())
				if err != nil {
					return err
				}
				if v > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "%s is at version %d\n", g.db, v)
					return nil
				}
			}
			db, m, err := labdb.OpenMigrator(ctx, g.db, true)
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
			labdb.PrintResults(out, rs)
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
	var dryRun, allowDestructive bool
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Revert the newest applied migration (or down to --to; --to 0 reverts all)",
		Long: "Reverts migrations. A step that would drop a table holding rows or a column holding values\n" +
			"(dschema_loads and every load_id included) is refused, naming what would be lost, unless\n" +
			"--allow-destructive is given.",
		Args:    cobra.NoArgs,
		Example: "  dschema migrate down --db lab.duckdb\n  dschema migrate down --to 0 --dry-run\n  dschema migrate down --to 1 --allow-destructive",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if cmd.Flags().Changed("to") && to < 0 {
				return fmt.Errorf("--to %d: a version is 0 or more (0 reverts every migration)", to)
			}
			db, m, err := labdb.OpenMigrator(ctx, g.db, false)
			if err != nil {
				return err
			}
			defer db.Close()
			cur, err := m.Current(ctx)
			if err != nil {
				return err
			}
			target := to
			if target < 0 {
				target = max(cur-1, 0)
			}
			out := cmd.OutOrStdout()
			if cur == 0 || target >= cur {
				fmt.Fprintf(out, "%s is at version %d; nothing to revert\n", g.db, cur)
				return nil
			}
			lossErr := m.CheckDown(ctx, target)
			var le *migrate.LossError
			if lossErr != nil && !errors.As(lossErr, &le) {
				return lossErr
			}
			if dryRun {
				files := m.Files()
				for i := len(files) - 1; i >= 0; i-- {
					if f := files[i]; f.Version > target && f.Version <= cur {
						fmt.Fprintf(out, "-- %s (Down)\n%s\n", f.Name, migrate.DownSQL(f))
					}
				}
				if le != nil {
					fmt.Fprintf(out, "-- refused without --allow-destructive: %s\n", le)
				}
				return nil
			}
			if le != nil && !allowDestructive {
				return le
			}
			rs, err := m.DownTo(ctx, target)
			labdb.PrintResults(out, rs)
			if err != nil {
				return err
			}
			if cur, err = m.Current(ctx); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s is at version %d\n", g.db, cur)
			return nil
		},
	}
	cmd.Flags().Int64Var(&to, "to", -1, "revert down to this version")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the SQL that would run and what it would drop, change nothing")
	cmd.Flags().BoolVar(&allowDestructive, "allow-destructive", false, "revert even when tables or columns that hold data are dropped")
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
			db, m, err := labdb.OpenMigrator(ctx, g.db, false)
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
	var allowDestructive bool
	cmd := &cobra.Command{
		Use:     "redo",
		Short:   "Revert and re-apply the newest applied migration",
		Long:    "Reverts and re-applies the newest migration; refused, like down, when the revert would drop data.",
		Args:    cobra.NoArgs,
		Example: "  dschema migrate redo --db lab.duckdb",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, m, err := labdb.OpenMigrator(ctx, g.db, false)
			if err != nil {
				return err
			}
			defer db.Close()
			cur, err := m.Current(ctx)
			if err != nil {
				return err
			}
			if cur == 0 {
				return fmt.Errorf("database %s has no applied migration to redo", g.db)
			}
			if err := m.CheckDown(ctx, cur-1); err != nil && (!allowDestructive || !errors.Is(err, migrate.ErrDestructive)) {
				return err
			}
			rs, err := m.Down(ctx)
			labdb.PrintResults(cmd.OutOrStdout(), rs)
			if err != nil {
				return err
			}
			rs, err = m.UpTo(ctx, cur)
			labdb.PrintResults(cmd.OutOrStdout(), rs)
			return err
		},
	}
	cmd.Flags().BoolVar(&allowDestructive, "allow-destructive", false, "redo even when the revert drops tables or columns that hold data")
	return cmd
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
			db, m, err := labdb.OpenMigrator(ctx, g.db, false)
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
	cmd := &cobra.Command{
		Use:     "hash",
		Short:   "Rewrite migrations/dschema.sum from the migration files on disk (after an intended change)",
		Args:    cobra.NoArgs,
		Example: "  dschema migrate hash\n  dschema migrate hash --root ../dschema",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeSum(cmd, root)
		},
	}
	cmd.Flags().StringVar(&root, "root", ".", "repository root")
	return cmd
}
