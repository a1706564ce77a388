package showntell

import (
	"maps"
	"slices"

	"github.com/dschema/dschema/internal/loaders"
)

// ColumnSources implements loaders.ColumnSourcer for the matched frame,
// whose base columns (matchedBase) keep their legacy names; its other
// cells are rows of finetune_matched_values and finetune_matched_curves,
// named by their legacy column in name. The modernized pickle's
// processed_runs fields are not declared here (pickleRow reads them).
func (Loader) ColumnSources() []loaders.ColumnSource {
	var out []loaders.ColumnSource
	for _, c := range slices.Sorted(maps.Keys(matchedBase)) {
		out = append(out, loaders.ColumnSource{Table: "finetune_matched_runs", Column: c, Layout: VariantMatched, From: c})
	}
	for _, t := range []string{"finetune_matched_values", "finetune_matched_curves"} {
		out = append(out, loaders.ColumnSource{Table: t, Column: "name", Layout: VariantMatched, From: "the legacy column's name (its cell is the row's value)"})
	}
	return out
}
