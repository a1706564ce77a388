package datadecide

import "github.com/dschema/dschema/internal/loaders"

// ColumnSources implements loaders.ColumnSourcer from the column lists the
// loader detects and loads by: in both layouts a column holds the legacy
// column of its own name, the perplexities excepted (PerplexityColumns).
func (Loader) ColumnSources() []loaders.ColumnSource {
	var out []loaders.ColumnSource
	add := func(layout, table, from string, cols ...string) {
		for _, c := range cols {
			f := from
			if f == "" {
				f = c
			}
			out = append(out, loaders.ColumnSource{Table: table, Column: c, Layout: layout, From: f})
		}
	}
	cs := Columns()
	for _, layout := range []string{VariantFullEval, VariantMetricsOnly} {
		add(layout, "pretrain_runs", "", "params", "data", "seed")
		add(layout, "pretrain_runs", "seed (its DataDecide name)", "seed_name")
		add(layout, "pretrain_evals", "", ddKeys...)
		add(layout, "pretrain_evals", "", ddBase...)
		add(layout, "pretrain_evals", "", cs.Grid...)
		for _, p := range PerplexityColumns {
			add(layout, "pretrain_evals", p[0], p[1])
		}
		add(layout, "pretrain_evals", "numeric columns the schema does not know, by name", "extra_metrics")
		add(layout, "pretrain_models", "", "params")
		add(layout, "pretrain_datasets", "", "data")
	}
	add(VariantFullEval, "pretrain_evals", "", ddPerRow...)
	add(VariantFullEval, "pretrain_models", "", ddScheduleCol...)
	add(VariantFullEval, "pretrain_models", "", cs.ModelDetails...)
	add(VariantFullEval, "pretrain_datasets", "", cs.Datasets...)
	return out
}
