package datadecide

import (
	"context"
	"errors"

	"github.com/dschema/dschema/internal/loaders"
)

// Recognize implements loaders.Recognizer: a parquet file whose columns
// detect reads as a full_eval layout, keys and types checked against the
// database's. A file with every key column that detect refuses is
// declined with detect's reason.
func (Loader) Recognize(ctx context.Context, p *loaders.Probe) (string, error) {
	if p.Format != loaders.FormatParquet {
		return "", nil
	}
	cols, err := p.Columns(ctx)
	if err != nil {
		return "", nil
	}
	dbt, err := loaders.DBTypes(ctx, p.Conn, "pretrain_evals", "pretrain_models", "pretrain_datasets")
	if err != nil {
		return "", err
	}
	lay, err := detect(p.Path, cols, dbt, false)
	if err != nil {
		var fe *loaders.FileError
		if errors.As(err, &fe) && (&layout{types: columnTypes(cols)}).checkKeys(p.Path) == nil && !isAggregate(cols) {
			p.Decline("datadecide: " + fe.Msg)
		}
		return "", nil
	}
	return lay.variant, nil
}

// Recognize implements loaders.Recognizer: a parquet file aggKeys reads as
// a seed aggregate (params, data, step, and no integer seed column: a
// per-seed file is datadecide's). The layout says mean or std, as the
// check tells it from the file name.
func (Agg) Recognize(ctx context.Context, p *loaders.Probe) (string, error) {
	if p.Format != loaders.FormatParquet {
		return "", nil
	}
	cols, err := p.Columns(ctx)
	if err != nil || !isAggregate(cols) {
		return "", nil
	}
	a := &AggCheck{}
	if _, err := aggKeys(a, p.Path, cols); err != nil {
		return "", nil
	}
	stat, err := aggStat(p.Path, "")
	if err != nil {
		return "mean or std not told by the file name (check it with dschema load datadecide-agg FILE --stat mean|std), " + a.Variant, nil
	}
	return stat + " of seeds, " + a.Variant, nil
}

// After implements loaders.Dependent: the aggregates are checked against
// the DataDecide rows, loaded first.
func (Agg) After() []string { return []string{"datadecide"} }

// isAggregate reports whether a file with columns cols has no integer seed
// column: an aggregate has none, or an averaged (float) one.
func isAggregate(cols []loaders.FileColumn) bool {
	for _, c := range cols {
		if c.Name == "seed" && loaders.TypeClass(c.Type) == "integer" {
			return false
		}
	}
	return true
}

// columnTypes maps each column to its type.
func columnTypes(cols []loaders.FileColumn) map[string]string {
	out := map[string]string{}
	for _, c := range cols {
		out[c.Name] = c.Type
	}
	return out
}
