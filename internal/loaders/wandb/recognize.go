package wandb

import (
	"context"

	"github.com/dschema/dschema/internal/loaders"
)

// Recognize implements loaders.Recognizer: a parquet file whose columns
// detectRuns reads as a runs layout, or JSON lines whose first object is
// a runs record (notebook or v3).
func (Runs) Recognize(ctx context.Context, p *loaders.Probe) (string, error) {
	switch p.Format {
	case loaders.FormatParquet:
		cols, err := p.Columns(ctx)
		if err != nil {
			return "", nil
		}
		lay, err := runsParquet(p.Path, cols)
		if err != nil {
			return "", nil
		}
		return lay.variant, nil
	case loaders.FormatJSON:
		if err := refuseBOM(p.Path); err != nil {
			p.Decline("starts with a UTF-8 byte order mark, which the JSON loaders refuse (remove it)")
			return "", nil
		}
		obj, _, err := firstRunsObject(p.Path)
		if err != nil {
			return "", nil
		}
		return runsJSONLVariant(obj), nil
	}
	return "", nil
}

// Recognize implements loaders.Recognizer: a parquet file whose columns
// detectHistory reads as a history layout, or JSON lines whose first line
// is history rows.
func (History) Recognize(ctx context.Context, p *loaders.Probe) (string, error) {
	switch p.Format {
	case loaders.FormatParquet:
		cols, err := p.Columns(ctx)
		if err != nil {
			return "", nil
		}
		h, err := historyParquet(p.Path, "", cols)
		if err != nil {
			return "", nil
		}
		return h.variant, nil
	case loaders.FormatJSON:
		first, n, err := firstJSONLine(p.Path)
		if err != nil {
			return "", nil
		}
		v, err := historyJSONLVariant(p.Path, first, n)
		if err != nil {
			return "", nil
		}
		return v, nil
	}
	return "", nil
}

// After implements loaders.Dependent: a history's runs are loaded first.
func (History) After() []string { return []string{"wandb-runs"} }
