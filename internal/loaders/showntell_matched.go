package loaders

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/pickle"
)

// matchedBase are the matched frame's base columns, typed in
// finetune_matched_runs (TestMatchedColumnsCovered keeps the list in step).
var matchedBase = map[string]string{
	"run_id": "text", "timestamp": "time", "comparison_model_size": "text", "comparison_metric": "text",
	"comparison_model_recipe": "text", "ckpt_data": "text", "ckpt_params": "text", "ckpt_steps": "text", "seed": "text", "lr": "text",
	"ft_tok_per_epoch": "num", "ft_epochs": "num", "ft_tok": "num", "ft_tok_real": "num", "abs_difference_ft_tokens_pct": "num",
	"matched_group_name": "text", "matched_group_id": "int", "matched_group_med_metric": "num", "matched_group_avg_metric": "num",
}

// matchedFamily is a numeric column's family, by its prefix.
func matchedFamily(name string) string {
	for _, p := range []string{"ft", "pt", "delta", "group"} {
		if strings.HasPrefix(name, p+"_") {
			return p
		}
	}
	return "other"
}

// cellNumber reads a numeric cell: ok is false when the cell is not a number.
func cellNumber(v any) (*float64, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case float64:
		return &x, true
	case int64:
		f := float64(x)
		return &f, true
	case bool:
		f := 0.0
		if x {
			f = 1
		}
		return &f, true
	}
	return nil, false
}

// cellText renders a text cell (None, NaN and NaT are NULL).
func cellText(v any) *string {
	if missing(v) {
		return nil
	}
	switch x := v.(type) {
	case string:
		return &x
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		return &s
	case int64:
		s := strconv.FormatInt(x, 10)
		return &s
	}
	s := fmt.Sprint(v)
	return &s
}

// matchedRows are the rows of the matched tables one frame makes.
type matchedRows struct {
	runs     []*gen.FinetuneMatchedRun
	values   []*gen.FinetuneMatchedValue
	curves   []*gen.FinetuneMatchedCurve
	families map[string]int
	ids      []string
	columns  int
}

// loadMatched writes the combined matched frame: base columns typed, every
// other numeric cell to finetune_matched_values, every list cell to
// finetune_matched_curves, other text to other_text. Nothing is left out.
func loadMatched(ctx context.Context, ld *Load, df *pickle.DataFrame) (*Report, error) {
	path, conn := ld.Source.Path, ld.Conn
	rep := &Report{Variant: ShowntellMatched, Rows: map[string]int64{}}
	m, err := buildMatched(path, df, ld.ID)
	if err != nil {
		return nil, err
	}
	ld.Stage("writing the matched tables")
	if err := writeMatched(conn, m); err != nil {
		if strings.Contains(err.Error(), "PRIMARY KEY") || strings.Contains(err.Error(), "Duplicate key") {
			return nil, &FileError{Path: path, Msg: "a run of this frame is already in the matched tables from another source: " + firstLine(err.Error()), Err: err}
		}
		return nil, err
	}
	rep.Rows["finetune_matched_runs"] = int64(len(m.runs))
	rep.Rows["finetune_matched_values"] = int64(len(m.values))
	rep.Rows["finetune_matched_curves"] = int64(len(m.curves))
	var fams []string
	for f, c := range m.families {
		fams = append(fams, fmt.Sprintf("%s %d", f, c))
	}
	sort.Strings(fams)
	rep.Notes = append(rep.Notes, fmt.Sprintf("%d rows × %d columns; cells by family: %s", len(m.runs), m.columns, strings.Join(fams, ", ")))
	return rep, nil
}

// buildMatched makes the matched tables' rows of a frame.
func buildMatched(path string, df *pickle.DataFrame, loadID int64) (*matchedRows, error) {
	ld := &Load{ID: loadID}
	n := df.Len()
	cols := map[string][]any{}
	var names []string
	for j, c := range df.Columns {
		name, ok := c.(string)
		if !ok {
			return nil, &FileError{Path: path, Place: fmt.Sprintf("column %d", j), Msg: fmt.Sprintf("label %v is not text", c)}
		}
		if _, dup := cols[name]; dup {
			return nil, &FileError{Path: path, Place: "column " + name, Msg: "appears twice"}
		}
		v, err := df.Column(j)
		if err != nil {
			return nil, &FileError{Path: path, Place: "column " + name, Msg: err.Error()}
		}
		cols[name] = v
		names = append(names, name)
	}
	ids, ok := cols["run_id"]
	if !ok {
		return nil, &FileError{Path: path, Msg: "the matched frame has no run_id column"}
	}
	seen := map[string]int{}
	for i, v := range ids {
		id, ok := v.(string)
		if !ok || id == "" {
			return nil, &FileError{Path: path, Place: fmt.Sprintf("row %d", i), Msg: "no run_id"}
		}
		if prev, dup := seen[id]; dup {
			return nil, &FileError{Path: path, Place: fmt.Sprintf("row %d", i), Msg: fmt.Sprintf("run %s again (first at row %d)", id, prev)}
		}
		seen[id] = i
	}
	runs := make([]*gen.FinetuneMatchedRun, n)
	other := make([]map[string]any, n)
	for i := range runs {
		ri := int64(i)
		runs[i] = &gen.FinetuneMatchedRun{RunID: ids[i].(string), RowIndex: &ri, LoadID: &ld.ID}
	}
	var values []*gen.FinetuneMatchedValue
	var curves []*gen.FinetuneMatchedCurve
	families := map[string]int{}
	for _, name := range names {
		col := cols[name]
		if kind, ok := matchedBase[name]; ok {
			for i, v := range col {
				if err := setMatchedBase(runs[i], name, kind, v); err != nil {
					return nil, &FileError{Path: path, Place: fmt.Sprintf("row %d, column %s", i, name), Msg: err.Error()}
				}
			}
			continue
		}
		kind := columnKind(col)
		for i, v := range col {
			id := ids[i].(string)
			if v == nil { // None in an object column: a missing cell of the column's kind
				switch kind {
				case "curve":
					curves = append(curves, &gen.FinetuneMatchedCurve{RunID: id, Name: name, PointsJSON: json.RawMessage("null"), LoadID: &ld.ID})
					families["curve"]++
				case "value":
					fam := matchedFamily(name)
					values = append(values, &gen.FinetuneMatchedValue{RunID: id, Name: name, Family: &fam, LoadID: &ld.ID})
					families[fam]++
				default:
					if other[i] == nil {
						other[i] = map[string]any{}
					}
					other[i][name] = nil
					families["text"]++
				}
				continue
			}
			switch x := v.(type) {
			case []any:
				c := &gen.FinetuneMatchedCurve{RunID: id, Name: name, LoadID: &ld.ID}
				pts := make([]float64, 0, len(x))
				for _, e := range x {
					f, ok := cellNumber(e)
					if !ok || f == nil {
						pts = nil
						break
					}
					pts = append(pts, *f)
				}
				if pts != nil {
					c.Points = pts
				} else {
					b, err := json.Marshal(jsonable(x))
					if err != nil {
						return nil, &FileError{Path: path, Place: fmt.Sprintf("row %d, column %s", i, name), Msg: err.Error()}
					}
					c.PointsJSON = b
				}
				curves = append(curves, c)
				families["curve"]++
			default:
				if f, ok := cellNumber(v); ok {
					fam := matchedFamily(name)
					values = append(values, &gen.FinetuneMatchedValue{RunID: id, Name: name, Family: &fam, Value: f, LoadID: &ld.ID})
					families[fam]++
					continue
				}
				if other[i] == nil {
					other[i] = map[string]any{}
				}
				other[i][name] = jsonable(v)
				families["text"]++
			}
		}
	}
	for i, o := range other {
		if o != nil {
			b, err := json.Marshal(o)
			if err != nil {
				return nil, err
			}
			runs[i].OtherText = b
		}
	}
	m := &matchedRows{runs: runs, values: values, curves: curves, families: families, columns: len(names)}
	for _, id := range ids {
		m.ids = append(m.ids, id.(string))
	}
	return m, nil
}

// writeMatched appends the rows through the generated appenders.
func writeMatched(conn *sql.Conn, m *matchedRows) error {
	return conn.Raw(func(dc any) error {
		c := dc.(driver.Conn)
		ra, err := gen.NewFinetuneMatchedRunAppender(c)
		if err != nil {
			return err
		}
		for _, r := range m.runs {
			if err := ra.Append(r); err != nil {
				ra.Close()
				return fmt.Errorf("finetune_matched_runs %s: %w", r.RunID, err)
			}
		}
		if err := ra.Close(); err != nil {
			return fmt.Errorf("finetune_matched_runs: %w", err)
		}
		va, err := gen.NewFinetuneMatchedValueAppender(c)
		if err != nil {
			return err
		}
		for _, r := range m.values {
			if err := va.Append(r); err != nil {
				va.Close()
				return fmt.Errorf("finetune_matched_values %s %s: %w", r.RunID, r.Name, err)
			}
		}
		if err := va.Close(); err != nil {
			return fmt.Errorf("finetune_matched_values: %w", err)
		}
		ca, err := gen.NewFinetuneMatchedCurveAppender(c)
		if err != nil {
			return err
		}
		for _, r := range m.curves {
			if err := ca.Append(r); err != nil {
				ca.Close()
				return fmt.Errorf("finetune_matched_curves %s %s: %w", r.RunID, r.Name, err)
			}
		}
		return ca.Close()
	})
}

func setMatchedBase(r *gen.FinetuneMatchedRun, name, kind string, v any) error {
	switch kind {
	case "time":
		switch x := v.(type) {
		case time.Time:
			r.Timestamp = &x
		case nil, pickle.NaTValue:
		default:
			return fmt.Errorf("a %T, want a time", v)
		}
		return nil
	case "num":
		f, ok := cellNumber(v)
		if !ok {
			return fmt.Errorf("%v is not a number", v)
		}
		switch name {
		case "ft_tok_per_epoch":
			r.FtTokPerEpoch = f
		case "ft_epochs":
			r.FtEpochs = f
		case "ft_tok":
			r.FtTok = f
		case "ft_tok_real":
			r.FtTokReal = f
		case "abs_difference_ft_tokens_pct":
			r.AbsDifferenceFtTokensPct = f
		case "matched_group_med_metric":
			r.MatchedGroupMedMetric = f
		case "matched_group_avg_metric":
			r.MatchedGroupAvgMetric = f
		}
		return nil
	case "int":
		f, ok := cellNumber(v)
		if !ok {
			return fmt.Errorf("%v is not a number", v)
		}
		if f != nil && !math.IsNaN(*f) {
			if *f != math.Trunc(*f) {
				return fmt.Errorf("%v is not a whole number", *f)
			}
			n := int64(*f)
			r.MatchedGroupID = &n
		}
		return nil
	}
	s := cellText(v)
	switch name {
	case "run_id":
	case "comparison_model_size":
		r.ComparisonModelSize = s
	case "comparison_metric":
		r.ComparisonMetric = s
	case "comparison_model_recipe":
		r.ComparisonModelRecipe = s
	case "ckpt_data":
		r.CkptData = s
	case "ckpt_params":
		r.CkptParams = s
	case "ckpt_steps":
		r.CkptSteps = s
	case "seed":
		r.Seed = s
	case "lr":
		r.LR = s
	case "matched_group_name":
		r.MatchedGroupName = s
	}
	return nil
}

// columnKind tells what a column's non-None cells are: curve (a list),
// value (numbers) or text.
func columnKind(col []any) string {
	kind := "text"
	for _, v := range col {
		switch v.(type) {
		case []any:
			return "curve"
		case float64, int64, bool:
			kind = "value"
		case nil:
		default:
			return "text"
		}
	}
	return kind
}
