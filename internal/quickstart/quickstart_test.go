package quickstart

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/project"
)

// TestRunNeedsADatabase: without a database name Run refuses before it
// writes anything (the sample would otherwise land in ./.sample).
func TestRunNeedsADatabase(t *testing.T) {
	var out strings.Builder
	err := Run(context.Background(), Options{Out: &out})
	if err == nil || !strings.Contains(err.Error(), "--db is empty") {
		t.Errorf("Run(no DB) = %v, want the empty --db refused", err)
	}
	if out.Len() != 0 {
		t.Errorf("Run(no DB) wrote %q", out.String())
	}
	if _, err := os.Stat(".sample"); err == nil {
		t.Errorf("Run(no DB) wrote ./.sample")
	}
}

// run runs quickstart on db, as dschema quickstart --db does, and returns
// what it printed.
func run(t *testing.T, db string) (string, error) {
	t.Helper()
	var b strings.Builder
	err := Run(context.Background(), Options{DB: db, Out: &b})
	return b.String(), err
}

func TestQuickstart(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "lab.duckdb")
	out, err := run(t, db)
	if err != nil {
		t.Fatalf("quickstart: %v\n%s", err, out)
	}
	for _, want := range []string{
		"is at schema version",
		"full_eval.parquet: loaded as datadecide, layout full_eval (1,939-column layout): load 1",
		"pretrain_evals             144 rows written",
		"kept aside: columns hellaswag_calibration_error",
		"mean_eval.parquet: mean of seeds, layout grouped by params, data, step, tokens, compute: 54 groups, 1919 columns compared",
		"std_eval.parquet: std of seeds",
		"agrees with the database (relative tolerance 1e-09)",
		"pretrain_evals             1887      144",
		"views: datadecide_full_eval, datadecide_mean_eval, datadecide_seeds, datadecide_std_eval, datadecide_training_seeds, dschema_keys, finetune_checkpoints, finetune_pretrain_match, pretrain_evals_mean, pretrain_evals_std, recipe_aliases",
		"1B     Dolma1.7                   0.8124      3",
		"runs_metadata.parquet: loaded as wandb-runs, layout runs_metadata (canonical: 12 columns, JSON strings): load 4",
		"wandb_history               76 rows written",
		"combined_plotting_data_matched.pkl: loaded as showntell, layout combined matched DataFrame: load 6",
		"num_finetune_tokens pickle 1e+14, run name 1e+08",
		"2025_08_21-08_24_43_test_finetune_DD-dolma1… finished      9       700      2.200     9e+06",
		"2025_08_21-08_24_43_test_finetu… simple_ft_vary_tokens  Dolma1.7       4M        main     5725    24.268         -    2.200",
		"c4.tar.gz: loaded as qa-outputs, layout DataDecide eval instances (nested step tarballs) (tarball): load 2",
		"9 files: 2 agrees, 7 loaded; 663 rows written",
		"qa_question_inputs         117 rows written",
		"C4/4M/seed-0/step-2500     boolq                6        0.833        0.833          0.912",
		"250912-172812_match_150M_c4_fin… matched  Dolma1.7 530M    core_9mcqa:rc::olmes:full (aggregate)     0.533",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("quickstart output lacks %q:\n%s", want, out)
		}
	}
	// Its tables are exactly the documented schema (check --db compares them).
	problems, err := project.Check(context.Background(), project.DefaultLayout("../.."), project.CheckOptions{DB: db}, io.Discard)
	if err != nil || len(problems) > 0 {
		t.Errorf("check --db after quickstart: %v %v", err, problems)
	}
	// Running it again, even on a copy of the database (its sample is then
	// written elsewhere), loads nothing new: the sample has fixed source
	// names (SourceFor), and the aggregates are checked again.
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	db = filepath.Join(t.TempDir(), "copy.duckdb")
	if err := os.WriteFile(db, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, db)
	if err != nil || !strings.Contains(out, "full_eval.parquet: unchanged since load 1") || !strings.Contains(out, "dschema_loads                14        7") || !strings.Contains(out, "c4.tar.gz: unchanged since load 2") ||
		!strings.Contains(out, "9 files: 2 agrees, 7 unchanged; 0 rows written") {
		t.Errorf("second quickstart: %v\n%s", err, out)
	}
}
