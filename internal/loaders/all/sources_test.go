package all_test

import (
	"testing"

	"github.com/dschema/dschema/internal/loaders"
	schemafiles "github.com/dschema/dschema/schema"
)

// TestColumnSources: every column a loader says it fills from a legacy
// column names a table and column of the schema and a legacy name, no
// (layout, column) is declared twice, and the sources people look for are
// there as the loaders read them.
func TestColumnSources(t *testing.T) {
	s, err := schemafiles.Load()
	if err != nil {
		t.Fatal(err)
	}
	all := loaders.ColumnSources()
	seen := map[loaders.ColumnSource]bool{}
	for kind, srcs := range all {
		if len(srcs) == 0 {
			t.Errorf("%s declares no sources", kind)
		}
		for _, c := range srcs {
			tab := s.Table(c.Table)
			if tab == nil || tab.Column(c.Column) == nil {
				t.Errorf("%s: %s.%s is not a column of the schema", kind, c.Table, c.Column)
			}
			if c.From == "" {
				t.Errorf("%s: %s.%s has no legacy name", kind, c.Table, c.Column)
			}
			key := loaders.ColumnSource{Table: c.Table, Column: c.Column, Layout: kind + "\x00" + c.Layout}
			if seen[key] {
				t.Errorf("%s: %s.%s declared twice for layout %q", kind, c.Table, c.Column, c.Layout)
			}
			seen[key] = true
		}
	}
	for _, want := range []struct {
		kind string
		src  loaders.ColumnSource
	}{
		{"datadecide", loaders.ColumnSource{Table: "pretrain_evals", Column: "c4_en_valppl", Layout: "full_eval (1,939-column layout)", From: "c4_en-valppl"}},
		{"datadecide", loaders.ColumnSource{Table: "pretrain_evals", Column: "dolma_common_crawl_valppl", Layout: "full_eval metrics-only (older helper: keys, tokens, compute and metrics)", From: "dolma_common-crawl-valppl"}},
		{"datadecide", loaders.ColumnSource{Table: "pretrain_evals", Column: "arc_easy_acc_raw", Layout: "full_eval (1,939-column layout)", From: "arc_easy_acc_raw"}},
		{"datadecide", loaders.ColumnSource{Table: "pretrain_models", Column: "lr_max", Layout: "full_eval (1,939-column layout)", From: "lr_max"}},
		{"wandb-runs", loaders.ColumnSource{Table: "wandb_runs", Column: "runtime", From: "summary._runtime"}},
		{"wandb-runs", loaders.ColumnSource{Table: "wandb_runs", Column: "learning_rate", From: "config.learning_rate"}},
		{"wandb-runs", loaders.ColumnSource{Table: "wandb_runs", Column: "run_name", Layout: "runs v3 JSONL ({exported_at, run})", From: "name"}},
		{"wandb-history", loaders.ColumnSource{Table: "wandb_history", Column: "logps_chosen", From: "logps/chosen"}},
		{"wandb-history", loaders.ColumnSource{Table: "wandb_history", Column: "step", Layout: "raw scan (_step, _timestamp, _runtime, _wandb, metric columns)", From: "_step"}},
		{"showntell", loaders.ColumnSource{Table: "finetune_matched_runs", Column: "ckpt_steps", Layout: "combined matched DataFrame", From: "ckpt_steps"}},
	} {
		found := false
		for _, c := range all[want.kind] {
			found = found || c == want.src
		}
		if !found {
			t.Errorf("%s does not declare %+v", want.kind, want.src)
		}
	}
	// The metrics-only layout has no model details: declaring one would be a mapping the loader does not make.
	for _, c := range all["datadecide"] {
		if c.Layout == "full_eval metrics-only (older helper: keys, tokens, compute and metrics)" && c.Table == "pretrain_models" && c.Column != "params" {
			t.Errorf("metrics-only layout declares %s.%s", c.Table, c.Column)
		}
	}
}
