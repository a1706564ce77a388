package loaders

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/runname"
)

// OriginRunName marks finetune_runs rows derived from a W&B run's name.
const OriginRunName = "run name"

// deriveFinetuneRuns writes a finetune_runs row for every run this load
// wrote to wandb_runs whose name is a finetune run name (runname.Parse),
// with learning rate, seed and epochs the name lacks taken from the run's
// config and the real token count from its summary. The rows carry the
// load's load_id: replacing or removing the runs file removes them too. A
// run that already has a finetune_runs row (from another source) keeps it.
func deriveFinetuneRuns(ctx context.Context, conn *sql.Conn, loadID int64, rep *Report) (int64, error) {
	return deriveFinetuneRunsFrom(ctx, conn, "wandb_runs", loadID, loadID, rep)
}

// deriveFinetuneRunsFrom is deriveFinetuneRuns over the rows of runs (a
// table with wandb_runs' columns) whose load_id is from, writing rows with
// load_id as: verify derives a runs file's rows from its staged runs.
func deriveFinetuneRunsFrom(ctx context.Context, conn *sql.Conn, runs string, from, loadID int64, rep *Report) (int64, error) {
	rows, err := conn.QueryContext(ctx, `SELECT r.run_id, coalesce(r.run_name, r.run_id),
			CAST(json_extract(r.config, '$.learning_rate') AS VARCHAR), CAST(json_extract(r.config, '$.seed') AS VARCHAR),
			CAST(json_extract(r.config, '$.num_train_epochs') AS VARCHAR), r.total_tokens, f.run_id IS NOT NULL
		FROM `+runs+` r LEFT JOIN finetune_runs f USING (run_id) WHERE r.load_id = ? ORDER BY r.run_id`, from)
	if err != nil {
		return 0, err
	}
	var out []*gen.FinetuneRun
	counts := map[string]int64{}
	var taken []string
	for rows.Next() {
		var id, name string
		var lr, seed, epochs sql.NullString
		var real sql.NullFloat64
		var exists bool
		if err := rows.Scan(&id, &name, &lr, &seed, &epochs, &real, &exists); err != nil {
			rows.Close()
			return 0, err
		}
		// The name carries the fields (in this lab it is also the id).
		p := runname.Parse(name)
		p.RunID = id
		if p.RunType == runname.TypeOld || p.RunType == runname.TypeOther {
			counts[p.RunType]++
			continue
		}
		if exists {
			taken = append(taken, id)
			continue
		}
		p.Fill(map[string]any{"learning_rate": configValue(lr), "seed": configValue(seed), "num_train_epochs": configValue(epochs)})
		r, err := finetuneRow(p, real, loadID)
		if err != nil {
			rows.Close()
			return 0, err
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if n := counts[runname.TypeOld] + counts[runname.TypeOther]; n > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("finetune_runs: %d runs have no finetune run name (%d old, %d other): no row", n, counts[runname.TypeOld], counts[runname.TypeOther]))
	}
	if len(taken) > 0 {
		rep.Skipped = append(rep.Skipped, Skip{What: "finetune_runs rows of " + examples(taken, 5), Count: int64(len(taken)),
			Reason: "the run already has a finetune_runs row from another source"})
	}
	if len(out) == 0 {
		return 0, nil
	}
	if err := appendFinetuneRuns(conn, out); err != nil {
		return 0, err
	}
	return int64(len(out)), nil
}

// appendFinetuneRuns writes rows through the generated appender.
func appendFinetuneRuns(conn *sql.Conn, rows []*gen.FinetuneRun) error {
	err := conn.Raw(func(dc any) error {
		a, err := gen.NewFinetuneRunAppender(dc.(driver.Conn))
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := a.Append(r); err != nil {
				a.Close()
				return fmt.Errorf("run %s: %w", r.RunID, err)
			}
		}
		return a.Close()
	})
	if err != nil {
		return fmt.Errorf("write finetune_runs: %w", err)
	}
	return nil
}

// configValue turns a config value's JSON text into what runname.Fill
// reads: a JSON number as json.Number (3 stays 3), a string unquoted.
func configValue(s sql.NullString) any {
	if !s.Valid {
		return nil
	}
	t := strings.TrimSpace(s.String)
	switch {
	case t == "null" || t == "":
		return nil
	case strings.HasPrefix(t, `"`):
		var v string
		if json.Unmarshal([]byte(t), &v) == nil {
			return v
		}
		return nil
	case strings.HasPrefix(t, "{"), strings.HasPrefix(t, "["), t == "true", t == "false":
		return nil
	}
	if _, err := strconv.ParseFloat(t, 64); err != nil {
		return nil // NaN, Infinity: no value to fill
	}
	return json.Number(t)
}

func finetuneRow(p *runname.Parsed, real sql.NullFloat64, loadID int64) (*gen.FinetuneRun, error) {
	source, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	origin := OriginRunName
	r := &gen.FinetuneRun{
		RunID: p.RunID, RunType: &p.RunType, PatternName: &p.PatternName, ExpName: p.ExpName,
		BaseRecipe: p.InitialCheckpointRecipe, BaseRecipeRaw: p.InitialCheckpointRecipeRaw, BaseSize: p.InitialCheckpointSize,
		LR: p.LRValue(), LRText: p.LR, Lr1: runname.Number(p.LR1), Lr2: runname.Number(p.LR2),
		TokensPerEpoch: p.NumFinetuneTokensPerEpoch, Epochs: p.NumFinetuneEpochs, Tokens: p.NumFinetuneTokens,
		ReduceLoss: p.ReduceLoss, MaxTrainSamples: p.MaxTrainSamples,
		ComparisonModelSize: p.ComparisonModelSize, ComparisonMetric: p.ComparisonMetric, ComparisonModelRecipe: p.ComparisonModelRecipe,
		Source: source, Origin: &origin, LoadID: &loadID,
	}
	if p.Timestamp != nil {
		t := time.Time(*p.Timestamp)
		r.StartedAt = &t
	}
	r.CheckpointIsMain, r.CheckpointStep = checkpoint(p.InitialCheckpointSteps)
	if p.Seed != nil {
		if f, err := strconv.ParseFloat(*p.Seed, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			n := int64(f)
			r.Seed = &n
		}
	}
	if real.Valid {
		v := real.Float64
		r.TokensReal = &v
		if p.NumFinetuneTokens != nil && *p.NumFinetuneTokens != 0 {
			d := math.Abs(*p.NumFinetuneTokens-v) / *p.NumFinetuneTokens * 100
			r.AbsDifferenceTokensPct = &d
		}
	}
	return r, nil
}

// checkpoint reads a checkpoint's steps as the legacy records write them
// ("main" or digits): whether it is the final checkpoint, and its step.
func checkpoint(steps *string) (isMain *bool, step *int64) {
	if steps == nil {
		return nil, nil
	}
	main := *steps == "main"
	if n, err := strconv.ParseInt(*steps, 10, 64); err == nil {
		step = &n
	}
	return &main, step
}
