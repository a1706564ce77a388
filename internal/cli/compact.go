package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/dbschema"
)

// compactCmd rewrites a database into a new file: DuckDB reuses the blocks a
// killed or rolled-back load left free, but never gives them back to the
// file system.
func compactCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "compact",
		Short: "Rewrite the database into a new file without its free space, then put it in place",
		Long: "A load that was killed or rolled back leaves its blocks free inside the file: later loads reuse\n" +
			"them, but the file does not shrink. compact copies everything (tables, views, comments,\n" +
			"migration records) into a new file with DuckDB's COPY FROM DATABASE and renames it over the old one.",
		Args:    cobra.NoArgs,
		Example: "  dschema compact --db lab.duckdb",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			before, err := os.Stat(g.db)
			if err != nil {
				return &dbfile.NoDatabaseError{Path: g.db}
			}
			tmp := filepath.Join(filepath.Dir(g.db), "."+filepath.Base(g.db)+".compact")
			os.Remove(tmp)
			defer os.Remove(tmp)
			db, err := dbfile.Open(ctx, ":memory:")
			if err != nil {
				return err
			}
			defer db.Close()
			for _, q := range []string{
				"ATTACH " + dbschema.Literal(g.db) + " AS dschema_old (READ_ONLY)",
				"ATTACH " + dbschema.Literal(tmp) + " AS dschema_new",
				"COPY FROM DATABASE dschema_old TO dschema_new",
				"DETACH dschema_new",
				"DETACH dschema_old",
			} {
				if _, err := db.ExecContext(ctx, q); err != nil {
					if le := dbfile.Locked(g.db, err); le != nil {
						return le
					}
					return fmt.Errorf("compact %s: %w", g.db, err)
				}
			}
			after, err := os.Stat(tmp)
			if err != nil {
				return err
			}
			if err := os.Rename(tmp, g.db); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %.1f MB -> %.1f MB\n", g.db, float64(before.Size())/1e6, float64(after.Size())/1e6)
			return nil
		},
	}
}
