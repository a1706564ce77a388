package loaders

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/pickle"
	"github.com/dschema/dschema/internal/runname"
)

func init() { Register(Showntell{}) }

// Showntell loads the pickles the lab's notebooks wrote (LEGACY-FORMATS.md
// §4): a <timestamp>_modernized_run_data.pkl into finetune_runs. Pickles
// are decoded without running code (internal/pickle).
type Showntell struct{}

// Kind implements Loader.
func (Showntell) Kind() string { return "showntell" }

// Short implements Loader.
func (Showntell) Short() string {
	return "notebook pickles: *_modernized_run_data.pkl (finetune_runs), combined_plotting_data_matched.pkl (finetune_matched_*); decoded without running code"
}

// Layouts.
const (
	ShowntellModernized = "modernized run data (processed_runs, grouped_data, processed_dataframes, metadata)"
	ShowntellMatched    = "combined matched DataFrame"
)

// OriginPickle marks finetune_runs rows loaded from a pickle.
const OriginPickle = "pickle"

// maxPickle bounds the pickle read into memory (the lab's are MBs).
const maxPickle = 1 << 30

// Load implements Loader.
func (Showntell) Load(ctx context.Context, ld *Load) (*Report, error) {
	path := ld.Source.Path
	if ld.Source.Size > maxPickle {
		return nil, &FileError{Path: path, Msg: fmt.Sprintf("%d bytes: pickles over %d bytes are not read", ld.Source.Size, maxPickle)}
	}
	ld.Stage("decoding the pickle")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := pickle.Decode(data)
	if err != nil {
		var pe *pickle.Error
		var re *pickle.RefusedError
		switch {
		case errors.As(err, &re):
			return nil, &FileError{Path: path, Place: fmt.Sprintf("byte %d", re.Offset), Msg: fmt.Sprintf("refused %s.%s: only builtins, datetime, numpy and pandas DataFrame objects are reconstructed; nothing was run", re.Module, re.Name), Err: err}
		case errors.As(err, &pe):
			return nil, &FileError{Path: path, Place: fmt.Sprintf("byte %d", pe.Offset), Msg: pe.Msg, Err: err}
		}
		return nil, &FileError{Path: path, Msg: err.Error(), Err: err}
	}
	switch x := v.(type) {
	case *pickle.Dict:
		if !hasKeys(x, "processed_runs", "grouped_data", "processed_dataframes", "metadata") {
			return nil, &FileError{Path: path, Msg: fmt.Sprintf("unknown pickle layout: a dict with keys %s; expected processed_runs, grouped_data, processed_dataframes, metadata (modernized run data) or a DataFrame (combined matched data)", dictKeys(x))}
		}
		return loadModernized(ctx, ld, x)
	case *pickle.DataFrame:
		return loadMatched(ctx, ld, x)
	}
	return nil, &FileError{Path: path, Msg: fmt.Sprintf("unknown pickle layout: a %T; expected a modernized run data dict or a DataFrame", v)}
}

func hasKeys(d *pickle.Dict, keys ...string) bool {
	for _, k := range keys {
		if _, ok := d.Get(k); !ok {
			return false
		}
	}
	return true
}

func dictKeys(d *pickle.Dict) string {
	var out []string
	for _, k := range d.Keys {
		out = append(out, fmt.Sprint(k))
	}
	return strings.Join(out, ", ")
}

// record is one processed_runs entry, by field.
type record map[string]any

// modernizedRecords reads processed_runs: one record per run, keyed by field.
func modernizedRecords(path string, d *pickle.Dict) ([]record, error) {
	pr, _ := d.Get("processed_runs")
	list, ok := pr.([]any)
	if !ok {
		return nil, &FileError{Path: path, Place: "key processed_runs", Msg: fmt.Sprintf("a %T, want a list of dicts", pr)}
	}
	var recs []record
	seen := map[string]int{}
	for i, e := range list {
		rd, ok := e.(*pickle.Dict)
		if !ok {
			return nil, &FileError{Path: path, Place: fmt.Sprintf("processed_runs[%d]", i), Msg: fmt.Sprintf("a %T, want a dict", e)}
		}
		r := record{}
		for j, k := range rd.Keys {
			ks, ok := k.(string)
			if !ok {
				return nil, &FileError{Path: path, Place: fmt.Sprintf("processed_runs[%d]", i), Msg: fmt.Sprintf("key %v is not a string", k)}
			}
			r[ks] = rd.Values[j]
		}
		id, _ := r["run_id"].(string)
		if id == "" {
			return nil, &FileError{Path: path, Place: fmt.Sprintf("processed_runs[%d]", i), Msg: "no run_id"}
		}
		if prev, dup := seen[id]; dup {
			return nil, &FileError{Path: path, Place: fmt.Sprintf("processed_runs[%d]", i), Msg: fmt.Sprintf("run %s again (first at [%d])", id, prev)}
		}
		seen[id] = i
		recs = append(recs, r)
	}
	return recs, nil
}

// missing reports whether a record value is absent: None, NaN or NaT.
func missing(v any) bool {
	switch x := v.(type) {
	case nil, pickle.NaTValue:
		return true
	case float64:
		return math.IsNaN(x)
	}
	return false
}

// recText is a record field as text (an absent field is nil).
func recText(r record, k string) *string { return cellText(r[k]) }

func recFloat(r record, k string) *float64 {
	v, ok := r[k]
	if !ok || missing(v) {
		return nil
	}
	switch x := v.(type) {
	case float64:
		return &x
	case int64:
		f := float64(x)
		return &f
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err == nil {
			return &f
		}
	}
	return nil
}

// legacyFields are the record fields compared between processed_runs and
// processed_dataframes, and with the run-name parse.
var legacyFields = []string{"timestamp", "exp_name", "initial_checkpoint_recipe", "initial_checkpoint_size", "initial_checkpoint_steps",
	"num_finetune_tokens_per_epoch", "num_finetune_epochs", "num_finetune_tokens", "lr", "lr1", "lr2", "seed", "reduce_loss",
	"comparison_model_size", "comparison_metric", "comparison_model_recipe", "pattern_name"}

// text renders a record value for comparison and reports.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case float64:
		if math.IsNaN(x) {
			return "NaN"
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatFloat(float64(x), 'g', -1, 64)
	case time.Time:
		return x.Format("2006-01-02 15:04:05")
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil && strings.ContainsAny(x, ".e") {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		return x
	}
	return fmt.Sprint(v)
}

func loadModernized(ctx context.Context, ld *Load, d *pickle.Dict) (*Report, error) {
	path, conn := ld.Source.Path, ld.Conn
	rep := &Report{Variant: ShowntellModernized, Rows: map[string]int64{}}
	recs, err := modernizedRecords(path, d)
	if err != nil {
		return nil, err
	}
	if md, ok := d.Get("metadata"); ok {
		if m, ok := md.(*pickle.Dict); ok {
			var parts []string
			for i, k := range m.Keys {
				parts = append(parts, fmt.Sprintf("%v=%s", k, text(m.Values[i])))
			}
			rep.Notes = append(rep.Notes, "metadata: "+strings.Join(parts, ", "))
		}
	}
	// processed_dataframes: the same records, by run type.
	if pd, ok := d.Get("processed_dataframes"); ok {
		diffs, err := compareFrames(recs, pd)
		if err != nil {
			return nil, &FileError{Path: path, Place: "key processed_dataframes", Msg: err.Error()}
		}
		if len(diffs) > 0 {
			rep.Kept = append(rep.Kept, Skip{What: "processed_runs and processed_dataframes disagree: " + examples(diffs, 5), Count: int64(len(diffs)),
				Reason: "processed_runs was loaded; both stay in the pickle"})
		}
	}

	ld.Stage("writing finetune_runs")
	existing, err := existingFinetune(ctx, conn)
	if err != nil {
		return nil, err
	}
	var rows []*gen.FinetuneRun
	var disagree []string
	var bug []string
	nd := 0
	for _, r := range recs {
		id := r["run_id"].(string)
		parsed := runname.Parse(id)
		if f := recFloat(r, "num_finetune_tokens"); f != nil && parsed.NumFinetuneTokens != nil && *f != *parsed.NumFinetuneTokens && len(parsed.Notes) > 0 {
			bug = append(bug, fmt.Sprintf("%s: num_finetune_tokens %s (the name says %s)", id, text(*f), text(*parsed.NumFinetuneTokens)))
		}
		if ex, ok := existing[id]; ok {
			for _, f := range legacyFields {
				a, b := text(orNil(r[f])), ex[f]
				if missing(r[f]) {
					a = "None"
				}
				if a != b {
					nd++
					disagree = append(disagree, fmt.Sprintf("%s: %s pickle %s, run name %s", id, f, a, b))
				}
			}
			continue
		}
		row, err := pickleRow(r, ld.ID)
		if err != nil {
			return nil, &FileError{Path: path, Place: "run " + id, Msg: err.Error()}
		}
		rows = append(rows, row)
	}
	if len(bug) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d records carry the legacy parser's 100Mt = 1e14 tokens (1e8 is right): %s", len(bug), examples(bug, 5)))
	}
	if nd > 0 {
		rep.Kept = append(rep.Kept, Skip{What: "fields where the pickle and the run-name parse disagree: " + examples(disagree, 10), Count: int64(nd),
			Reason: "those runs keep their finetune_runs row from the W&B runs load; the pickle's values are in this report"})
	}
	if len(rows) > 0 {
		if err := appendFinetuneRuns(conn, rows); err != nil {
			return nil, err
		}
	}
	rep.Rows["finetune_runs"] = int64(len(rows))
	if n := len(recs) - len(rows); n > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d runs already have a finetune_runs row (from their W&B run name): compared, not written", n))
	}
	return rep, nil
}

func orNil(v any) any {
	if missing(v) {
		return nil
	}
	return v
}

// existingFinetune reads finetune_runs rows as legacy field texts.
func existingFinetune(ctx context.Context, conn *sql.Conn) (map[string]map[string]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT run_id, CAST(source AS VARCHAR) FROM finetune_runs`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var id string
		var src sql.NullString
		if err := rows.Scan(&id, &src); err != nil {
			return nil, err
		}
		var p runname.Parsed
		m := map[string]string{}
		if src.Valid && json.Unmarshal([]byte(src.String), &p) == nil {
			s := func(v *string) string {
				if v == nil {
					return "None"
				}
				return text(*v)
			}
			f := func(v *float64) string {
				if v == nil {
					return "None"
				}
				return text(*v)
			}
			ts := "None"
			if p.Timestamp != nil {
				ts = p.Timestamp.String()
			}
			m = map[string]string{"timestamp": ts, "exp_name": s(p.ExpName), "initial_checkpoint_recipe": s(p.InitialCheckpointRecipe),
				"initial_checkpoint_size": s(p.InitialCheckpointSize), "initial_checkpoint_steps": s(p.InitialCheckpointSteps),
				"num_finetune_tokens_per_epoch": f(p.NumFinetuneTokensPerEpoch), "num_finetune_epochs": f(p.NumFinetuneEpochs),
				"num_finetune_tokens": f(p.NumFinetuneTokens), "lr": s(p.LR), "lr1": s(p.LR1), "lr2": s(p.LR2), "seed": s(p.Seed),
				"reduce_loss": s(p.ReduceLoss), "comparison_model_size": s(p.ComparisonModelSize), "comparison_metric": s(p.ComparisonMetric),
				"comparison_model_recipe": s(p.ComparisonModelRecipe), "pattern_name": p.PatternName}
		}
		out[id] = m
	}
	return out, rows.Err()
}

// compareFrames lists the cells where processed_dataframes differ from
// processed_runs.
func compareFrames(recs []record, v any) ([]string, error) {
	d, ok := v.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("a %T, want a dict of DataFrames", v)
	}
	byID := map[string]record{}
	for _, r := range recs {
		byID[r["run_id"].(string)] = r
	}
	var diffs []string
	for i, k := range d.Keys {
		df, ok := d.Values[i].(*pickle.DataFrame)
		if !ok {
			return nil, fmt.Errorf("%v: a %T, want a DataFrame", k, d.Values[i])
		}
		ids, err := df.ColumnByName("run_id")
		if err != nil {
			return nil, fmt.Errorf("%v: %w", k, err)
		}
		for j, c := range df.Columns {
			name, _ := c.(string)
			if name == "run_id" {
				continue
			}
			vals, err := df.Column(j)
			if err != nil {
				return nil, fmt.Errorf("%v: column %s: %w", k, name, err)
			}
			for row, val := range vals {
				id, _ := ids[row].(string)
				r, ok := byID[id]
				if !ok {
					diffs = append(diffs, fmt.Sprintf("%v: run %s is not in processed_runs", k, id))
					break
				}
				a, b := text(orNil(val)), text(orNil(r[name]))
				if a != b {
					diffs = append(diffs, fmt.Sprintf("%s: %s records %s, frames %s", id, name, b, a))
				}
			}
		}
	}
	sort.Strings(diffs)
	return diffs, nil
}

// pickleRow is the finetune_runs row of one processed_runs record.
func pickleRow(r record, loadID int64) (*gen.FinetuneRun, error) {
	src, err := json.Marshal(jsonable(r))
	if err != nil {
		return nil, err
	}
	origin := OriginPickle
	row := &gen.FinetuneRun{
		RunID: r["run_id"].(string), RunType: recText(r, "_run_type"), PatternName: recText(r, "pattern_name"),
		ExpName: recText(r, "exp_name"), BaseRecipe: recText(r, "initial_checkpoint_recipe"), BaseSize: recText(r, "initial_checkpoint_size"),
		LR: recFloat(r, "lr"), LRText: recText(r, "lr"), Lr1: recFloat(r, "lr1"), Lr2: recFloat(r, "lr2"),
		TokensPerEpoch: recFloat(r, "num_finetune_tokens_per_epoch"), Epochs: recFloat(r, "num_finetune_epochs"),
		Tokens: recFloat(r, "num_finetune_tokens"), TokensReal: recFloat(r, "num_finetuned_tokens_real"),
		AbsDifferenceTokensPct: recFloat(r, "abs_difference_ft_tokens_pct"), ReduceLoss: recText(r, "reduce_loss"),
		ComparisonModelSize: recText(r, "comparison_model_size"), ComparisonMetric: recText(r, "comparison_metric"),
		ComparisonModelRecipe: recText(r, "comparison_model_recipe"), Source: src, Origin: &origin, LoadID: &loadID,
	}
	if t, ok := r["timestamp"].(time.Time); ok {
		row.StartedAt = &t
	}
	row.CheckpointIsMain, row.CheckpointStep = checkpoint(recText(r, "initial_checkpoint_steps"))
	if f := recFloat(r, "seed"); f != nil && *f == math.Trunc(*f) {
		n := int64(*f)
		row.Seed = &n
	}
	return row, nil
}

// jsonable turns decoded values into what encoding/json writes: NaN and
// NaT as null, times as text.
func jsonable(v any) any {
	switch x := v.(type) {
	case record:
		out := map[string]any{}
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case time.Time:
		return x.Format("2006-01-02T15:04:05.999999999")
	case pickle.NaTValue:
		return nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	case *pickle.Dict:
		out := map[string]any{}
		for i, k := range x.Keys {
			out[fmt.Sprint(k)] = jsonable(x.Values[i])
		}
		return out
	}
	return v
}
