package cli

import (
	"github.com/spf13/cobra"

	"github.com/dschema/dschema/internal/bench"
	"github.com/dschema/dschema/internal/loaders"
)

func benchCmd() *cobra.Command {
	var o bench.Options
	cmd := &cobra.Command{
		Use:   "bench datadecide|wandb-history|qa-outputs",
		Short: "Time a load against DuckDB's native read of the same file",
		Long: "Generates a file of --rows rows (datadecide: a full_eval.parquet in the real 1,939-column layout;\n" +
			"wandb-history: a v3 history JSONL with keys that first appear mid-file; qa-outputs: a recipe tarball\n" +
			"of about --size bytes holding nested step tarballs), then times, each in a fresh process and database\n" +
			"file: the native way (DuckDB's own CREATE TABLE AS of the file with read_parquet, or read_json told every\n" +
			"column; for qa-outputs the system tar extracting the tarball and each step tarball in it, then read_json\n" +
			"of every predictions file), and dschema's load of the same file (into a database migrated beforehand, untimed),\n" +
			"both under --memory-limit (default: the load's own; the native read of qa-outputs, which runs out of memory\n" +
			"under the load's 128MB, under 256MB). Prints both, their ratio, rows/s and each process's peak memory (RSS).",
		Args:    cobra.ExactArgs(1),
		Example: "  dschema bench datadecide --rows 100000\n  dschema bench wandb-history --rows 3500000\n  dschema bench qa-outputs --size 1GiB",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Kind, o.Out = args[0], cmd.OutOrStdout()
			if !cmd.Flags().Changed("memory-limit") {
				o.MemoryLimit = loaders.DefaultMemoryLimit(o.Kind) // the load's own default
				o.NativeMemoryLimit = bench.NativeMemoryLimit(o.Kind)
			}
			return bench.Run(cmd.Context(), o)
		},
	}
	cmd.Flags().IntVar(&o.Rows, "rows", 100000, "rows in the generated file (datadecide, wandb-history)")
	cmd.Flags().StringVar(&o.Size, "size", "100MiB", "qa-outputs: size of the generated tarball (bytes, or with KB, MB, GB, KiB, MiB, GiB)")
	cmd.Flags().IntVar(&o.Runs, "runs", 1, "timed runs of each side (the median ratio is reported)")
	cmd.Flags().StringVar(&o.Dir, "dir", "", "keep the generated file and databases in this folder (default: a temporary one, removed)")
	cmd.Flags().StringVar(&o.MemoryLimit, "memory-limit", "", "DuckDB memory_limit of both sides (default: datadecide "+loaders.DefaultMemoryLimit("datadecide")+", wandb-history "+loaders.DefaultMemoryLimit("wandb-history")+", qa-outputs "+loaders.DefaultMemoryLimit("qa-outputs")+", its native read "+bench.NativeMemoryLimit("qa-outputs")+")")
	return cmd
}

func benchPhaseCmd() *cobra.Command {
	return &cobra.Command{
		Use:    bench.PhaseCommand + " native|load <kind> <file> <db> <memory-limit>",
		Short:  "One timed phase of dschema bench (internal)",
		Hidden: true,
		Args:   cobra.ExactArgs(5),
		RunE: func(cmd *cobra.Command, args []string) error {
			return bench.RunPhase(cmd.Context(), cmd.OutOrStdout(), bench.Phase{Phase: args[0], Kind: args[1], File: args[2], DB: args[3], MemoryLimit: args[4]})
		},
	}
}
