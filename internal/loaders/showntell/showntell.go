package showntell

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/finetune"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/appender"
	"github.com/dschema/dschema/internal/pickle"
	"github.com/dschema/dschema/internal/runname"
)

func init() { loaders.Register(Loader{}) }

// Loader loads the pickles the lab's notebooks wrote (LEGACY-FORMATS.md
// §4): a <timestamp>_modernized_run_data.pkl into finetune_runs. Pickles
// are decoded without running code (internal/pickle).
type Loader struct{}

// Kind implements Loader.
func (Loader) Kind() string { return "showntell" }

// Short implements Loader.
func (Loader) Short() string {
	return "notebook pickles: *_modernized_run_data.pkl (finetune_runs), combined_plotting_data_matched.pkl (finetune_matched_*); decoded without running code"
}

// Layouts.
const (
	VariantModernized = "modernized run data (processed_runs, grouped_data, processed_dataframes, metadata)"
	VariantMatched    = "combined matched DataFrame"
)

// OriginPickle marks finetune_runs rows loaded from a pickle.
const OriginPickle = "pickle"

// maxPickle bounds the pickle read into memory (the lab's are MBs).
const maxPickle = 1 << 30

// Load implements Loader.
func (Loader) Load(ctx context.Context, ld *loaders.Load) (*loaders.Report, error) {
	path := ld.Source.Path
	if ld.Source.Size > maxPickle {
		return nil, &loaders.FileError{Path: path, Msg: fmt.Sprintf("%d bytes: pickles over %d bytes are not read", ld.Source.Size, maxPickle)}
	}
	ld.Stage("decoding the pickle")
	v, err := decodePickle(path)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case *pickle.Dict:
		return loadModernized(ctx, ld, x)
	case *pickle.DataFrame:
		return loadMatched(ctx, ld, x)
	}
	return nil, fmt.Errorf("unreachable: a %s", pickle.TypeName(v))
}

// decodePickle reads and decodes a pickle, and checks it is one of the two
// layouts: a modernized run data dict or a DataFrame.
func decodePickle(path string) (any, error) {
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
			return nil, &loaders.FileError{Path: path, Place: bytePlace(re.Offset), Msg: fmt.Sprintf("refused %s.%s: only builtins, datetime, numpy and pandas DataFrame objects are reconstructed; nothing was run", re.Module, re.Name), Err: err}
		case errors.As(err, &pe):
			return nil, &loaders.FileError{Path: path, Place: bytePlace(pe.Offset), Msg: pe.Msg, Err: err}
		}
		return nil, &loaders.FileError{Path: path, Msg: err.Error(), Err: err}
	}
	switch x := v.(type) {
	case *pickle.Dict:
		if !hasKeys(x, "processed_runs", "grouped_data", "processed_dataframes", "metadata") {
			return nil, &loaders.FileError{Path: path, Msg: fmt.Sprintf("unknown pickle layout: a dict with keys %s; expected processed_runs, grouped_data, processed_dataframes, metadata (modernized run data) or a DataFrame (combined matched data)", dictKeys(x))}
		}
		return x, nil
	case *pickle.DataFrame:
		return x, nil
	}
	return nil, &loaders.FileError{Path: path, Msg: fmt.Sprintf("unknown pickle layout: a %s; expected a modernized run data dict or a DataFrame", pyType(v))}
}

// bytePlace names the byte of a pickle where decoding stopped; the
// decoder gives -1 when it does not know (a value never given its state is
// found only at the end).
func bytePlace(offset int64) string {
	if offset < 0 {
		return "offset unknown"
	}
	return fmt.Sprintf("byte %d", offset)
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

// recordOf is a processed_runs entry: its fields, its dict (keys in the
// pickle's order) and its position in the list.
type recordOf struct {
	fields record
	dict   *pickle.Dict
	pos    int
}

func (r recordOf) id() string { return r.fields["run_id"].(string) }

// place names a key of the record in errors and reports.
func (r recordOf) place(key string) string {
	p := fmt.Sprintf("processed_runs[%d] (run %s)", r.pos, r.id())
	if key != "" {
		p += ", key " + key
	}
	return p
}

// modernizedRecords reads processed_runs: one record per run, keyed by field.
func modernizedRecords(path string, d *pickle.Dict) ([]recordOf, error) {
	pr, _ := d.Get("processed_runs")
	list, ok := pr.([]any)
	if !ok {
		return nil, &loaders.FileError{Path: path, Place: "key processed_runs", Msg: fmt.Sprintf("a %s, want a list of dicts", pyType(pr))}
	}
	var recs []recordOf
	seen := map[string]int{}
	for i, e := range list {
		rd, ok := e.(*pickle.Dict)
		if !ok {
			return nil, &loaders.FileError{Path: path, Place: fmt.Sprintf("processed_runs[%d]", i), Msg: fmt.Sprintf("a %s, want a dict", pyType(e))}
		}
		r := record{}
		for j, k := range rd.Keys {
			ks, ok := k.(string)
			if !ok {
				return nil, &loaders.FileError{Path: path, Place: fmt.Sprintf("processed_runs[%d]", i), Msg: fmt.Sprintf("key %s is not a string", text(k))}
			}
			r[ks] = rd.Values[j]
		}
		id, _ := r["run_id"].(string)
		if id == "" {
			return nil, &loaders.FileError{Path: path, Place: fmt.Sprintf("processed_runs[%d]", i), Msg: "no run_id"}
		}
		if prev, dup := seen[id]; dup {
			return nil, &loaders.FileError{Path: path, Place: fmt.Sprintf("processed_runs[%d]", i), Msg: fmt.Sprintf("run %s again (first at [%d])", id, prev)}
		}
		seen[id] = i
		recs = append(recs, recordOf{fields: r, dict: rd, pos: i})
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

// recNumber reads a record field for a DOUBLE column: nil for an absent,
// None, NaN or NaT field. why says what the column cannot take exactly (text
// that is not a number, an integer no double holds, a list): the caller
// names it, and the record keeps the value in source.
func recNumber(r record, k string) (f *float64, why string) {
	v, ok := r[k]
	if !ok || missing(v) {
		return nil, ""
	}
	switch x := v.(type) {
	case string:
		d, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if errors.Is(err, strconv.ErrRange) {
			return nil, fmt.Sprintf("text %q is beyond a double's range", x)
		}
		if err != nil {
			return nil, fmt.Sprintf("text %q is not a number", x)
		}
		return &d, ""
	case bool:
		return nil, "a bool, not a number"
	}
	d, why := asDouble(v)
	if why != "" {
		return nil, why
	}
	return &d, ""
}

// recBigint reads a record field for a BIGINT column (the seed): a whole
// number, exactly, or why not.
func recBigint(r record, k string) (*int64, string) {
	v, ok := r[k]
	if !ok || missing(v) {
		return nil, ""
	}
	var n int64
	var why string
	if s, ok := v.(string); ok {
		n, why = finetune.BigintText(s)
	} else {
		n, why = asBigint(v)
	}
	if why != "" {
		return nil, why
	}
	return &n, ""
}

// asDouble reads a number for a DOUBLE column: a float, or an integer a
// double holds exactly. why says why not.
func asDouble(v any) (float64, string) {
	switch x := v.(type) {
	case float64:
		return x, ""
	case float32:
		return float64(x), ""
	case int64, int32, int, uint64, *big.Int:
		n := bigOf(x)
		f, acc := new(big.Float).SetInt(n).Float64()
		if acc != big.Exact {
			return 0, fmt.Sprintf("integer %s has no exact double", n)
		}
		return f, ""
	}
	return 0, fmt.Sprintf("a %s, not a number", pyType(v))
}

// asBigint reads a whole number for a BIGINT column: an integer in range,
// or a float that is a whole number in range. why says why not.
func asBigint(v any) (int64, string) {
	switch x := v.(type) {
	case float64, float32:
		f, ok := x.(float64)
		if !ok {
			f = float64(x.(float32))
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
			return 0, fmt.Sprintf("%s is not a whole number", text(f))
		}
		if f < -(1<<63) || f >= 1<<63 {
			return 0, fmt.Sprintf("%s is beyond a BIGINT's range", text(f))
		}
		return int64(f), ""
	case int64, int32, int, uint64, *big.Int:
		n := bigOf(x)
		if !n.IsInt64() {
			return 0, fmt.Sprintf("integer %s is beyond a BIGINT's range", n)
		}
		return n.Int64(), ""
	}
	return 0, fmt.Sprintf("a %s, not a whole number", pyType(v))
}

// bigOf is an integer value as a big.Int; nil for a value that is not an
// integer.
func bigOf(v any) *big.Int {
	switch x := v.(type) {
	case int64:
		return big.NewInt(x)
	case int32:
		return big.NewInt(int64(x))
	case int:
		return big.NewInt(int64(x))
	case uint64:
		return new(big.Int).SetUint64(x)
	case *big.Int:
		return x
	}
	return nil
}

// legacyFields are the record fields compared between processed_runs and
// processed_dataframes, and with the run-name parse.
var legacyFields = []string{"timestamp", "exp_name", "initial_checkpoint_recipe", "initial_checkpoint_size", "initial_checkpoint_steps",
	"num_finetune_tokens_per_epoch", "num_finetune_epochs", "num_finetune_tokens", "lr", "lr1", "lr2", "seed", "reduce_loss",
	"comparison_model_size", "comparison_metric", "comparison_model_recipe", "pattern_name"}

// text renders a record value for comparison and reports: numbers as one
// text whatever their type when a double holds them (1e+08), integers
// beyond a double exactly.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case float64:
		if math.IsNaN(x) {
			return "NaN"
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return text(float64(x))
	case int64, int32, int, uint64, *big.Int:
		if f, why := asDouble(x); why == "" {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		return bigOf(x).String()
	case time.Time:
		return pyTime(x)
	case time.Duration:
		return pyTimedelta(x)
	case *time.Location:
		return x.String()
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil && strings.ContainsAny(x, ".e") {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = text(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case pickle.Tuple, *pickle.Array, *pickle.Dict, *pickle.Set:
		if b, err := appendPyJSON(nil, v, ""); err == nil {
			return string(b)
		}
		return "a " + pyType(v)
	}
	return fmt.Sprint(v)
}

// modernized is what a modernized pickle makes: the finetune_runs rows to
// write, and what the load reports.
type modernized struct {
	rows     []*gen.FinetuneRun
	setAside []string   // runs another source's row holds (compared, not written)
	aside    []recordOf // their records
	disagree []string   // fields where the pickle and that row differ
	inexact  []string   // record fields no typed column holds exactly (left NULL, kept in source)
	bug      []string   // records with the legacy 100Mt = 1e14
	frames   []string   // cells where processed_dataframes differ from processed_runs
	metadata string
}

// buildModernized makes the finetune_runs rows of a modernized pickle, for
// the runs finetune_runs does not hold yet, and compares the others with
// the row it holds.
func buildModernized(ctx context.Context, conn *sql.Conn, path string, d *pickle.Dict, loadID int64, strict bool) (*modernized, error) {
	recs, err := modernizedRecords(path, d)
	if err != nil {
		return nil, err
	}
	m := &modernized{}
	if md, ok := d.Get("metadata"); ok {
		if mm, ok := md.(*pickle.Dict); ok {
			var parts []string
			for i, k := range mm.Keys {
				parts = append(parts, fmt.Sprintf("%v=%s", k, text(mm.Values[i])))
			}
			m.metadata = strings.Join(parts, ", ")
		}
	}
	// processed_dataframes: the same records, by run type.
	if pd, ok := d.Get("processed_dataframes"); ok {
		if m.frames, err = compareFrames(recs, pd); err != nil {
			return nil, &loaders.FileError{Path: path, Place: "key processed_dataframes", Msg: err.Error(), Err: err}
		}
	}
	existing, err := existingFinetune(ctx, conn)
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		r, id := rec.fields, rec.id()
		parsed := runname.Parse(id)
		if f, _ := recNumber(r, "num_finetune_tokens"); f != nil && parsed.NumFinetuneTokens != nil && *f != *parsed.NumFinetuneTokens && len(parsed.Notes) > 0 {
			m.bug = append(m.bug, fmt.Sprintf("%s: num_finetune_tokens %s (the name says %s)", id, text(*f), text(*parsed.NumFinetuneTokens)))
		}
		if ex, ok := existing[id]; ok {
			m.setAside = append(m.setAside, id)
			m.aside = append(m.aside, rec)
			for _, f := range legacyFields {
				a, b := text(orNil(r[f])), ex[f]
				if missing(r[f]) {
					a = "None"
				}
				if a != b {
					m.disagree = append(m.disagree, fmt.Sprintf("%s: %s pickle %s, run name %s", id, f, a, b))
				}
			}
			continue
		}
		row, inexact, err := pickleRow(path, rec, loadID)
		if err != nil {
			return nil, err
		}
		if strict && len(inexact) > 0 {
			return nil, &loaders.FileError{Path: path, Place: rec.place(inexact[0].key), Msg: inexact[0].why + " (--strict refuses what a load would keep aside)"}
		}
		for _, x := range inexact {
			m.inexact = append(m.inexact, fmt.Sprintf("%s: %s %s", id, x.key, x.why))
		}
		m.rows = append(m.rows, row)
	}
	return m, nil
}

func loadModernized(ctx context.Context, ld *loaders.Load, d *pickle.Dict) (*loaders.Report, error) {
	path, conn := ld.Source.Path, ld.Conn
	rep := &loaders.Report{Variant: VariantModernized, Rows: map[string]int64{}}
	m, err := buildModernized(ctx, conn, path, d, ld.ID, ld.Strict)
	if err != nil {
		return nil, err
	}
	if m.metadata != "" {
		rep.Notes = append(rep.Notes, "metadata: "+m.metadata)
	}
	if len(m.frames) > 0 {
		rep.Kept = append(rep.Kept, loaders.Skip{What: "processed_runs and processed_dataframes disagree: " + loaders.Examples(m.frames, 5), Count: int64(len(m.frames)),
			Reason: "processed_runs was loaded; both stay in the pickle"})
	}
	if len(m.inexact) > 0 {
		rep.Kept = append(rep.Kept, loaders.Skip{What: "record fields no typed column holds exactly: " + loaders.Examples(m.inexact, 10), Count: int64(len(m.inexact)),
			Reason: "those columns are left NULL; finetune_runs.source keeps every value"})
	}
	if len(m.bug) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d records carry the legacy parser's 100Mt = 1e14 tokens (1e8 is right): %s", len(m.bug), loaders.Examples(m.bug, 5)))
	}
	if len(m.disagree) > 0 {
		rep.Kept = append(rep.Kept, loaders.Skip{What: "fields where the pickle and the run-name parse disagree: " + loaders.Examples(m.disagree, 10), Count: int64(len(m.disagree)),
			Reason: "those runs keep their finetune_runs row from the W&B runs load; the pickle's values are in this report"})
	}
	ld.Stage("writing finetune_runs")
	if len(m.rows) > 0 {
		if err := finetune.AppendPickleRuns(ctx, conn, m.rows); err != nil {
			return nil, err
		}
	}
	rep.Rows["finetune_runs"] = int64(len(m.rows))
	if n := len(m.setAside); n > 0 {
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
		if src.Valid && json.Unmarshal(loaders.PyJSON([]byte(src.String)), &p) == nil {
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
func compareFrames(recs []recordOf, v any) ([]string, error) {
	d, ok := v.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("a %s, want a dict of DataFrames", pyType(v))
	}
	byID := map[string]record{}
	for _, r := range recs {
		byID[r.id()] = r.fields
	}
	var diffs []string
	for i, k := range d.Keys {
		df, ok := d.Values[i].(*pickle.DataFrame)
		if !ok {
			return nil, fmt.Errorf("%v: a %s, want a DataFrame", k, pyType(d.Values[i]))
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

// inexactField is a record field a typed column cannot hold exactly.
type inexactField struct{ key, why string }

// pickleRow is the finetune_runs row of one processed_runs record. A field
// its typed column cannot hold exactly leaves the column NULL and is
// listed; source keeps the record whole.
func pickleRow(path string, rec recordOf, loadID int64) (*gen.FinetuneRun, []inexactField, error) {
	r := rec.fields
	src, err := recordJSON(rec)
	if err != nil {
		var ve *valueError
		if errors.As(err, &ve) {
			return nil, nil, &loaders.FileError{Path: path, Place: rec.place(ve.At), Msg: ve.Msg, Err: err}
		}
		return nil, nil, &loaders.FileError{Path: path, Place: rec.place(""), Msg: err.Error(), Err: err}
	}
	var inexact []inexactField
	num := func(k string) *float64 {
		f, why := recNumber(r, k)
		if why != "" {
			inexact = append(inexact, inexactField{k, why})
		}
		return f
	}
	origin := OriginPickle
	row := &gen.FinetuneRun{
		RunID: rec.id(), RunType: recText(r, "_run_type"), PatternName: recText(r, "pattern_name"),
		ExpName: recText(r, "exp_name"), BaseRecipe: recText(r, "initial_checkpoint_recipe"), BaseSize: recText(r, "initial_checkpoint_size"),
		LR: num("lr"), LRText: recText(r, "lr"), Lr1: num("lr1"), Lr2: num("lr2"),
		TokensPerEpoch: num("num_finetune_tokens_per_epoch"), Epochs: num("num_finetune_epochs"),
		Tokens: num("num_finetune_tokens"), TokensReal: num("num_finetuned_tokens_real"),
		AbsDifferenceTokensPct: num("abs_difference_ft_tokens_pct"), ReduceLoss: recText(r, "reduce_loss"),
		ComparisonModelSize: recText(r, "comparison_model_size"), ComparisonMetric: recText(r, "comparison_metric"),
		ComparisonModelRecipe: recText(r, "comparison_model_recipe"), Source: src, Origin: &origin, LoadID: &loadID,
	}
	switch t := r["timestamp"].(type) {
	case time.Time:
		if why := timestampFits(t); why != "" {
			inexact = append(inexact, inexactField{"timestamp", why})
		} else {
			row.StartedAt = &t
		}
	default:
		if !missing(t) {
			inexact = append(inexact, inexactField{"timestamp", fmt.Sprintf("a %s, not a time", pyType(t))})
		}
	}
	steps := recText(r, "initial_checkpoint_steps")
	row.CheckpointIsMain, row.CheckpointStep = finetune.Checkpoint(steps)
	if steps != nil && *steps != "main" && row.CheckpointStep == nil {
		inexact = append(inexact, inexactField{"initial_checkpoint_steps", fmt.Sprintf("%q is neither main nor a step", *steps)})
	}
	seed, why := recBigint(r, "seed")
	if why != "" {
		inexact = append(inexact, inexactField{"seed", why})
	}
	row.Seed = seed
	return row, inexact, nil
}

// timestampFits says why a naive TIMESTAMP column (microseconds, the run
// name's time as written) cannot hold t exactly: a pandas Timestamp with
// nanoseconds, or an aware time, whose zone the column would drop; "" when
// it can.
func timestampFits(t time.Time) string {
	if t.Nanosecond()%1000 != 0 {
		return fmt.Sprintf("%s has nanoseconds a TIMESTAMP (microseconds) does not hold", pyTime(t))
	}
	if !naive(t) {
		return fmt.Sprintf("%s is aware (%s), and a naive TIMESTAMP would drop its zone", pyTime(t), t.Location())
	}
	return ""
}

// naive reports whether a decoded time has no zone: internal/pickle gives
// naive ones in time.UTC, and aware ones (UTC included) in a zone of
// their own.
func naive(t time.Time) bool { return t.Location() == time.UTC }

// pyTime is a time as Python's str() writes a datetime and pandas' a
// Timestamp: a fraction only when there is one, to the microsecond, or to
// the nanosecond when there are nanoseconds; an aware time's UTC offset,
// to the second when it has seconds (local mean time).
func pyTime(t time.Time) string {
	s := t.Format("2006-01-02 15:04:05")
	switch ns := t.Nanosecond(); {
	case ns%1000 != 0:
		s += fmt.Sprintf(".%09d", ns)
	case ns != 0:
		s += fmt.Sprintf(".%06d", ns/1000)
	}
	if !naive(t) {
		s += t.Format(offsetLayout(t))
	}
	return s
}

// offsetLayout is the layout of t's UTC offset: to the minute, or to the
// second when it has seconds, as Python writes it (+00:09:21).
func offsetLayout(t time.Time) string {
	if _, off := t.Zone(); off%60 != 0 {
		return "-07:00:00"
	}
	return "-07:00"
}

// recordJSON is a record as JSON, its keys in the pickle's order.
func recordJSON(rec recordOf) (json.RawMessage, error) {
	var o loaders.JSONObject
	for i, k := range rec.dict.Keys {
		ks := k.(string) // modernizedRecords checked
		b, err := appendPyJSON(nil, rec.dict.Values[i], ks)
		if err != nil {
			return nil, err
		}
		o.AddRaw(ks, b)
	}
	return o.Bytes(), nil
}

// valueError is a decoded value with no JSON form: At names the place
// inside the value (a key, then [i] per level), Msg the problem.
type valueError struct{ At, Msg string }

func (e *valueError) Error() string {
	if e.At == "" {
		return e.Msg
	}
	return e.At + ": " + e.Msg
}

// appendPyJSON appends v, a decoded pickle value, to b as JSON, keeping it
// as the W&B loaders keep JSON: NaN, Infinity and -Infinity as the bare
// tokens Python's json writes (DuckDB's JSON reads them), integers exactly
// (int64, uint64, Python's big ints), floats in their shortest exact form
// with a fraction or an exponent (2.0 stays a float), lists, tuples, sets
// and numpy arrays (nested by shape) as lists, dicts as objects in their
// order, times as ISO text (an aware one with its UTC offset, to the
// second when it has seconds), timedeltas as pandas writes them (see
// pyTimedelta), a time zone as Python's str() names it (the decoder names
// each so: "Europe/Paris", "UTC+02:00", "pytz.FixedOffset(120)"), None and
// NaT as null; a dict's int keys as text, as Python's json writes them. A
// value with no JSON form
// (bytes, a dtype, a frame, text that is not UTF-8) is a *valueError
// naming where it is; at is the place of v.
func appendPyJSON(b []byte, v any, at string) ([]byte, error) {
	switch x := v.(type) {
	case nil, pickle.NaTValue:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int64, int32, int, uint64, *big.Int:
		return bigOf(x).Append(b, 10), nil
	case float64:
		return appendPyFloat(b, x), nil
	case float32:
		return appendPyFloat(b, float64(x)), nil
	case string:
		if !utf8.ValidString(x) {
			return nil, &valueError{at, fmt.Sprintf("text %q is not UTF-8", x)}
		}
		return appender.AppendJSONString(b, x), nil
	case time.Time:
		if naive(x) {
			return appender.AppendJSONString(b, x.Format("2006-01-02T15:04:05.999999999")), nil
		}
		return appender.AppendJSONString(b, x.Format("2006-01-02T15:04:05.999999999"+offsetLayout(x))), nil
	case time.Duration:
		return appender.AppendJSONString(b, pyTimedelta(x)), nil
	case *time.Location:
		return appender.AppendJSONString(b, x.String()), nil
	case []any:
		return appendPyList(b, x, at)
	case pickle.Tuple:
		return appendPyList(b, x, at)
	case *pickle.Set:
		return appendPyList(b, x.Items, at)
	case *pickle.Dict:
		b = append(b, '{')
		seen := map[string]bool{}
		for i, k := range x.Keys {
			var ks string
			switch kk := k.(type) {
			case string:
				ks = kk
			case int64, uint64, *big.Int: // as Python's json writes an int key
				ks = bigOf(kk).String()
			default:
				return nil, &valueError{at, fmt.Sprintf("a dict key %s (a %s) has no JSON form", text(k), pyType(k))}
			}
			if seen[ks] {
				return nil, &valueError{at, fmt.Sprintf("dict key %q twice (as text)", ks)}
			}
			seen[ks] = true
			if i > 0 {
				b = append(b, ',')
			}
			b = appender.AppendJSONString(b, ks)
			b = append(b, ':')
			var err error
			if b, err = appendPyJSON(b, x.Values[i], at+"["+strconv.Quote(ks)+"]"); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case *pickle.Array:
		return appendArray(b, x, at)
	}
	return nil, &valueError{at, fmt.Sprintf("a %s has no JSON form", pyType(v))}
}

func appendPyList(b []byte, items []any, at string) ([]byte, error) {
	b = append(b, '[')
	for i, e := range items {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendPyJSON(b, e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// appendArray writes a numpy array as nested lists, one level per
// dimension (a 0-d array as its element): datetime64 and timedelta64
// elements as times and durations are written, NaT as null; one the
// decoder cannot give exactly (a time beyond its range) is a *valueError
// naming the element.
func appendArray(b []byte, a *pickle.Array, at string) ([]byte, error) {
	if a.Dtype.Kind == 'S' {
		return nil, &valueError{at, fmt.Sprintf("a numpy array of %s has no JSON form", a.Dtype)}
	}
	idx := make([]int, len(a.Shape))
	var err error
	var walk func(dim int, at string)
	walk = func(dim int, at string) {
		if err != nil {
			return
		}
		if dim == len(a.Shape) {
			e := a.At(idx...)
			if k := a.Dtype.Kind; k == 'M' || k == 'm' {
				v, verr := a.Dtype.Value(e)
				if verr != nil {
					err = &valueError{at, verr.Error()}
					return
				}
				e = v
			}
			b, err = appendPyJSON(b, e, at)
			return
		}
		b = append(b, '[')
		for i := 0; i < a.Shape[dim]; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			idx[dim] = i
			walk(dim+1, fmt.Sprintf("%s[%d]", at, i))
		}
		b = append(b, ']')
	}
	walk(0, at)
	return b, err
}

// pyTimedelta is a duration as pandas' str(Timedelta) writes it, exactly:
// days, then the time of day with a fraction to the microsecond, or to the
// nanosecond when there are nanoseconds; a negative duration as whole days
// before it and the positive rest ("-1 days +23:59:59.999999" is -1µs).
// Python's json has no form for a timedelta; this text is what the lab
// sees in a notebook, and pandas.Timedelta reads it back (but at the very
// ends of its range, where pandas' parser overflows).
func pyTimedelta(d time.Duration) string {
	const day = 24 * time.Hour
	days, rest := int64(d/day), d%day
	if rest < 0 {
		rest += day
		days--
	}
	sign := " "
	if d < 0 {
		sign = " +"
	}
	s := fmt.Sprintf("%d days%s%02d:%02d:%02d", days, sign, int64(rest/time.Hour), int64(rest%time.Hour/time.Minute), int64(rest%time.Minute/time.Second))
	switch frac := int64(rest % time.Second); {
	case frac%1000 != 0:
		s += fmt.Sprintf(".%09d", frac)
	case frac != 0:
		s += fmt.Sprintf(".%06d", frac/1000)
	}
	return s
}

// appendPyFloat writes a float as Python's json does: NaN and Infinity as
// bare tokens, others as Python's repr (2.0, 1000000.0, 1e-05, 1e+16).
func appendPyFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	return append(b, pyRepr(f)...)
}

// pyRepr is Python's repr (and str) of a float: the shortest digits that
// read back as it, in fixed notation with a fraction (2.0) when its
// exponent is in [-4, 16), else in scientific notation (1e-05, 1e+16);
// nan, inf and -inf.
func pyRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyType names a decoded value's Python type in messages, as
// pickle.TypeName does, with a numpy array's dtype and shape, and numpy's
// uint64 (a u8 column's value) named as such.
func pyType(v any) string {
	switch x := v.(type) {
	case uint64:
		return "numpy uint64"
	case int32, int:
		return "int"
	case float32:
		return "float"
	case *pickle.Array:
		return fmt.Sprintf("numpy array (%s, shape %v)", x.Dtype, x.Shape)
	}
	return pickle.TypeName(v)
}
