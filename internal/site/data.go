package site

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/schema"
)

// nullable turns a NULL into NaN: a point without a value.
func nullable(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

// rowCounts counts the rows of every table of s.
func rowCounts(ctx context.Context, db *sql.DB, s *schema.Schema) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range s.Tables {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+dbschema.Ident(t.Name)).Scan(&n); err != nil {
			return nil, fmt.Errorf("count the rows of %s: %w", t.Name, err)
		}
		out[t.Name] = n
	}
	return out, nil
}

// CurveRow is one metric's row of pretrain_evals_mean with its std.
type CurveRow struct {
	Params, Data string
	Step         int64
	Tokens       float64 // NaN when NULL
	Mean, Std    float64 // NaN when NULL (no value, or below two values for the std)
	Seeds        int64
}

// curveRows reads one metric's seed means and stds, by size, recipe and
// step. It applies the rule of the views pretrain_evals_mean and
// pretrain_evals_std (grouped by params, data, step, tokens and compute;
// NaN and NULL skipped; the sample std) to the one column: the views
// aggregate every column, which takes seconds a metric.
func curveRows(ctx context.Context, db *sql.DB, metric string) ([]CurveRow, error) {
	col := dbschema.Ident(metric)
	q := fmt.Sprintf(`SELECT params, data, step, tokens, avg(nullif(%[1]s, 'NaN'::DOUBLE)), stddev_samp(nullif(%[1]s, 'NaN'::DOUBLE)), count(*)
		FROM pretrain_evals GROUP BY params, data, step, tokens, compute
		ORDER BY params, data, step, tokens`, col)
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read %s from pretrain_evals: %w", metric, err)
	}
	defer rows.Close()
	var out []CurveRow
	for rows.Next() {
		var r CurveRow
		var tok, mean, std sql.NullFloat64
		if err := rows.Scan(&r.Params, &r.Data, &r.Step, &tok, &mean, &std, &r.Seeds); err != nil {
			return nil, fmt.Errorf("read %s from pretrain_evals: %w", metric, err)
		}
		r.Tokens, r.Mean, r.Std = nullable(tok), nullable(mean), nullable(std)
		out = append(out, r)
	}
	return out, rows.Err()
}

// sizeValue reads a DataDecide size label (4M, 150M, 1B, 7.5B) as a number
// for ordering; labels that are not sizes sort last, by name.
func sizeValue(label string) float64 {
	mult := map[byte]float64{'K': 1e3, 'M': 1e6, 'B': 1e9, 'T': 1e12}
	if label == "" {
		return math.Inf(1)
	}
	m, ok := mult[label[len(label)-1]]
	if !ok {
		return math.Inf(1)
	}
	v, err := strconv.ParseFloat(label[:len(label)-1], 64)
	if err != nil {
		return math.Inf(1)
	}
	return v * m
}

// sortSizes orders size labels by the size they read as.
func sortSizes(sizes []string) {
	slices.SortFunc(sizes, func(a, b string) int {
		va, vb := sizeValue(a), sizeValue(b)
		if va != vb {
			if va < vb {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
}

// LossRow is one wandb_history row's train_loss.
type LossRow struct {
	Run  string
	Step float64 // NaN when NULL
	Loss float64 // NaN when NULL or NaN
	Has  bool    // the row holds a train_loss (NaN included)
}

// lossRows reads every history row's step and train_loss in the order the run logged them.
func lossRows(ctx context.Context, db *sql.DB) ([]LossRow, error) {
	rows, err := db.QueryContext(ctx, `SELECT run_id, CAST(step AS DOUBLE), train_loss FROM wandb_history ORDER BY run_id, seq`)
	if err != nil {
		return nil, fmt.Errorf("read wandb_history: %w", err)
	}
	defer rows.Close()
	var out []LossRow
	for rows.Next() {
		var r LossRow
		var step, loss sql.NullFloat64
		if err := rows.Scan(&r.Run, &step, &loss); err != nil {
			return nil, fmt.Errorf("read wandb_history: %w", err)
		}
		r.Step, r.Loss, r.Has = nullable(step), nullable(loss), loss.Valid
		out = append(out, r)
	}
	return out, rows.Err()
}

// MatchRun is one row of finetune_pretrain_match: a matched finetune run and
// the checkpoint it started from.
type MatchRun struct {
	Run, Params, Data, CkptSteps string
	Step                         sql.NullInt64 // the checkpoint's step (finetune_checkpoints), NULL when none
	HasPretrain                  bool          // a pretrain_evals row (seed 0) is at the checkpoint
	Deltas                       int           // entries in deltas
}

// matchRuns reads the matched runs and whether each found its pretraining row.
func matchRuns(ctx context.Context, db *sql.DB) ([]MatchRun, error) {
	rows, err := db.QueryContext(ctx, `SELECT m.run_id, coalesce(m.ckpt_params, ''), coalesce(m.ckpt_data, ''), coalesce(m.ckpt_steps, ''),
		c.step, m.pt_step IS NOT NULL, coalesce(cardinality(m.deltas), 0)
		FROM finetune_pretrain_match m LEFT JOIN finetune_checkpoints c USING (run_id) ORDER BY m.run_id`)
	if err != nil {
		return nil, fmt.Errorf("read finetune_pretrain_match: %w", err)
	}
	defer rows.Close()
	var out []MatchRun
	for rows.Next() {
		var r MatchRun
		if err := rows.Scan(&r.Run, &r.Params, &r.Data, &r.CkptSteps, &r.Step, &r.HasPretrain, &r.Deltas); err != nil {
			return nil, fmt.Errorf("read finetune_pretrain_match: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// bars reads (group, label, value) rows into bars, a NULL value as NaN.
func bars(ctx context.Context, db *sql.DB, what, q string) ([]Bar, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	var out []Bar
	for rows.Next() {
		var b Bar
		var v sql.NullFloat64
		if err := rows.Scan(&b.Group, &b.Label, &v); err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		b.Value = nullable(v)
		out = append(out, b)
	}
	return out, rows.Err()
}

// matchDeltas reads finetune_pretrain_match's deltas, one bar per run and delta.
func matchDeltas(ctx context.Context, db *sql.DB) ([]Bar, error) {
	return bars(ctx, db, "finetune_pretrain_match.deltas", `SELECT run_id, e.key, e.value
		FROM (SELECT run_id, unnest(map_entries(deltas)) AS e FROM finetune_pretrain_match WHERE deltas IS NOT NULL)
		ORDER BY run_id, e.key`)
}

// frameDeltas reads the delta_ cells of a loaded matched frame. A cell
// whose integer no double holds (value NULL, value_int set) has no bar
// value: it counts as not drawn.
func frameDeltas(ctx context.Context, db *sql.DB) ([]Bar, error) {
	return bars(ctx, db, "finetune_matched_values", `SELECT run_id, name, value FROM finetune_matched_values
		WHERE family = 'delta' ORDER BY run_id, name`)
}
