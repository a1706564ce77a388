package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/exchange"
)

// exportCmd writes the database as a folder of parquet files (exchange.Export).
func exportCmd(g *globals) *cobra.Command {
	var dir string
	o := exchange.Options{}
	c := &cobra.Command{
		Use:   "export --dir OUT",
		Short: "Write every table as zstd parquet, with manifest.json and schema.json, into a new folder",
		Long: "export writes every base table of the database as zstd parquet under OUT/<table>/, with\n" +
			"wandb_history, qa_question_outputs and pretrain_evals partitioned Hive-style by run_id, task and\n" +
			"params, and a file split once it passes --max-file-size. manifest.json records the schema\n" +
			"version, the migration sum, the load ids and every file's rows, bytes and sha256; schema.json\n" +
			"every column's type, parquet representation and description. See docs/export.md.",
		Args:    cobra.NoArgs,
		Example: "  dschema export --dir lab-export --db lab.duckdb",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, err := dbfile.OpenExisting(ctx, g.db)
			if err != nil {
				return err
			}
			defer db.Close()
			o.DBName = g.db
			m, err := exchange.Export(ctx, db, dir, o)
			if err != nil {
				return err
			}
			printManifest(cmd.OutOrStdout(), dir, m)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "folder to write (must not exist, or be empty)")
	c.Flags().Int64Var(&o.MaxFileBytes, "max-file-size", exchange.DefaultMaxFileBytes, "bytes at which a parquet file is closed and the next one started (checked after each row group)")
	c.MarkFlagRequired("dir") //nolint:errcheck // the flag exists
	return c
}

// importCmd loads an export into a new database (exchange.Import).
func importCmd(g *globals) *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "import --dir OUT",
		Short: "Load an export into a new database at the export's schema version",
		Long: "import checks the export against this dschema's migrations (schema version and migration sum)\n" +
			"and every file against manifest.json (no file missing or extra; bytes, sha256, rows), creates\n" +
			"--db at the export's schema version and loads every table in one transaction. --db must not\n" +
			"exist or hold nothing. See docs/export.md.",
		Args:    cobra.NoArgs,
		Example: "  dschema import --dir lab-export --db copy.duckdb",
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := exchange.Import(cmd.Context(), g.db, dir, exchange.ImportOptions{Out: cmd.OutOrStdout()})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: imported %s at schema version %d\n", g.db, dir, m.SchemaVersion)
			printTables(cmd.OutOrStdout(), m)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "folder of the export (with its manifest.json)")
	c.MarkFlagRequired("dir") //nolint:errcheck // the flag exists
	return c
}

// printManifest says what an export wrote.
func printManifest(w io.Writer, dir string, m *exchange.Manifest) {
	var bytes int64
	for _, f := range m.Files {
		bytes += f.Bytes
	}
	fmt.Fprintf(w, "%s: schema version %d, %d loads, %d files, %.1f MB\n", dir, m.SchemaVersion, len(m.LoadIDs), len(m.Files), float64(bytes)/1e6)
	printTables(w, m)
}

// printTables lists the tables of m with their rows and files.
func printTables(w io.Writer, m *exchange.Manifest) {
	files := map[string]int{}
	for _, f := range m.Files {
		files[f.Table]++
	}
	fmt.Fprintf(w, "%-26s %10s %6s  %s\n", "TABLE", "ROWS", "FILES", "PARTITIONED BY")
	for _, t := range m.Tables {
		fmt.Fprintf(w, "%-26s %10d %6d  %s\n", t.Name, t.Rows, files[t.Name], t.PartitionBy)
	}
}
