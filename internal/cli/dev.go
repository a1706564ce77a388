package cli

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/docs"
	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/internal/project"
	"github.com/dschema/dschema/internal/schema"
	"github.com/dschema/dschema/internal/version"
	"github.com/dschema/dschema/migrations"
	schemafiles "github.com/dschema/dschema/schema"
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

// canonicalSchema loads the embedded schema with DuckDB's canonical types.
func canonicalSchema(ctx context.Context) (*schema.Schema, error) {
	s, err := schemafiles.Load()
	if err != nil {
		return nil, err
	}
	if _, err := project.CanonicalState(ctx, s); err != nil {
		return nil, err
	}
	return s, nil
}

func docsCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "docs",
		Short:   "Print the data dictionary of every table as Markdown",
		Args:    cobra.NoArgs,
		Example: "  dschema docs > DATA-DICTIONARY.md",
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := canonicalSchema(cmd.Context())
			if err != nil {
				return err
			}
			return docs.Write(cmd.OutOrStdout(), s)
		},
	}
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

// QuickstartSource is the logical source of quickstart's sample full_eval.
const QuickstartSource = "dschema quickstart sample: full_eval.parquet"

func quickstartCmd(g *globals) *cobra.Command {
	var sampleDir string
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
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			// Before anything is written: an empty --db would put the sample in ./.sample.
			if err := dbfile.Named(g.db); err != nil {
				return err
			}
			if sampleDir == "" {
				sampleDir = g.db + ".sample"
			}
			if err := os.MkdirAll(sampleDir, 0o755); err != nil {
				return err
			}
			full := filepath.Join(sampleDir, "full_eval.parquet")
			mean := filepath.Join(sampleDir, "mean_eval.parquet")
			std := filepath.Join(sampleDir, "std_eval.parquet")
			if _, err := fixtures.WriteFullEval(ctx, full, fixtures.SampleSpec()); err != nil {
				return err
			}
			if err := fixtures.WriteAggregates(ctx, full, mean, std, fixtures.AggCurrent); err != nil {
				return err
			}
			spec := fixtures.SampleWandb()
			wruns := fixtures.WandbRuns(spec)
			runsFile := filepath.Join(sampleDir, "runs_metadata.parquet")
			histFile := filepath.Join(sampleDir, "runs_history.jsonl")
			if err := fixtures.WriteRuns(ctx, runsFile, fixtures.RunsCanonical, wruns, false); err != nil {
				return err
			}
			if err := fixtures.WriteHistory(ctx, histFile, fixtures.HistV3, fixtures.WandbHistory(spec, wruns)); err != nil {
				return err
			}
			qaTarball := filepath.Join(sampleDir, "instances", "c4.tar.gz")
			if err := fixtures.WriteQARecipeTarball(qaTarball, fixtures.SampleQACheckpoints(), fixtures.QATasks, fixtures.QAQuestions); err != nil {
				return err
			}
			qaDump, err := fixtures.WriteOLMESDump(filepath.Join(sampleDir, "olmes"), fixtures.RunName(1), fixtures.QATasks, fixtures.QAQuestions)
			if err != nil {
				return err
			}
			var pickles []string
			for _, name := range []string{fixtures.ModernizedPickle, fixtures.MatchedPickle} {
				p, err := fixtures.WritePickle(sampleDir, name)
				if err != nil {
					return err
				}
				pickles = append(pickles, p)
			}
			fmt.Fprintf(out, "sample data written to %s\n", sampleDir)

			if _, err := project.UpNewDB(ctx, g.db, out); err != nil {
				return err
			}
			db, m, err := project.OpenMigrator(ctx, g.db, true)
			if err != nil {
				return err
			}
			defer db.Close()
			rs, err := m.Up(ctx)
			project.PrintResults(out, rs)
			if err != nil {
				return err
			}
			e := &loaders.Engine{DB: db, DBPath: g.db}
			// A fixed source name: the sample is the same wherever it is
			// written, so a copy of the database takes it as unchanged.
			s, err := e.Load(ctx, "datadecide", full, loaders.Options{Source: QuickstartSource})
			if err != nil {
				return err
			}
			loaders.PrintSummary(out, full, s)
			for _, w := range [][2]string{{"wandb-runs", runsFile}, {"wandb-history", histFile}, {"showntell", pickles[0]}, {"showntell", pickles[1]},
				{loaders.QAKind, qaTarball}, {loaders.QAKind, qaDump}} {
				s, err := e.Load(ctx, w[0], w[1], loaders.Options{Source: QuickstartSource + "/" + filepath.Base(w[1])})
				if err != nil {
					return err
				}
				loaders.PrintSummary(out, w[1], s)
			}
			for _, p := range []string{mean, std} {
				a, err := loaders.CheckDataDecideAgg(ctx, db, p, "")
				if err != nil {
					return err
				}
				a.Report(out)
				if !a.OK() {
					return fmt.Errorf("%s disagrees with the database", p)
				}
			}
			cur, err := m.RequireNewest(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "\n%s is at schema version %d and holds:\n", g.db, cur)
			state, err := dbschema.Introspect(ctx, db)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%-22s %8s %8s\n", "TABLE", "COLUMNS", "ROWS")
			for _, t := range state.Tables {
				var n int64
				if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+dbschema.Ident(t.Name)).Scan(&n); err != nil {
					return err
				}
				fmt.Fprintf(out, "%-22s %8d %8d\n", t.Name, len(t.Columns), n)
			}
			var views []string
			for _, v := range state.Views {
				views = append(views, v.Name)
			}
			sort.Strings(views)
			fmt.Fprintf(out, "views: %s\n", strings.Join(views, ", "))
			if err := finalStepTable(cmd, db); err != nil {
				return err
			}
			if err := runsJoinTable(cmd, db); err != nil {
				return err
			}
			if err := finetuneJoinTable(cmd, db); err != nil {
				return err
			}
			return qaJoinTable(cmd, db)
		},
	}
}

// qaJoinTable prints each checkpoint's per-task accuracy from its QA
// outputs next to the same metric in pretrain_evals (qa_task_outputs joined
// on data, params, seed, step), and the finetuned model's tasks next to
// its run (joined to finetune_runs on run_id).
func qaJoinTable(cmd *cobra.Command, db *sql.DB) error {
	ctx := cmd.Context()
	rows, err := db.QueryContext(ctx, `WITH pe AS (
			UNPIVOT (SELECT data, params, seed, step, COLUMNS('_acc_raw$') FROM pretrain_evals)
			ON COLUMNS('_acc_raw$') INTO NAME col VALUE acc_raw)
		SELECT q.model_ref, q.task, q.num_instances,
			(SELECT avg(x.metrics['acc_raw']) FROM qa_question_outputs x WHERE x.model_ref = q.model_ref AND x.task = q.task),
			q.metrics['acc_raw'], pe.acc_raw
		FROM qa_task_outputs q
		LEFT JOIN pe ON pe.data = q.data AND pe.params = q.params AND pe.seed = q.seed AND pe.step = q.step AND pe.col = q.task || '_acc_raw'
		WHERE q.model_kind = 'pretrain_checkpoint' ORDER BY q.model_ref, q.task`)
	if err != nil {
		return err
	}
	defer rows.Close()
	out := cmd.OutOrStdout()
	f := func(v sql.NullFloat64) string {
		if !v.Valid {
			return "-"
		}
		return fmt.Sprintf("%.3f", v.Float64)
	}
	fmt.Fprintf(out, "\nQA outputs of DataDecide checkpoints, per task, next to pretrain_evals (joined on data, params, seed, step):\n")
	fmt.Fprintf(out, "%-26s %-12s %9s %12s %12s %14s\n", "CHECKPOINT", "TASK", "QUESTIONS", "ACC (QS)", "ACC (TASK)", "PRETRAIN_EVALS")
	for rows.Next() {
		var ref, task string
		var n sql.NullInt64
		var qs, agg, pt sql.NullFloat64
		if err := rows.Scan(&ref, &task, &n, &qs, &agg, &pt); err != nil {
			return err
		}
		fmt.Fprintf(out, "%-26s %-12s %9d %12s %12s %14s\n", ref, task, n.Int64, f(qs), f(agg), f(pt))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	frows, err := db.QueryContext(ctx, `SELECT q.run_id, f.run_type, f.base_recipe || ' ' || f.base_size, q.task, q.primary_score, q.is_aggregate
		FROM qa_task_outputs q JOIN finetune_runs f USING (run_id) ORDER BY q.run_id, q.is_aggregate, q.task`)
	if err != nil {
		return err
	}
	defer frows.Close()
	fmt.Fprintf(out, "\nQA outputs of finetuned models (qa_task_outputs joined to finetune_runs on run_id):\n")
	fmt.Fprintf(out, "%-32s %-8s %-16s %-38s %8s\n", "RUN", "TYPE", "BASE", "TASK", "PRIMARY")
	for frows.Next() {
		var id, typ, base, task string
		var score sql.NullFloat64
		var agg bool
		if err := frows.Scan(&id, &typ, &base, &task, &score, &agg); err != nil {
			return err
		}
		if len(id) > 32 {
			id = id[:31] + "…"
		}
		if agg {
			task += " (aggregate)"
		}
		fmt.Fprintf(out, "%-32s %-8s %-16s %-38s %8s\n", id, typ, base, task, f(score))
	}
	return frows.Err()
}

// finetuneJoinTable prints the finetune runs next to the pretraining
// checkpoint they started from (finetune_runs ⋈ pretrain_evals by the
// match rule: params = size, data = recipe, seed 0, step = checkpoint
// step, or the last step for main; no such row gives NULL).
func finetuneJoinTable(cmd *cobra.Command, db *sql.DB) error {
	ctx := cmd.Context()
	rows, err := db.QueryContext(ctx, `WITH ckpt AS (
			SELECT f.run_id, f.run_type, f.base_recipe, f.base_size, f.checkpoint_step,
				CASE WHEN f.checkpoint_is_main THEN (SELECT max(step) FROM pretrain_evals e WHERE e.params = f.base_size AND e.data = f.base_recipe AND e.seed = 0)
				ELSE f.checkpoint_step END AS step
			FROM finetune_runs f)
		SELECT c.run_id, c.run_type, c.base_recipe, c.base_size, coalesce(CAST(c.checkpoint_step AS VARCHAR), 'main'), c.step,
			e.arc_easy_primary_metric, e.pile_valppl,
			(SELECT arg_max(h.train_loss, h.seq) FILTER (WHERE h.train_loss IS NOT NULL) FROM wandb_history h WHERE h.run_id = c.run_id)
		FROM ckpt c LEFT JOIN pretrain_evals e ON e.params = c.base_size AND e.data = c.base_recipe AND e.seed = 0 AND e.step = c.step
		ORDER BY c.run_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "\nFinetune runs and the checkpoint they started from (finetune_runs joined to pretrain_evals, seed 0):\n")
	fmt.Fprintf(out, "%-32s %-22s %-14s %-5s %8s %8s %9s %9s %8s\n", "RUN", "TYPE", "RECIPE", "SIZE", "CKPT", "PT STEP", "PT PILE", "PT ARC-E", "FT LOSS")
	for rows.Next() {
		var id, typ, recipe, size, ckpt string
		var step sql.NullInt64
		var arc, ppl, loss sql.NullFloat64
		if err := rows.Scan(&id, &typ, &recipe, &size, &ckpt, &step, &arc, &ppl, &loss); err != nil {
			return err
		}
		if len(id) > 32 {
			id = id[:31] + "…"
		}
		f := func(v sql.NullFloat64) string {
			if !v.Valid {
				return "-"
			}
			return fmt.Sprintf("%.3f", v.Float64)
		}
		st := "-"
		if step.Valid {
			st = fmt.Sprint(step.Int64)
		}
		fmt.Fprintf(out, "%-32s %-22s %-14.14s %-5s %8s %8s %9s %9s %8s\n", id, typ, recipe, size, ckpt, st, f(ppl), f(arc), f(loss))
	}
	return rows.Err()
}

// runsJoinTable prints each W&B run's state and final logged train loss and
// tokens, joining wandb_runs to wandb_history.
func runsJoinTable(cmd *cobra.Command, db *sql.DB) error {
	ctx := cmd.Context()
	rows, err := db.QueryContext(ctx, `SELECT r.run_id, r.state, count(h.seq) AS rows_logged,
			arg_max(h.train_loss, h.seq) FILTER (WHERE h.train_loss IS NOT NULL) AS last_loss,
			max(h.total_tokens) AS tokens, max(h.step) AS last_step
		FROM wandb_runs r LEFT JOIN wandb_history h USING (run_id)
		GROUP BY r.run_id, r.state, r.created_at ORDER BY r.created_at`)
	if err != nil {
		return err
	}
	defer rows.Close()
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "\nW&B runs with their history (wandb_runs joined to wandb_history): last logged train loss and tokens:\n")
	fmt.Fprintf(out, "%-44s %-9s %5s %9s %10s %9s\n", "RUN", "STATE", "ROWS", "LAST STEP", "TRAIN LOSS", "TOKENS")
	for rows.Next() {
		var id, state string
		var n int64
		var loss, tokens sql.NullFloat64
		var step sql.NullInt64
		if err := rows.Scan(&id, &state, &n, &loss, &tokens, &step); err != nil {
			return err
		}
		if len(id) > 44 {
			id = id[:43] + "…"
		}
		f := func(v sql.NullFloat64, format string) string {
			if !v.Valid {
				return "-"
			}
			return fmt.Sprintf(format, v.Float64)
		}
		fmt.Fprintf(out, "%-44s %-9s %5d %9d %10s %9s\n", id, state, n, step.Int64, f(loss, "%.3f"), f(tokens, "%.3g"))
	}
	return rows.Err()
}

// finalStepTable prints the final-step seed mean of arc_easy_primary_metric by size and recipe.
func finalStepTable(cmd *cobra.Command, db *sql.DB) error {
	ctx := cmd.Context()
	rows, err := db.QueryContext(ctx, `WITH last AS (SELECT params, data, max(step) AS step FROM pretrain_evals_mean WHERE arc_easy_primary_metric IS NOT NULL GROUP BY ALL)
		SELECT m.params, m.data, m.arc_easy_primary_metric, m.n_seeds FROM pretrain_evals_mean m JOIN last USING (params, data, step)
		JOIN pretrain_models pm USING (params) ORDER BY pm.params_numeric, m.data`)
	if err != nil {
		return err
	}
	defer rows.Close()
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "\nLast evaluated step: arc_easy_primary_metric, mean over seeds (pretrain_evals_mean):\n")
	fmt.Fprintf(out, "%-6s %-24s %8s %6s\n", "SIZE", "RECIPE", "MEAN", "SEEDS")
	for rows.Next() {
		var params, data string
		var v sql.NullFloat64
		var n int64
		if err := rows.Scan(&params, &data, &v, &n); err != nil {
			return err
		}
		val := "NULL"
		if v.Valid {
			val = fmt.Sprintf("%.4f", v.Float64)
		}
		fmt.Fprintf(out, "%-6s %-24s %8s %6d\n", params, data, val, n)
	}
	return rows.Err()
}
