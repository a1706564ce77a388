package wandb

import (
	"maps"
	"slices"

	"github.com/dschema/dschema/internal/loaders"
)

// everyLayout stands for every layout a loader reads.
const everyLayout = ""

// ColumnSources implements loaders.ColumnSourcer from runsTyped (the typed
// config and summary columns, in every layout) and sourceColumnFor and
// v3RunFields (the run's own fields, by layout).
func (Runs) ColumnSources() []loaders.ColumnSource {
	var out []loaders.ColumnSource
	for _, t := range runsTyped {
		out = append(out, loaders.ColumnSource{Table: "wandb_runs", Column: t.column, Layout: everyLayout, From: t.blob + "." + t.key})
	}
	fields := func(layout string, m map[string]string) {
		for _, src := range slices.Sorted(maps.Keys(m)) {
			if col := m[src]; col != "" {
				out = append(out, loaders.ColumnSource{Table: "wandb_runs", Column: col, Layout: layout, From: src})
			}
		}
	}
	fields(RunsCanonical, onlyKeys(sourceColumnFor, runsCanonicalColumns))
	fields(RunsV3, v3RunFields)
	return out
}

// ColumnSources implements loaders.ColumnSourcer: the metric columns hold
// their W&B key (the schema's key, or the column's name) in every layout;
// the layouts that keep W&B's own underscore keys give step, logged_at and
// runtime from _step, _timestamp and _runtime.
func (History) ColumnSources() []loaders.ColumnSource {
	var out []loaders.ColumnSource
	ms, err := historyMetrics()
	if err == nil {
		for _, m := range ms {
			out = append(out, loaders.ColumnSource{Table: "wandb_history", Column: m.column, Layout: everyLayout, From: m.key})
		}
	}
	for _, layout := range []string{HistRawScan, HistSync} {
		for _, p := range [][2]string{{"step", "_step"}, {"logged_at", "_timestamp"}, {"runtime", "_runtime"}} {
			out = append(out, loaders.ColumnSource{Table: "wandb_history", Column: p[0], Layout: layout, From: p[1]})
		}
	}
	out = append(out, loaders.ColumnSource{Table: "wandb_history", Column: "step", Layout: HistPositional, From: "_step"})
	return out
}

// onlyKeys is m restricted to the keys in keep.
func onlyKeys(m map[string]string, keep []string) map[string]string {
	out := map[string]string{}
	for _, k := range keep {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}
