package finetune

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dschema/dschema/internal/loaders"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/runname"
)

// OriginRunName marks finetune_runs rows derived from a W&B run's name.
const OriginRunName = "run name"

// DeriveRuns writes a finetune_runs row for every run this load
// wrote to wandb_runs whose name is a finetune run name (runname.Parse),
// with learning rate, seed and epochs the name lacks taken from the run's
// config and the real token count from its summary. The rows carry the
// load's load_id: replacing or removing the runs file removes them too. A
// run that already has a finetune_runs row (from another source) keeps it.
func DeriveRuns(ctx context.Context, conn *sql.Conn, loadID int64, rep *loaders.Report) (int64, error) {
	return DeriveRunsFrom(ctx, conn, "wandb_runs", loadID, loadID, rep)
}

// DeriveRunsFrom is deriveFinetuneRuns over the rows of runs (a
// table with wandb_runs' columns) whose load_id is from, writing rows with
// load_id as: verify derives a runs file's rows from its staged runs.
func DeriveRunsFrom(ctx context.Context, conn *sql.Conn, runs string, from, loadID int64, rep *loaders.Report) (int64, error) {
	// The config's text, not json_extract's values: DuckDB writes a number
	// it extracts again in its own way (3e-05 as 0.00003), and lr_text keeps
	// the text as the config wrote it.
	rows, err := conn.QueryContext(ctx, `SELECT r.run_id, coalesce(r.run_name, r.run_id), CAST(r.config AS VARCHAR), r.total_tokens, f.run_id IS NOT NULL
		FROM `+runs+` r LEFT JOIN finetune_runs f USING (run_id) WHERE r.load_id = ? ORDER BY r.run_id`, from)
	if err != nil {
		return 0, err
	}
	var out []*gen.FinetuneRun
	counts := map[string]int64{}
	var taken, unfilled, inexact []string
	for rows.Next() {
		var id, name string
		var cfg sql.NullString
		var real sql.NullFloat64
		var exists bool
		if err := rows.Scan(&id, &name, &cfg, &real, &exists); err != nil {
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
		config := map[string]any{}
		var bad [3]string
		keys := [3]string{"learning_rate", "seed", "num_train_epochs"}
		raw := configTokens(cfg.String, keys[:]...)
		for i, k := range keys {
			config[k], bad[i] = configValue(raw[k])
		}
		p.Fill(config)
		// A config value with no number (NaN, Infinity) fills nothing: named
		// where the field stays empty.
		for i, empty := range []bool{p.LR == nil && runname.HasField(p.RunType, "lr"), p.Seed == nil && runname.HasField(p.RunType, "seed"), p.NumFinetuneEpochs == nil} {
			if bad[i] != "" && empty {
				unfilled = append(unfilled, fmt.Sprintf("%s: %s %s", id, keys[i], bad[i]))
			}
		}
		r, why, err := finetuneRow(p, real, loadID)
		if err != nil {
			rows.Close()
			return 0, err
		}
		if why != "" {
			inexact = append(inexact, fmt.Sprintf("%s: %s", id, why))
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
	if len(unfilled) > 0 {
		rep.Skipped = append(rep.Skipped, loaders.Skip{What: "config values with no number to fill a field the run name lacks: " + loaders.Examples(unfilled, 5), Count: int64(len(unfilled)),
			Reason: "the finetune_runs field is left NULL; wandb_runs.config keeps the value"})
	}
	if len(inexact) > 0 {
		rep.Kept = append(rep.Kept, loaders.Skip{What: "run-name fields no typed column holds exactly: " + loaders.Examples(inexact, 5), Count: int64(len(inexact)),
			Reason: "the column is left NULL; finetune_runs.source keeps the text"})
	}
	rep.Skip(loaders.FirstSourceKeeps("finetune_runs rows of runs", "finetune_runs", taken))
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
// NaN and Infinity, as bare tokens or as text, are no number to fill:
// nil, and bad says what the config held.
func configValue(s sql.NullString) (v any, bad string) {
	if !s.Valid {
		return nil, ""
	}
	t := strings.TrimSpace(s.String)
	switch {
	case t == "null" || t == "":
		return nil, ""
	case strings.HasPrefix(t, `"`):
		var v string
		if json.Unmarshal([]byte(t), &v) != nil {
			return nil, ""
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return nil, t
		}
		return v, ""
	case strings.HasPrefix(t, "{"), strings.HasPrefix(t, "["), t == "true", t == "false":
		return nil, ""
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return nil, ""
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, t
	}
	return json.Number(t), ""
}

// configTokens finds keys among the top-level keys of the JSON object
// text and returns each one's value as its text in the object, byte for
// byte (the first of equal keys, as DuckDB's JSON paths take). Python's
// NaN and Infinity tokens are values too. Text that is not an object gives
// nothing.
func configTokens(text string, keys ...string) map[string]sql.NullString {
	out := map[string]sql.NullString{}
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	// PyJSON writes NaN and Infinity as 0 padded with spaces to the same
	// length, so offsets in the decoder's text are offsets in the config's.
	clean := loaders.PyJSON([]byte(text))
	dec := json.NewDecoder(bytes.NewReader(clean))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return out
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		start := int(dec.InputOffset()) // after the key; the value follows ':'
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return out
		}
		end := int(dec.InputOffset())
		for end < len(clean) && clean[end] == ' ' && text[end] != ' ' { // the rest of a NaN or Infinity
			end++
		}
		k, _ := tok.(string)
		if _, seen := out[k]; want[k] && !seen {
			out[k] = sql.NullString{String: strings.TrimLeft(text[start:end], " \t\r\n:"), Valid: true}
		}
	}
	return out
}

// finetuneRow is the finetune_runs row of a parsed run name; why names a
// field its typed column cannot hold exactly (the column is left NULL; the
// parse, in source, keeps the text).
func finetuneRow(p *runname.Parsed, real sql.NullFloat64, loadID int64) (r *gen.FinetuneRun, why string, err error) {
	source, err := json.Marshal(p)
	if err != nil {
		return nil, "", fmt.Errorf("run %s: the parse as JSON: %w", p.RunID, err)
	}
	origin := OriginRunName
	r = &gen.FinetuneRun{
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
	r.CheckpointIsMain, r.CheckpointStep = Checkpoint(p.InitialCheckpointSteps)
	if p.Seed != nil {
		n, bad := BigintText(*p.Seed)
		if bad != "" {
			why = "seed " + bad
		} else {
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
	return r, why, nil
}

// Checkpoint reads a checkpoint's steps as the legacy records write them
// ("main" or digits): whether it is the final checkpoint, and its step.
func Checkpoint(steps *string) (isMain *bool, step *int64) {
	if steps == nil {
		return nil, nil
	}
	main := *steps == "main"
	if n, err := strconv.ParseInt(*steps, 10, 64); err == nil {
		step = &n
	}
	return &main, step
}

// JSONCell is JSON text for a JSON column of the row with the given key.
type JSONCell struct {
	Key  []string
	Text []byte
}

// SetJSONColumn writes JSON text into column col of rows already appended
// (matched by their key columns, all text). The generated appenders pass a
// JSON value through encoding/json, which refuses the NaN and Infinity
// tokens Python's json writes (and DuckDB's JSON reads) and escapes <, >
// and & again; DuckDB's cast from text keeps the text as written. So the
// loaders that keep such values append the rows with the column NULL and
// set it here, by one UPDATE from a temp table.
func SetJSONColumn(ctx context.Context, conn *sql.Conn, table string, keys []string, col string, cells []JSONCell) error {
	if len(cells) == 0 {
		return nil
	}
	q := dbschema.Ident
	var defs, on []string
	for i, k := range keys {
		defs = append(defs, fmt.Sprintf("k%d VARCHAR", i))
		on = append(on, fmt.Sprintf("t.%s = s.k%d", q(k), i))
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE _dschema_json (%s, j VARCHAR)", strings.Join(defs, ", "))); err != nil {
		return fmt.Errorf("write %s.%s: %w", table, col, err)
	}
	const batch = 256
	row := "(" + strings.Repeat("?, ", len(keys)) + "?)"
	for start := 0; start < len(cells); start += batch {
		part := cells[start:min(start+batch, len(cells))]
		args := make([]any, 0, len(part)*(len(keys)+1))
		for _, c := range part {
			for _, k := range c.Key {
				args = append(args, k)
			}
			args = append(args, string(c.Text))
		}
		stmt := "INSERT INTO _dschema_json VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", len(part)), ", ")
		if _, err := conn.ExecContext(ctx, stmt, args...); err != nil {
			return fmt.Errorf("write %s.%s: %w", table, col, err)
		}
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("UPDATE %s t SET %s = CAST(s.j AS JSON) FROM _dschema_json s WHERE %s; DROP TABLE _dschema_json",
		q(table), q(col), strings.Join(on, " AND "))); err != nil {
		return fmt.Errorf("write %s.%s: %w", table, col, err)
	}
	return nil
}

// AppendPickleRuns writes finetune_runs rows made from a pickle: their
// source (Python's JSON, NaN kept) by setJSONColumn.
func AppendPickleRuns(ctx context.Context, conn *sql.Conn, rows []*gen.FinetuneRun) error {
	bare := make([]*gen.FinetuneRun, len(rows))
	var cells []JSONCell
	for i, r := range rows {
		c := *r
		if c.Source != nil {
			cells = append(cells, JSONCell{[]string{c.RunID}, c.Source})
			c.Source = nil
		}
		bare[i] = &c
	}
	if err := appendFinetuneRuns(conn, bare); err != nil {
		return err
	}
	return SetJSONColumn(ctx, conn, "finetune_runs", []string{"run_id"}, "source", cells)
}

// BigintText reads a whole number written as text: digits, or digits with
// a zero fraction as Python's str() writes a float ("2.0"). Anything else
// ("1e30", "2.5") has no exact BIGINT.
func BigintText(s string) (int64, string) {
	t := strings.TrimSpace(s)
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		return n, ""
	}
	if i := strings.IndexByte(t, '.'); i > 0 && strings.Trim(t[i+1:], "0") == "" {
		if n, err := strconv.ParseInt(t[:i], 10, 64); err == nil {
			return n, ""
		}
	}
	return 0, fmt.Sprintf("text %q is not a whole number a BIGINT holds", s)
}
