package showntell

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/finetune"

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

// cellText renders a text cell (None, NaN and NaT are NULL) as Python's
// str() shows it: text as it is, a float in Python's repr (2.0, 1e-05),
// an integer exactly, a datetime as Python's str() (its offset when
// aware), a timedelta as pandas writes it ("1 days 00:00:01"); a list,
// tuple, array or dict as its JSON.
func cellText(v any) *string {
	if missing(v) {
		return nil
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		s = pyRepr(x)
	case float32:
		s = pyRepr(float64(x))
	case int64, int32, int, uint64, *big.Int:
		s = bigOf(x).String()
	case time.Duration:
		s = pyTimedelta(x)
	case time.Time:
		s = pyTime(x)
	case *time.Location:
		s = x.String()
	case []any, pickle.Tuple, *pickle.Array, *pickle.Dict, *pickle.Set:
		b, err := appendPyJSON(nil, v, "")
		if err != nil {
			s = fmt.Sprint(v)
		} else {
			s = string(b)
		}
	default:
		s = fmt.Sprint(v)
	}
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
	index    string         // the frame's index, for the report
	seqKinds map[string]int // curve cells that were not lists: tuple, numpy array
}

// loadMatched writes the combined matched frame: base columns typed, every
// other numeric cell to finetune_matched_values, every list cell to
// finetune_matched_curves, other text to other_text. Nothing is left out.
func loadMatched(ctx context.Context, ld *loaders.Load, df *pickle.DataFrame) (*loaders.Report, error) {
	path, conn := ld.Source.Path, ld.Conn
	rep := &loaders.Report{Variant: VariantMatched, Rows: map[string]int64{}}
	m, err := buildMatched(path, df, ld.ID)
	if err != nil {
		return nil, err
	}
	ld.Stage("writing the matched tables")
	if err := writeMatched(ctx, conn, m); err != nil {
		if strings.Contains(err.Error(), "PRIMARY KEY") || strings.Contains(err.Error(), "Duplicate key") {
			return nil, &loaders.FileError{Path: path, Msg: "a run of this frame is already in the matched tables from another source: " + loaders.FirstLine(err.Error()), Err: err}
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
	rep.Notes = append(rep.Notes, "index: "+m.index+" (each row's label in finetune_matched_runs.index_label)")
	if len(m.seqKinds) > 0 {
		var kinds []string
		for k, c := range m.seqKinds {
			kinds = append(kinds, fmt.Sprintf("%d %s", c, k))
		}
		sort.Strings(kinds)
		rep.Notes = append(rep.Notes, "list-valued cells that were not lists, kept as curves like lists: "+strings.Join(kinds, ", "))
	}
	return rep, nil
}

// buildMatched makes the matched tables' rows of a frame. A cell a typed
// column cannot hold exactly is an error naming its row and column.
func buildMatched(path string, df *pickle.DataFrame, loadID int64) (*matchedRows, error) {
	ld := &loaders.Load{ID: loadID}
	n := df.Len()
	cols, names, err := frameColumns(path, df)
	if err != nil {
		return nil, err
	}
	ids, err := matchedRunIDs(path, cols)
	if err != nil {
		return nil, err
	}
	m := &matchedRows{families: map[string]int{}, seqKinds: map[string]int{}, columns: len(names), index: indexText(df.Index)}
	fail := func(i int, name string, err error) error {
		place := fmt.Sprintf("row %d (run %s), column %s", i, ids[i], name)
		if name == "" {
			place = fmt.Sprintf("row %d (run %s), index label", i, ids[i])
		}
		var ve *valueError
		if errors.As(err, &ve) {
			return &loaders.FileError{Path: path, Place: place + ve.At, Msg: ve.Msg, Err: err}
		}
		return &loaders.FileError{Path: path, Place: place, Msg: err.Error(), Err: err}
	}
	m.runs = make([]*gen.FinetuneMatchedRun, n)
	other := make([]loaders.JSONObject, n)
	for i := range m.runs {
		ri := int64(i)
		m.runs[i] = &gen.FinetuneMatchedRun{RunID: ids[i].(string), RowIndex: &ri, LoadID: &ld.ID}
		label, err := appendPyJSON(nil, df.Index.Values[i], "")
		if err != nil {
			return nil, fail(i, "", err)
		}
		m.runs[i].IndexLabel = label
	}
	for _, name := range names {
		col := cols[name]
		if kind, ok := matchedBase[name]; ok {
			for i, v := range col {
				if err := setMatchedBase(m.runs[i], name, kind, v); err != nil {
					return nil, fail(i, name, err)
				}
			}
			continue
		}
		kind := columnKind(col)
		for i, v := range col {
			if err := m.addCell(&other[i], ids[i].(string), name, kind, v, &ld.ID); err != nil {
				return nil, fail(i, name, err)
			}
		}
	}
	for i, o := range other {
		if !o.Empty() {
			m.runs[i].OtherText = o.Bytes()
		}
	}
	for _, id := range ids {
		m.ids = append(m.ids, id.(string))
	}
	return m, nil
}

// frameColumns returns a frame's columns by label, and the labels in
// order; a label must be text, and appear once.
func frameColumns(path string, df *pickle.DataFrame) (map[string][]any, []string, error) {
	cols := map[string][]any{}
	var names []string
	for j, c := range df.Columns {
		name, ok := c.(string)
		if !ok {
			return nil, nil, &loaders.FileError{Path: path, Place: fmt.Sprintf("column %d", j), Msg: fmt.Sprintf("label %s is not text", text(c))}
		}
		if _, dup := cols[name]; dup {
			return nil, nil, &loaders.FileError{Path: path, Place: "column " + name, Msg: "appears twice"}
		}
		v, err := df.Column(j)
		if err != nil {
			return nil, nil, &loaders.FileError{Path: path, Place: "column " + name, Msg: err.Error(), Err: err}
		}
		cols[name] = v
		names = append(names, name)
	}
	return cols, names, nil
}

// matchedRunIDs returns the frame's run_id column, checking that every row
// has a run_id of its own.
func matchedRunIDs(path string, cols map[string][]any) ([]any, error) {
	ids, ok := cols["run_id"]
	if !ok {
		return nil, &loaders.FileError{Path: path, Msg: "the matched frame has no run_id column"}
	}
	seen := map[string]int{}
	for i, v := range ids {
		id, ok := v.(string)
		if !ok || id == "" {
			return nil, &loaders.FileError{Path: path, Place: fmt.Sprintf("row %d", i), Msg: "no run_id"}
		}
		if prev, dup := seen[id]; dup {
			return nil, &loaders.FileError{Path: path, Place: fmt.Sprintf("row %d", i), Msg: fmt.Sprintf("run %s again (first at row %d)", id, prev)}
		}
		seen[id] = i
	}
	return ids, nil
}

// addCell adds the cell v of run id's column name, a column of kind (from
// columnKind), as a curve, a value or text in other (the run's other_text).
// The error it returns names no place; the caller adds it.
func (m *matchedRows) addCell(other *loaders.JSONObject, id, name, kind string, v any, loadID *int64) error {
	if v == nil { // None in an object column: a missing cell of the column's kind
		switch kind {
		case "curve":
			m.curves = append(m.curves, &gen.FinetuneMatchedCurve{RunID: id, Name: name, PointsJSON: json.RawMessage("null"), LoadID: loadID})
			m.families["curve"]++
		case "value":
			fam := matchedFamily(name)
			m.values = append(m.values, &gen.FinetuneMatchedValue{RunID: id, Name: name, Family: &fam, LoadID: loadID})
			m.families[fam]++
		default:
			other.AddRaw(name, []byte("null"))
			m.families["text"]++
		}
		return nil
	}
	if isSequence(v) {
		c, err := matchedCurve(id, name, v, loadID)
		if err != nil {
			return err
		}
		switch v.(type) {
		case pickle.Tuple:
			m.seqKinds["tuple"]++
		case *pickle.Array:
			m.seqKinds["numpy array"]++
		}
		m.curves = append(m.curves, c)
		m.families["curve"]++
		return nil
	}
	if f, n, ok, err := matchedNumber(v); ok || err != nil {
		if err != nil {
			return err
		}
		fam := matchedFamily(name)
		m.values = append(m.values, &gen.FinetuneMatchedValue{RunID: id, Name: name, Family: &fam, Value: f, ValueInt: n, LoadID: loadID})
		m.families[fam]++
		return nil
	}
	b, err := appendPyJSON(nil, v, "")
	if err != nil {
		return err
	}
	other.AddRaw(name, b)
	m.families["text"]++
	return nil
}

// indexText describes a frame's index for the report.
func indexText(ix *pickle.Index) string {
	kind := "Index"
	if ix.Range {
		kind = "RangeIndex"
	}
	if ix.Name != nil {
		kind += " named " + text(ix.Name)
	}
	if n := len(ix.Values); n > 0 {
		kind += fmt.Sprintf(", labels %s … %s", text(ix.Values[0]), text(ix.Values[n-1]))
	}
	return kind
}

// isSequence reports whether a cell is list-valued: a list, a tuple or a
// numpy array.
func isSequence(v any) bool {
	switch v.(type) {
	case []any, pickle.Tuple, *pickle.Array:
		return true
	}
	return false
}

// matchedCurve is a list-valued cell: points when it is a flat sequence of
// numbers a double holds exactly, else its JSON in points_json.
func matchedCurve(id, name string, v any, loadID *int64) (*gen.FinetuneMatchedCurve, error) {
	c := &gen.FinetuneMatchedCurve{RunID: id, Name: name, LoadID: loadID}
	if pts, ok := flatNumbers(v); ok {
		c.Points = pts
		return c, nil
	}
	b, err := appendPyJSON(nil, v, "")
	if err != nil {
		return nil, err
	}
	c.PointsJSON = b
	return c, nil
}

// flatNumbers reads a list, tuple or 1-D numeric numpy array whose every
// element is a number a double holds exactly (NaN included).
func flatNumbers(v any) ([]float64, bool) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case pickle.Tuple:
		items = x
	case *pickle.Array:
		if len(x.Shape) != 1 || x.Dtype.Kind == 'M' || x.Dtype.Kind == 'm' {
			return nil, false
		}
		items = make([]any, x.Len())
		for i := range items {
			items[i] = x.At(i)
		}
	default:
		return nil, false
	}
	pts := make([]float64, 0, len(items))
	for _, e := range items {
		if _, ok := e.(bool); ok {
			return nil, false
		}
		f, why := asDouble(e)
		if why != "" {
			return nil, false
		}
		pts = append(pts, f)
	}
	return pts, true
}

// matchedNumber reads a numeric cell for finetune_matched_values: a float
// or a bool (0 or 1) as a double; an integer exactly, and as a double too
// when a double holds it. ok is false when the cell is not a number.
func matchedNumber(v any) (f *float64, n *big.Int, ok bool, err error) {
	switch x := v.(type) {
	case float64:
		return &x, nil, true, nil
	case float32:
		d := float64(x)
		return &d, nil, true, nil
	case bool:
		d := 0.0
		if x {
			d = 1
		}
		return &d, nil, true, nil
	case int64, int32, int, uint64, *big.Int:
		n = bigOf(x)
		if n.Cmp(hugeintMin) < 0 || n.Cmp(hugeintMax) > 0 {
			return nil, nil, true, fmt.Errorf("integer %s is beyond a HUGEINT's range", n)
		}
		if d, why := asDouble(x); why == "" {
			f = &d
		}
		return f, n, true, nil
	}
	return nil, nil, false, nil
}

// HUGEINT's range: -2^127 … 2^127-1.
var (
	hugeintMin = new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 127))
	hugeintMax = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 127), big.NewInt(1))
)

// writeMatched appends the rows through the generated appenders, and
// their JSON cells (Python's JSON, NaN kept) by setJSONColumn.
func writeMatched(ctx context.Context, conn *sql.Conn, m *matchedRows) error {
	var labels, others, points []finetune.JSONCell
	runs := make([]*gen.FinetuneMatchedRun, len(m.runs))
	for i, r := range m.runs {
		c := *r
		if c.IndexLabel != nil {
			labels = append(labels, finetune.JSONCell{Key: []string{c.RunID}, Text: c.IndexLabel})
			c.IndexLabel = nil
		}
		if c.OtherText != nil {
			others = append(others, finetune.JSONCell{Key: []string{c.RunID}, Text: c.OtherText})
			c.OtherText = nil
		}
		runs[i] = &c
	}
	curves := make([]*gen.FinetuneMatchedCurve, len(m.curves))
	for i, r := range m.curves {
		c := *r
		if c.PointsJSON != nil {
			points = append(points, finetune.JSONCell{Key: []string{c.RunID, c.Name}, Text: c.PointsJSON})
			c.PointsJSON = nil
		}
		curves[i] = &c
	}
	err := conn.Raw(func(dc any) error {
		c := dc.(driver.Conn)
		ra, err := gen.NewFinetuneMatchedRunAppender(c)
		if err != nil {
			return err
		}
		for _, r := range runs {
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
		for _, r := range curves {
			if err := ca.Append(r); err != nil {
				ca.Close()
				return fmt.Errorf("finetune_matched_curves %s %s: %w", r.RunID, r.Name, err)
			}
		}
		return ca.Close()
	})
	if err != nil {
		return err
	}
	if err := finetune.SetJSONColumn(ctx, conn, "finetune_matched_runs", []string{"run_id"}, "index_label", labels); err != nil {
		return err
	}
	if err := finetune.SetJSONColumn(ctx, conn, "finetune_matched_runs", []string{"run_id"}, "other_text", others); err != nil {
		return err
	}
	return finetune.SetJSONColumn(ctx, conn, "finetune_matched_curves", []string{"run_id", "name"}, "points_json", points)
}

// setMatchedBase sets a base column of a run: a DOUBLE takes a float, a
// bool or an integer a double holds exactly; matched_group_id a whole
// number in BIGINT's range; a time a time or NaT. Anything else is an
// error (the caller names the row and column).
func setMatchedBase(r *gen.FinetuneMatchedRun, name, kind string, v any) error {
	switch kind {
	case "time":
		switch x := v.(type) {
		case time.Time:
			if why := timestampFits(x); why != "" {
				return errors.New(why)
			}
			r.Timestamp = &x
		case nil, pickle.NaTValue:
		default:
			return fmt.Errorf("a %s, want a time", pyType(v))
		}
		return nil
	case "num":
		var f *float64
		switch x := v.(type) {
		case nil:
		case bool:
			d := 0.0
			if x {
				d = 1
			}
			f = &d
		default:
			d, why := asDouble(v)
			if why != "" {
				return errors.New(why)
			}
			f = &d
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
		if missing(v) { // None, or NaN in a float column: no group
			return nil
		}
		if b, ok := v.(bool); ok {
			n := int64(0)
			if b {
				n = 1
			}
			r.MatchedGroupID = &n
			return nil
		}
		n, why := asBigint(v)
		if why != "" {
			return errors.New(why)
		}
		r.MatchedGroupID = &n
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
	case "ckpt_steps":
		r.CkptSteps = s
	case "ckpt_params":
		r.CkptParams = s
	case "seed":
		r.Seed = s
	case "lr":
		r.LR = s
	case "matched_group_name":
		r.MatchedGroupName = s
	}
	return nil
}

// columnKind tells what a column's non-None cells are: curve (lists,
// tuples or numpy arrays), value (numbers: floats, ints, uints, bools) or
// text.
func columnKind(col []any) string {
	kind := "text"
	for _, v := range col {
		switch v.(type) {
		case []any, pickle.Tuple, *pickle.Array:
			return "curve"
		case float64, float32, int64, int32, int, uint64, *big.Int, bool:
			kind = "value"
		case nil:
		default:
			return "text"
		}
	}
	return kind
}
