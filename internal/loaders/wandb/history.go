package wandb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/dschema/dschema/internal/loaders"

	"github.com/dschema/dschema/internal/dbschema"
	schemafiles "github.com/dschema/dschema/schema"
)

func init() { loaders.Register(History{}) }

// History loads W&B run histories (runs_history.parquet and its
// relatives) into wandb_history, one row per logged row, set-wise: DuckDB
// reads the file and inserts in one INSERT … SELECT, so memory stays
// within the load's memory_limit whatever the file's size.
//
// Every layout is brought to one shape: run id, order in the file, step,
// time, runtime, the row's keys as MAP(VARCHAR, JSON) and other row data as
// a second map. The schema's metric columns take their keys from the map;
// every other numeric key goes to extra_metrics, anything else to extra.
type History struct{}

// Kind implements Loader.
func (History) Kind() string { return "wandb-history" }

// HistoryMemoryLimit is the history loader's default memory limit: the
// load streams, and DuckDB's memory outside the limit (the JSON reader's
// buffers, the sort that numbers seq) comes on top. Measured on a 1.41 GiB
// v3 JSONL (4.2M rows, dschema bench's generator): peak RSS 699 MiB under
// 600MB, against 1,318 MiB under the general 3GB.
const HistoryMemoryLimit = "600MB"

// DefaultMemoryLimit implements MemoryLimiter.
func (History) DefaultMemoryLimit() string { return HistoryMemoryLimit }

// ReadsOptions implements loaders.OptionReader: --source-tz.
func (History) ReadsOptions() map[string]string {
	return map[string]string{"source-tz": "the canonical runs_history.parquet's naive times"}
}

// Short implements loaders.Loader.
func (History) Short() string {
	return "W&B histories: runs_history.parquet, flattened/raw-scan/metrics-JSON/sync/positional parquet, JSONL (v3 rows or one array per run)"
}

// History layouts.
const (
	HistCanonical   = "runs_history (canonical: one column per metric, naive local timestamps)"
	HistFlattened   = "flattened sample (epoch-second timestamps, metric columns)"
	HistRawScan     = "raw scan (_step, _timestamp, _runtime, _wandb, metric columns)"
	HistJSONLArray  = "JSONL, one array per run per line"
	HistMetricsJSON = "metrics as a JSON column (run_id, step, timestamp, runtime, wandb_metadata, metrics)"
	HistSync        = "sync export (2026: _step, _timestamp, _runtime, _wandb, metrics, extra_cols)"
	HistV3          = "history v3 JSONL (timestamp a string holding a float)"
	HistJSONL       = "history JSONL (one row object per line)"
	HistPositional  = "positional (columns 0, 1, …: one entry per cell, one row per run)"
)

// SourceTZ is the option naming the zone of the canonical history's naive
// timestamps; set through Options.SourceTZ.

// historyMetric is a typed metric column and the key it holds.
type historyMetric struct{ column, key, typ string }

var (
	historyMetricsOnce sync.Once
	historyMetricsList []historyMetric
	historyMetricsErr  error
)

// historyStructural are the wandb_history columns that are not metrics.
var historyStructural = map[string]bool{"run_id": true, "seq": true, "step": true, "logged_at": true, "runtime": true,
	"extra_metrics": true, "extra": true, "load_id": true}

// historyMetrics lists the typed metric columns of wandb_history with
// their W&B keys, from the schema this dschema was built with: a promoted
// key is loaded into its column as soon as the column exists.
func historyMetrics() ([]historyMetric, error) {
	historyMetricsOnce.Do(func() {
		s, err := schemafiles.Load()
		if err != nil {
			historyMetricsErr = err
			return
		}
		t := s.Table("wandb_history")
		if t == nil {
			historyMetricsErr = fmt.Errorf("the schema has no wandb_history table")
			return
		}
		for _, c := range t.Columns {
			if historyStructural[c.Name] {
				continue
			}
			historyMetricsList = append(historyMetricsList, historyMetric{column: c.Name, key: c.SourceKey(), typ: c.Type})
		}
	})
	return historyMetricsList, historyMetricsErr
}

// histSource is one layout's relation in the common shape.
type histSource struct {
	variant string
	sql     string // SELECT run_id, rn, step, logged_at, runtime, m, xb
	jsonl   bool
	// order orders a run's rows for seq: the file's order (rn) where the
	// reader gives one for free; see detectHistoryJSONL.
	order string
	// rowKeys are the keys read_json is told of (JSON lines of rows): it
	// ignores any other, so the load first looks for them.
	rowKeys []string
	notes   []string
	skipped []loaders.Skip
	// tzNote: the layout has naive local times, read in the source zone;
	// naive is their SQL expression (a TIMESTAMP) over from.
	tzNote      bool
	naive, from string
}

// numberOf is the number a JSON value holds, NULL when it holds none. It
// reads the value's first character instead of parsing it (json_type):
// numbers start with -, a digit, NaN, Infinity or nan/inf; strings, objects,
// arrays, booleans and null do not. An integer no double holds exactly
// (more than 15 digits, and not exact), or a literal beyond a double's range
// (1e400), is not taken as a number: it stays, as written, in extra.
func numberOf(x string) string {
	t := "CAST((" + x + ") AS VARCHAR)"
	return fmt.Sprintf(`CASE WHEN contains('-0123456789NIi', left(%[1]s, 1)) OR (starts_with(%[1]s, 'n') AND %[1]s <> 'null') THEN
		CASE WHEN length(%[1]s) > 15 AND regexp_full_match(%[1]s, '-?[0-9]+')
			AND (TRY_CAST(%[1]s AS HUGEINT) IS NULL OR TRY_CAST(CAST(TRY_CAST(%[1]s AS HUGEINT) AS DOUBLE) AS HUGEINT) IS DISTINCT FROM TRY_CAST(%[1]s AS HUGEINT)) THEN NULL
		WHEN isinf(TRY_CAST(%[1]s AS DOUBLE)) AND NOT contains(lower(%[1]s), 'inf') THEN NULL
		ELSE TRY_CAST(%[1]s AS DOUBLE) END END`, t)
}

// xbType is the type of the other row data: (key, JSON) entries.
const xbType = "STRUCT(key VARCHAR, value JSON)[]"

// xbItem is one entry of other row data, none when the value is null.
func xbItem(key, x string) string {
	x = "(" + x + ")"
	return fmt.Sprintf("CASE WHEN %[2]s IS NOT NULL AND CAST(%[2]s AS VARCHAR) <> 'null' THEN [{'key': %[1]s, 'value': %[2]s}] ELSE CAST([] AS %[3]s) END", dbschema.Literal(key), x, xbType)
}

// xbEntries is the entries of a JSON object of other row data.
func xbEntries(x string) string {
	x = "(" + x + ")"
	return fmt.Sprintf("CASE WHEN starts_with(CAST(%[1]s AS VARCHAR), '{') AND CAST(%[1]s AS VARCHAR) <> '{}' THEN map_entries(CAST(%[1]s AS MAP(VARCHAR, JSON))) ELSE CAST([] AS %[2]s) END", x, xbType)
}

// jsonMap casts a JSON object to MAP(VARCHAR, JSON) (NULL when it is not
// an object: see xbNotObject). The first character tells an object
// Without a parse.
func jsonMap(x string) string {
	return fmt.Sprintf("CASE WHEN starts_with(CAST((%[1]s) AS VARCHAR), '{') THEN CAST((%[1]s) AS MAP(VARCHAR, JSON)) END", x)
}

// xbNotObject keeps metrics that are not a JSON object (and not null)
// whole, under the key "metrics".
func xbNotObject(x string) string {
	return fmt.Sprintf("CASE WHEN (%[1]s) IS NOT NULL AND NOT starts_with(CAST((%[1]s) AS VARCHAR), '{') AND CAST((%[1]s) AS VARCHAR) <> 'null' THEN [{'key': 'metrics', 'value': (%[1]s)}] ELSE CAST([] AS %[2]s) END", x, xbType)
}

// cellJSON turns a wide layout's cell into JSON: numbers as numbers (NaN
// is pandas' missing marker in the canonical layout), text that holds a
// JSON object or array parsed, other text as a JSON string.
func cellJSON(col, typ string, nanMissing bool) string {
	switch {
	case typ == "VARCHAR":
		return fmt.Sprintf("CASE WHEN %[1]s IS NULL THEN NULL WHEN (starts_with(ltrim(%[1]s), '{') OR starts_with(ltrim(%[1]s), '[')) AND json_valid(%[1]s) THEN CAST(%[1]s AS JSON) ELSE to_json(%[1]s) END", col)
	case typ == "JSON":
		return col
	case loaders.TypeClass(typ) == "float" && nanMissing:
		return fmt.Sprintf("CASE WHEN isnan(%[1]s) THEN NULL ELSE to_json(%[1]s) END", col)
	}
	return fmt.Sprintf("to_json(%s)", col)
}

// entriesMap builds MAP(VARCHAR, JSON) from wide columns, leaving out NULL cells.
func entriesMap(cols []loaders.FileColumn, nanMissing bool) string {
	if len(cols) == 0 {
		return "CAST(NULL AS MAP(VARCHAR, JSON))"
	}
	var items []string
	for _, c := range cols {
		items = append(items, fmt.Sprintf("{'key': %s, 'value': %s}", dbschema.Literal(c.Name), cellJSON("s."+dbschema.Ident(c.Name), c.Type, nanMissing)))
	}
	return fmt.Sprintf("map_from_entries(list_filter([%s], kv -> kv.value IS NOT NULL))", strings.Join(items, ", "))
}

// stepOf reads a step: a whole number; NaN or null is no step (counted in
// the report); a fraction or text is an error naming the run.
func stepOf(x, typ, run string) string {
	if loaders.TypeClass(typ) == "integer" {
		return fmt.Sprintf("CAST(%s AS BIGINT)", x)
	}
	d := fmt.Sprintf("TRY_CAST(%s AS DOUBLE)", x)
	return fmt.Sprintf(`CASE WHEN %[1]s IS NULL THEN NULL
		WHEN %[2]s IS NULL THEN error('run ' || coalesce(%[3]s, '?') || ': step ' || CAST(%[1]s AS VARCHAR) || ' is not a number')
		WHEN isnan(%[2]s) THEN NULL
		WHEN %[2]s <> trunc(%[2]s) OR abs(%[2]s) > 9007199254740992 THEN error('run ' || coalesce(%[3]s, '?') || ': step ' || CAST(%[1]s AS VARCHAR) || ' is not a whole number')
		ELSE CAST(%[2]s AS BIGINT) END`, x, d, run)
}

// timeOf reads a time: epoch seconds as a number or numeric text, or a time
// as text (UTC when it has no offset); anything else, or epoch seconds
// beyond a timestamp's range, is an error naming the run and the value.
func timeOf(x, run string) string {
	d := fmt.Sprintf("TRY_CAST(%s AS DOUBLE)", x)
	t := fmt.Sprintf("CAST(%s AS VARCHAR)", x)
	return fmt.Sprintf(`CASE WHEN %[1]s IS NULL OR isnan(%[2]s) THEN NULL
		WHEN %[2]s IS NOT NULL THEN coalesce(try(to_timestamp(%[2]s)), error('run ' || coalesce(%[4]s, '?') || ': timestamp ' || %[5]s || ' is not a time (as epoch seconds it is beyond a timestamp''s range)'))
		ELSE coalesce(%[3]s, error('run ' || coalesce(%[4]s, '?') || ': timestamp ' || %[5]s || ' is not a time')) END`, x, d, tsCast(t), run, t)
}

func epochTS(x string) string { return timeOf(x, "s.run_id") }

// detectHistory finds the layout of a history file, JSON lines or parquet,
// and the SQL that reads it as rows of (run_id, rn, step, logged_at,
// runtime, m, xb). sourceTZ is the zone of naive local times.
func detectHistory(ctx context.Context, conn *sql.Conn, path, sourceTZ string) (*histSource, error) {
	jsonl, err := isJSONL(path)
	if err != nil {
		return nil, err
	}
	if jsonl {
		return detectHistoryJSONL(path)
	}
	cols, err := loaders.ParquetColumns(ctx, conn, path)
	if err != nil {
		return nil, err
	}
	if err := refuseTinyCells(ctx, conn, path, cols); err != nil {
		return nil, err
	}
	return historyParquet(path, sourceTZ, cols)
}

// historyParquet finds the layout of a parquet history file with columns
// cols, as detectHistory.
func historyParquet(path, sourceTZ string, cols []loaders.FileColumn) (*histSource, error) {
	var err error
	f := &histFile{path: path, sourceTZ: sourceTZ, cols: cols, types: map[string]string{}}
	for _, c := range cols {
		f.types[c.Name] = c.Type
		f.names = append(f.names, c.Name)
	}
	types := f.types
	if _, ok := types["file_row_number"]; ok {
		return nil, &loaders.FileError{Path: path, Msg: "has a column named file_row_number, which the reader needs for row order"}
	}
	f.from = fmt.Sprintf("read_parquet(%s, file_row_number = true) s", dbschema.Literal(path))
	h := &histSource{from: f.from}
	switch {
	case hasAll(types, "run_id", "_step", "metrics"):
		err = f.sync(h)
	case hasAll(types, "run_id", "step", "metrics"):
		err = f.metricsJSON(h)
	case hasAll(types, "run_id", "_step", "_timestamp"):
		f.rawScan(h)
	case hasAll(types, "run_id", "step", "timestamp", "runtime") && types["timestamp"] != "DOUBLE" && loaders.TypeClass(types["timestamp"]) == "other":
		f.canonical(h)
	case hasAll(types, "run_id", "step", "timestamp"):
		f.flattened(h)
	case allPositional(f.names):
		f.positional(h)
	default:
		return nil, f.unknownLayout()
	}
	if err != nil {
		return nil, err
	}
	return h, nil
}

// histFile is a parquet history file's columns, which detectHistory reads
// for its layout; each layout's method sets h.variant and h.sql.
type histFile struct {
	path, sourceTZ string
	from           string // the file, as s, with file_row_number
	cols           []loaders.FileColumn
	types          map[string]string // column -> type
	names          []string          // the columns in order
}

// rest lists the file's columns but skip.
func (f *histFile) rest(skip ...string) []loaders.FileColumn {
	drop := map[string]bool{}
	for _, s := range skip {
		drop[s] = true
	}
	var out []loaders.FileColumn
	for _, c := range f.cols {
		if !drop[c.Name] {
			out = append(out, c)
		}
	}
	return out
}

// xbWandb is the extra-bookkeeping list holding column col as _wandb, or
// an empty list when the file has no such column.
func (f *histFile) xbWandb(col string) string {
	if t, ok := f.types[col]; ok {
		return xbItem("_wandb", cellJSON("s."+dbschema.Ident(col), t, false))
	}
	return "CAST([] AS " + xbType + ")"
}

// sync reads the sync export: run_id, _step, _timestamp, _runtime, _wandb,
// metrics (JSON) and extra_cols.
func (f *histFile) sync(h *histSource) error {
	types := f.types
	h.variant = HistSync
	xb := f.xbWandb("_wandb")
	if t, ok := types["extra_cols"]; ok {
		xb = fmt.Sprintf("list_concat(%s, %s)", xb, xbEntries(cellJSON("s.extra_cols", t, false)))
	}
	mj := cellJSON("s.metrics", types["metrics"], false)
	h.sql = fmt.Sprintf("SELECT s.run_id, s.file_row_number AS rn, %s AS step, %s AS logged_at, CAST(s._runtime AS DOUBLE) AS runtime, %s AS m, list_concat(%s, %s) AS xb FROM %s",
		stepOf("s._step", types["_step"], "s.run_id"), epochTS("s._timestamp"), jsonMap(mj), xb, xbNotObject(mj), f.from)
	if extra := f.rest("run_id", "_step", "_timestamp", "_runtime", "_wandb", "metrics", "extra_cols"); len(extra) > 0 {
		return unexpectedColumns(f.path, h.variant, extra)
	}
	return nil
}

// metricsJSON reads run_id, step, timestamp, runtime, wandb_metadata and
// metrics as JSON.
func (f *histFile) metricsJSON(h *histSource) error {
	types := f.types
	h.variant = HistMetricsJSON
	xb := "CAST([] AS " + xbType + ")"
	if _, ok := types["wandb_metadata"]; ok {
		xb = f.xbWandb("wandb_metadata")
	}
	ts := "NULL"
	if t, ok := types["timestamp"]; ok {
		ts = tsFromColumn("s.timestamp", t, f.sourceTZ, h)
	}
	rt := "NULL"
	if _, ok := types["runtime"]; ok {
		rt = "CAST(s.runtime AS DOUBLE)"
	}
	mj := cellJSON("s.metrics", types["metrics"], false)
	h.sql = fmt.Sprintf("SELECT s.run_id, s.file_row_number AS rn, %s AS step, %s AS logged_at, %s AS runtime, %s AS m, list_concat(%s, %s) AS xb FROM %s",
		stepOf("s.step", types["step"], "s.run_id"), ts, rt, jsonMap(mj), xb, xbNotObject(mj), f.from)
	if extra := f.rest("run_id", "step", "timestamp", "runtime", "wandb_metadata", "metrics"); len(extra) > 0 {
		return unexpectedColumns(f.path, h.variant, extra)
	}
	return nil
}

// rawScan reads _step, _timestamp, _runtime, _wandb, run_id and a column
// per metric.
func (f *histFile) rawScan(h *histSource) {
	types := f.types
	h.variant = HistRawScan
	metrics := f.rest("run_id", "run_name", "_step", "_timestamp", "_runtime", "_wandb")
	rt := "NULL"
	if _, ok := types["_runtime"]; ok {
		rt = "CAST(s._runtime AS DOUBLE)"
	}
	h.sql = fmt.Sprintf("SELECT s.run_id, s.file_row_number AS rn, %s AS step, %s AS logged_at, %s AS runtime, %s AS m, %s AS xb FROM %s",
		stepOf("s._step", types["_step"], "s.run_id"), epochTS("s._timestamp"), rt, entriesMap(metrics, false), f.xbWandb("_wandb"), f.from)
	if _, ok := types["run_name"]; ok {
		h.skipped = append(h.skipped, loaders.Skip{What: "column run_name", Reason: "the run's name; wandb_runs holds it"})
	}
}

// canonical reads id, run_id, step, timestamp (a time), runtime and a
// column per metric, where NaN marks a key the row did not log.
func (f *histFile) canonical(h *histSource) {
	types := f.types
	h.variant = HistCanonical
	metrics := f.rest("id", "run_id", "step", "timestamp", "runtime")
	h.sql = fmt.Sprintf("SELECT s.run_id, s.file_row_number AS rn, %s AS step, %s AS logged_at, CAST(s.runtime AS DOUBLE) AS runtime, %s AS m, CAST([] AS %s) AS xb FROM %s",
		stepOf("s.step", types["step"], "s.run_id"), tsFromColumn("s.timestamp", types["timestamp"], f.sourceTZ, h), entriesMap(metrics, true), xbType, f.from)
	h.notes = append(h.notes, "NaN in a metric column is pandas' mark of a key the row did not log in this layout: such cells are not loaded (no value, not NaN)")
	if _, ok := types["id"]; ok {
		h.skipped = append(h.skipped, loaders.Skip{What: "column id", Reason: "the export's staging-database row id; seq keeps the file's order"})
	}
}

// flattened reads run_id, step, timestamp (epoch seconds), runtime and a
// column per metric.
func (f *histFile) flattened(h *histSource) {
	types := f.types
	h.variant = HistFlattened
	metrics := f.rest("run_id", "step", "timestamp", "runtime")
	rt := "NULL"
	if _, ok := types["runtime"]; ok {
		rt = "CAST(s.runtime AS DOUBLE)"
	}
	h.sql = fmt.Sprintf("SELECT s.run_id, s.file_row_number AS rn, %s AS step, %s AS logged_at, %s AS runtime, %s AS m, CAST([] AS %s) AS xb FROM %s",
		stepOf("s.step", types["step"], "s.run_id"), tsFromColumn("s.timestamp", types["timestamp"], f.sourceTZ, h), rt, entriesMap(metrics, false), xbType, f.from)
}

// positional reads columns 0, 1, …, each cell one logged entry as JSON.
func (f *histFile) positional(h *histSource) {
	h.variant = HistPositional
	h.sql = fmt.Sprintf(`SELECT e->>'$.run_id' AS run_id, s.file_row_number * 1000000 + CAST(pos AS BIGINT) AS rn,
			%s AS step, %s AS logged_at, TRY_CAST(e->>'$._runtime' AS DOUBLE) AS runtime,
			map_from_entries(list_filter(map_entries(CAST(e AS MAP(VARCHAR, JSON))), x -> NOT starts_with(x.key, '_') AND x.key <> 'run_id')) AS m,
			list_filter(map_entries(CAST(e AS MAP(VARCHAR, JSON))), x -> starts_with(x.key, '_') AND x.key NOT IN ('_step', '_timestamp', '_runtime')) AS xb
			FROM (SELECT u.file_row_number, u.pos, %s AS e
				FROM (UNPIVOT (SELECT * FROM read_parquet(%s, file_row_number = true)) ON COLUMNS(* EXCLUDE (file_row_number)) INTO NAME pos VALUE cell) u) s
			WHERE e IS NOT NULL`,
		stepOf("e->>'$._step'", "VARCHAR", "e->>'$.run_id'"), timeOf("e->>'$._timestamp'", "e->>'$.run_id'"), cellJSON("u.cell", f.types[f.names[0]], false), dbschema.Literal(f.path))
	h.notes = append(h.notes, "positional layout: each cell is one logged entry; seq follows the column number")
}

// unknownLayout is the error for a file of none of the layouts, naming
// them and the file's first columns.
func (f *histFile) unknownLayout() error {
	names := f.names
	found := strings.Join(names, ", ")
	if len(names) > 16 {
		found = strings.Join(names[:16], ", ") + fmt.Sprintf(" … (%d columns in all)", len(names))
	}
	return &loaders.FileError{Path: f.path, Msg: fmt.Sprintf("unknown history layout; expected one of: id, run_id, step, timestamp, runtime and metric columns (canonical); run_id, step, timestamp (epoch seconds) and metric columns (flattened); _step, _timestamp, _runtime, _wandb, metric columns, run_id (raw scan); run_id, step, timestamp, runtime, wandb_metadata, metrics (metrics as JSON); run_id, _step, _timestamp, _runtime, _wandb, metrics, extra_cols (sync export); columns 0, 1, … (positional); found %s", found)}
}

func unexpectedColumns(path, variant string, cols []loaders.FileColumn) error {
	var n []string
	for _, c := range cols {
		n = append(n, c.Name)
	}
	return &loaders.FileError{Path: path, Msg: fmt.Sprintf("looks like %s but has columns that layout does not: %s", variant, strings.Join(n, ", "))}
}

func allPositional(names []string) bool {
	for i, n := range names {
		if n != fmt.Sprint(i) {
			return false
		}
	}
	return len(names) > 0
}

// tsFromColumn converts a timestamp column: epoch seconds as numbers or
// numeric text; a naive TIMESTAMP is in sourceTZ (UTC when empty, said in
// the report).
func tsFromColumn(col, typ, sourceTZ string, h *histSource) string {
	switch loaders.TypeClass(typ) {
	case "integer", "float":
		return epochTS(col)
	case "text":
		return timeOf(col, "s.run_id")
	}
	if typ == "TIMESTAMP WITH TIME ZONE" {
		return col
	}
	h.tzNote, h.naive = true, fmt.Sprintf("CAST(%s AS TIMESTAMP)", col)
	zone := sourceTZ
	if zone == "" {
		zone = "UTC"
	}
	return fmt.Sprintf("timezone(%s, CAST(%s AS TIMESTAMP))", dbschema.Literal(zone), col)
}

// HistoryJSONLColumns tells read_json every column of a row-per-line
// history, nested objects as JSON (bench's native read).
const HistoryJSONLColumns = "{run_id: 'VARCHAR', step: 'BIGINT', timestamp: 'VARCHAR', runtime: 'DOUBLE', wandb_metadata: 'JSON', metrics: 'JSON', extra: 'JSON'}"

// historyRowColumns is what the loader tells read_json: the reader's own
// parse makes metrics and extra maps of JSON values, which costs less than
// keeping them as JSON text and parsing that again (400k rows: 1.0 s
// against 1.4 s for json_extract of the typed keys plus json_keys).
const historyRowColumns = "{run_id: 'VARCHAR', step: 'DOUBLE', timestamp: 'VARCHAR', runtime: 'DOUBLE', wandb_metadata: 'JSON', metrics: 'MAP(VARCHAR, JSON)', extra: 'MAP(VARCHAR, JSON)'}"

func detectHistoryJSONL(path string) (*histSource, error) {
	first, n, err := firstJSONLine(path)
	if err != nil {
		return nil, err
	}
	variant, err := historyJSONLVariant(path, first, n)
	if err != nil {
		return nil, err
	}
	h := &histSource{jsonl: true, variant: variant}
	lit := dbschema.Literal(path)
	if variant == HistJSONLArray {
		// DuckDB's reader buffers twice its maximum object size: tell it the
		// longest line, not a fixed bound.
		longest, err := longestLine(path)
		if err != nil {
			return nil, err
		}
		// An element's keys besides the six are kept in extra.
		known := `{"run_id": null, "step": null, "timestamp": null, "runtime": null, "wandb_metadata": null, "metrics": null}`
		h.sql = fmt.Sprintf(`SELECT e->>'$.run_id' AS run_id, l.rn * 1000000000 + i AS rn, %s AS step,
			%s AS logged_at, TRY_CAST(e->>'$.runtime' AS DOUBLE) AS runtime,
			%s AS m, list_concat(%s, %s, %s) AS xb
			FROM (SELECT json AS arr, row_number() OVER () AS rn FROM read_json_objects(%s, format = 'newline_delimited', maximum_object_size = %d)) l,
				LATERAL (SELECT i, json_extract(l.arr, '$[' || i || ']') AS e FROM range(CAST(CASE WHEN json_type(l.arr) = 'ARRAY' THEN json_array_length(l.arr)
					ELSE error('record ' || l.rn || ' is a JSON ' || lower(json_type(l.arr)) || ', not an array of rows') END AS BIGINT)) r(i)) x`,
			stepOf("e->>'$.step'", "VARCHAR", "e->>'$.run_id'"), timeOf("e->>'$.timestamp'", "e->>'$.run_id'"),
			jsonMap("e->'$.metrics'"), xbItem("_wandb", "e->'$.wandb_metadata'"), xbNotObject("e->'$.metrics'"),
			xbEntries(fmt.Sprintf("json_merge_patch(e, %s)", dbschema.Literal(known))), lit, max(longest+1, 16<<20))
		return h, nil
	}
	// DuckDB's JSON reader numbers no rows, and numbering them
	// (row_number() OVER ()) makes the whole load single-threaded: a
	// run's rows are ordered as W&B logged them, by time, then step
	// and runtime, and rows equal in all three by a hash of their
	// metrics (so the order is the same on every load and verify).
	// runtime + 0.0, not runtime: DuckDB's sort writes a key column back
	// from its sort key, where -0.0 is 0.0 (a runtime of -0.0 lost its sign).
	h.order = "logged_at, step, runtime + 0.0, m_hash"
	h.notes = append(h.notes, "seq orders each run's rows by logged time, then step (JSON lines carry no row numbers a parallel reader can keep)")
	h.sql = fmt.Sprintf(`SELECT s.run_id, 0 AS rn, %s AS step, %s AS logged_at, s.runtime,
		s.metrics AS m, list_concat(%s, coalesce(map_entries(s.extra), [])) AS xb
		FROM read_json(%s, format = 'newline_delimited', columns = %s) s`,
		stepOf("s.step", "DOUBLE", "s.run_id"), timeOf("s.timestamp", "s.run_id"), xbItem("_wandb", "s.wandb_metadata"), lit, historyRowColumns)
	h.rowKeys = []string{"run_id", "step", "timestamp", "runtime", "wandb_metadata", "metrics", "extra"}
	return h, nil
}

// historyJSONLVariant tells the layout of a history JSONL file from its
// first non-blank line (first, line n): one array of rows per line, or row
// objects (HistJSONL, or HistV3 with string timestamps or extra).
func historyJSONLVariant(path string, first []byte, n int) (string, error) {
	s := strings.TrimSpace(string(first))
	switch {
	case strings.HasPrefix(s, "["):
		return HistJSONLArray, nil
	case strings.HasPrefix(s, "{"):
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(loaders.PyJSON(first), &obj); err != nil {
			return "", &loaders.FileError{Path: path, Place: fmt.Sprintf("line %d", n), Msg: "malformed JSON: " + err.Error()}
		}
		if obj["run_id"] == nil || obj["metrics"] == nil {
			return "", &loaders.FileError{Path: path, Place: fmt.Sprintf("line %d", n), Msg: fmt.Sprintf("unknown history JSONL layout; expected objects with run_id, step, timestamp, runtime, wandb_metadata, metrics (and extra), or one array of them per line; found keys %s",
				strings.Join(sortedJSONKeys(obj), ", "))}
		}
		for k := range obj {
			switch k {
			case "run_id", "step", "timestamp", "runtime", "wandb_metadata", "metrics", "extra":
			default:
				return "", &loaders.FileError{Path: path, Place: fmt.Sprintf("line %d", n), Msg: fmt.Sprintf("key %q is not one of run_id, step, timestamp, runtime, wandb_metadata, metrics, extra", k)}
			}
		}
		if ts := strings.TrimSpace(string(obj["timestamp"])); strings.HasPrefix(ts, `"`) || obj["extra"] != nil {
			return HistV3, nil
		}
		return HistJSONL, nil
	}
	return "", &loaders.FileError{Path: path, Place: fmt.Sprintf("line %d", n), Msg: "a history JSONL line must be an object or an array of objects; found " + jsonKind(first)}
}

// dstNote counts the naive local times that a daylight-saving change in
// zone makes ambiguous (in an overlap: they happened twice; DuckDB reads
// them as the later instant) or impossible (in a gap: they never happened;
// DuckDB reads them with the offset before the change), "" when none.
// A local time L is near a change when the zone's offsets a day before and
// after it differ; of the two instants those offsets give, both show L in
// an overlap, neither in a gap.
func dstNote(ctx context.Context, conn *sql.Conn, path string, h *histSource, zone string) (string, error) {
	z := dbschema.Literal(zone)
	off := func(i string) string { return fmt.Sprintf("(timezone(%s, %s) - timezone('UTC', %s))", z, i, i) }
	q := fmt.Sprintf(`WITH l AS (SELECT %[1]s AS lt, timezone('UTC', %[1]s) AS u FROM %[2]s WHERE %[1]s IS NOT NULL),
		o AS (SELECT lt, u, %[3]s AS o1, %[4]s AS o2 FROM l),
		c AS (SELECT timezone(%[5]s, u - o1) = lt AS ok1, timezone(%[5]s, u - o2) = lt AS ok2 FROM o WHERE o1 <> o2)
		SELECT count(*) FILTER (WHERE ok1 AND ok2), count(*) FILTER (WHERE NOT ok1 AND NOT ok2) FROM c`,
		h.naive, h.from, off("u - INTERVAL 1 DAY"), off("u + INTERVAL 1 DAY"), z)
	var overlap, gap int64
	if err := conn.QueryRowContext(ctx, q).Scan(&overlap, &gap); err != nil {
		return "", &loaders.FileError{Path: path, Msg: "reading the timestamps: " + duckMessage(err), Err: err}
	}
	var parts []string
	if overlap > 0 {
		parts = append(parts, fmt.Sprintf("%d in an overlap (local times that happened twice: read as the later instant)", overlap))
	}
	if gap > 0 {
		parts = append(parts, fmt.Sprintf("%d in a gap (local times that never happened: read with the offset before the change)", gap))
	}
	if len(parts) == 0 {
		return "", nil
	}
	return fmt.Sprintf("timestamps at a daylight-saving change of %s: %s", zone, strings.Join(parts, "; ")), nil
}

// historySelect is the INSERT's SELECT over a layout's common shape: the
// metric columns are the row's numbers under their keys, extra_metrics its
// other numbers (NULL when none), extra everything that is not a number
// (and the layout's other row data). A key logged as null is kept in extra.
func historySelect(h *histSource, metrics []historyMetric, loadID int64) (cols []string, sel string) {
	var keys, tv []string
	for _, m := range metrics {
		keys = append(keys, dbschema.Literal(m.key))
		tv = append(tv, fmt.Sprintf("m[%s]", dbschema.Literal(m.key)))
	}
	known := "[" + strings.Join(keys, ", ") + "]::VARCHAR[]"
	// A constant list inside a lambda is built again for every element:
	// the lambdas test keys with IN, not list_contains(known, …).
	notTyped := "true"
	if len(keys) > 0 {
		notTyped = "kv.key NOT IN (" + strings.Join(keys, ", ") + ")"
	}
	n := len(metrics)
	// Level 1: tv, the typed keys' JSON values, and e, the row's other
	// entries with their numbers. Level 2: tn, the typed keys' numbers;
	// nt, typed keys holding something else (computed only for the rows
	// that have one: most have none). Level 3: x, what is not a number.
	level1 := fmt.Sprintf(`SELECT run_id, rn, step, logged_at, runtime, xb, m, [%s]::JSON[] AS tv,
		coalesce(list_transform(list_filter(map_entries(m), kv -> %s), kv -> {'key': kv.key, 'raw': kv.value, 'num': %s}), []) AS e
		FROM (%s) src`, strings.Join(tv, ", "), notTyped, numberOf("kv.value"), h.sql)
	// A typed key logged as null is NULL in the map, as a key not logged
	// is: the row has one when it has more typed keys (its keys but e's)
	// than typed values, and only then is the map asked which.
	level2 := fmt.Sprintf(`SELECT *, CASE WHEN list_count(tv) = list_count(tn) AND coalesce(cardinality(m), 0) - len(e) = list_count(tv) THEN CAST([] AS %s) ELSE
		list_transform(list_filter(range(1, %d), i -> (tv[i] IS NOT NULL AND tn[i] IS NULL) OR (tv[i] IS NULL AND map_contains(m, (%s)[i]))), i -> {'key': (%s)[i], 'value': coalesce(tv[i], 'null'::JSON)}) END AS nt
		FROM (SELECT *, list_transform(coalesce(tv, []), x -> %s) AS tn FROM (%s) l1) l1n`,
		xbType, n+1, known, known, numberOf("x"), level1)
	level3 := fmt.Sprintf(`SELECT *, list_concat(
			list_transform(list_filter(e, kv -> kv.num IS NULL), kv -> {'key': kv.key, 'value': kv.raw}),
			coalesce(nt, []), coalesce(xb, [])) AS x FROM (%s) l2`, level2)

	cols = []string{"run_id", "seq", "step", "logged_at", "runtime"}
	order := h.order
	if order == "" {
		order = "rn"
	}
	exprs := []string{"CASE WHEN run_id IS NULL OR run_id = '' THEN error('a row without a run_id (step ' || coalesce(CAST(step AS VARCHAR), 'none') || ')') ELSE run_id END",
		"row_number() OVER (PARTITION BY run_id ORDER BY " + order + ") - 1", "step", "logged_at", "runtime"}
	for i, m := range metrics {
		cols = append(cols, m.column)
		exprs = append(exprs, fmt.Sprintf("tn[%d]", i+1))
	}
	cols = append(cols, "extra_metrics", "extra", "load_id")
	exprs = append(exprs,
		"CASE WHEN list_bool_or(list_transform(e, kv -> kv.num IS NOT NULL)) THEN map_from_entries(list_transform(list_filter(e, kv -> kv.num IS NOT NULL), kv -> {'key': kv.key, 'value': kv.num})) END",
		`CASE WHEN len(x) = 0 THEN NULL
			WHEN len(x) > 1 AND len(list_distinct(list_transform(x, kv -> kv.key))) < len(x) THEN error('run ' || run_id || ', step ' || coalesce(CAST(step AS VARCHAR), 'none') || ': a key is both a non-numeric metric and other row data (extra, _wandb, extra_cols): ' || list_aggregate(list_transform(x, kv -> kv.key), 'string_agg', ', '))
			ELSE to_json(map_from_entries(x)) END`,
		fmt.Sprint(loadID))
	// The row's columns are computed before the window numbers the rows,
	// so that the window sorts finished rows, not the lists they are made
	// from (at 3.2M rows the sort spills: its payload is what costs).
	quoted := make([]string, len(cols))
	var parts, outer []string
	for i, c := range cols {
		quoted[i] = dbschema.Ident(c)
		if c == "seq" {
			outer = append(outer, exprs[i]+" AS "+quoted[i])
			continue
		}
		parts = append(parts, exprs[i]+" AS "+quoted[i])
		outer = append(outer, quoted[i])
	}
	if strings.Contains(order, "m_hash") {
		parts = append(parts, "hash(m) AS m_hash")
	}
	return quoted, fmt.Sprintf("SELECT %s FROM (SELECT rn, %s FROM (%s) q) r", strings.Join(outer, ", "), strings.Join(parts, ", "), level3)
}

// Load implements Loader.
func (History) Load(ctx context.Context, ld *loaders.Load) (*loaders.Report, error) {
	path, conn := ld.Source.Path, ld.Conn
	ld.Stage("reading the layout")
	h, err := detectHistory(ctx, conn, path, ld.SourceTZ)
	if err != nil {
		return nil, err
	}
	metrics, err := historyMetrics()
	if err != nil {
		return nil, err
	}
	dbt, err := loaders.DBTypes(ctx, conn, "wandb_history")
	if err != nil {
		return nil, err
	}
	for _, m := range metrics {
		if t := dbt["wandb_history."+m.column]; t != "DOUBLE" {
			return nil, fmt.Errorf("wandb_history.%s is %s in the database: the history loader fills DOUBLE metric columns only", m.column, t)
		}
	}
	rep := &loaders.Report{Variant: h.variant, Rows: map[string]int64{}, Notes: h.notes, Skipped: h.skipped}
	switch {
	case !h.tzNote && ld.SourceTZ != "":
		return nil, &loaders.FileError{Path: path, Msg: fmt.Sprintf("--source-tz %s: this layout (%s) has no naive local times (its times are epoch seconds, or text read as written): leave --source-tz out", ld.SourceTZ, h.variant)}
	case h.tzNote && ld.SourceTZ == "":
		rep.Notes = append(rep.Notes, "timestamps in this layout are the exporting machine's local time and no --source-tz was given: loaded as UTC (reload with --source-tz ZONE to correct them)")
	case h.tzNote:
		rep.Notes = append(rep.Notes, "timestamps read as local time in "+ld.SourceTZ)
		note, err := dstNote(ctx, conn, path, h, ld.SourceTZ)
		if err != nil {
			return nil, err
		}
		if note != "" {
			rep.Notes = append(rep.Notes, note)
		}
	}
	// Runs whose history another source already loaded stay that source's.
	taken, err := loaders.QueryStrings(ctx, conn, "SELECT DISTINCT run_id FROM wandb_history ORDER BY run_id")
	if err != nil {
		return nil, err
	}
	ld.Stage("writing wandb_history")
	n, st, err := insertHistory(ctx, conn, path, h, "wandb_history", metrics, ld.ID, taken)
	if err != nil {
		return nil, err
	}
	rep.Rows["wandb_history"] = n
	ld.Stage("checking the rows")
	if err := keyKept(ctx, conn, path, ld.ID); err != nil {
		return nil, err
	}
	if err := historyChecks(ctx, conn, path, h, ld.ID, taken, st, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// ErrKeyShared: a load's rows would share wandb_history's key with
// another load's.
var ErrKeyShared = errors.New("the key (run_id, seq) would not hold")

// keyKept checks that no run of load id has rows of another load.
// wandb_history's key (run_id, seq) is no DuckDB constraint: a load numbers
// seq per run and leaves out the runs other loads wrote (taken), so its
// rows keep the key when this holds. The load's runs are made distinct
// first: a semi join built on every row's run_id held 3.2M strings (0.34 s
// and about 190 MB more peak RSS in a 3.2M-row load); distinct, they are
// the runs, and the check 0.02 s.
func keyKept(ctx context.Context, conn *sql.Conn, path string, id int64) error {
	shared, err := loaders.QueryStrings(ctx, conn, `SELECT DISTINCT run_id FROM wandb_history
		WHERE load_id IS DISTINCT FROM ? AND run_id IN (SELECT DISTINCT run_id FROM wandb_history WHERE load_id = ?) ORDER BY run_id LIMIT 5`, id, id)
	if err != nil {
		return fmt.Errorf("%s: check the key: %w", path, err)
	}
	if len(shared) > 0 {
		return fmt.Errorf("%s: runs %s have rows of another load too (a fault of dschema's, not of the file): %w", path, strings.Join(shared, ", "), ErrKeyShared)
	}
	return nil
}

// insertHistory writes the file's rows into table (wandb_history, or
// verify's copy of it), leaving out the runs in taken, and returns how
// many it wrote: through the Go reader where it takes the layout and the
// file (historyrows.go), with what it counted of the rows, else through
// the SQL (st nil).
func insertHistory(ctx context.Context, conn *sql.Conn, path string, h *histSource, table string, metrics []historyMetric, loadID int64, taken []string) (n int64, st *histStats, err error) {
	if goReads(h) {
		st, ok, err := appendHistoryJSONL(ctx, conn, h, path, table, metrics, loadID, taken)
		if err != nil {
			return 0, nil, err
		}
		if ok {
			return st.rows, st, nil
		}
	}
	cols, sel := historySelect(h, metrics, loadID)
	if len(taken) > 0 {
		sel = fmt.Sprintf("SELECT * FROM (%s) x WHERE run_id NOT IN (SELECT DISTINCT run_id FROM wandb_history)", sel)
	}
	res, err := insertChecked(ctx, conn, path, h, fmt.Sprintf("INSERT INTO %s (%s) %s", table, strings.Join(cols, ", "), sel))
	if err != nil {
		var fe *loaders.FileError
		if errors.As(err, &fe) {
			return 0, nil, err
		}
		if ctx.Err() != nil {
			return 0, nil, err
		}
		if h.jsonl {
			return 0, nil, jsonReadError(path, err)
		}
		return 0, nil, &loaders.FileError{Path: path, Msg: duckMessage(err), Err: err}
	}
	n, err = res.RowsAffected()
	return n, nil, err
}

// insertChecked runs the insert while checkRowKeys reads the file in Go
// (it refuses keys read_json would drop): the scan costs one core a
// sequential pass instead of a second parallel read by DuckDB before the
// insert. A key it finds cancels the insert and is the error; the engine
// rolls the load back.
func insertChecked(ctx context.Context, conn *sql.Conn, path string, h *histSource, insert string) (sql.Result, error) {
	ictx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	keys := make(chan error, 1)
	go func() {
		err := checkRowKeys(ictx, path, h)
		if err != nil {
			cancel(err)
		}
		keys <- err
	}()
	res, err := conn.ExecContext(ictx, insert)
	if kerr := <-keys; kerr != nil && ctx.Err() == nil {
		return nil, kerr
	}
	return res, err
}

// historyChecks reports what the loaded rows say: rows without a run id or
// step, repeated steps, runs unknown to wandb_runs, runs left to another
// source. st is what the Go reader counted as it read (nil: the SQL read
// the file, and the loaded rows are grouped here).
func historyChecks(ctx context.Context, conn *sql.Conn, path string, h *histSource, loadID int64, taken []string, st *histStats, rep *loaders.Report) error {
	var noStep, dupGroups, dupRows, noRun int64
	var unknown []string
	var err error
	if st != nil {
		noStep, dupGroups, dupRows = st.steps()
		if unknown, err = unknownRuns(ctx, conn, st); err != nil {
			return fmt.Errorf("%s: the runs wandb_runs lacks: %w", path, err)
		}
	} else {
		// One pass over the load's rows, grouped by run and step.
		if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE _dschema_history_steps AS
			SELECT run_id, step, count(*) AS n FROM wandb_history WHERE load_id = ? GROUP BY run_id, step`, loadID); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS _dschema_history_steps")
		if err := conn.QueryRowContext(ctx, `SELECT coalesce(sum(n) FILTER (WHERE step IS NULL), 0),
			count(*) FILTER (WHERE step IS NOT NULL AND n > 1), coalesce(sum(n) FILTER (WHERE step IS NOT NULL AND n > 1), 0),
			coalesce(sum(n) FILTER (WHERE run_id = ''), 0) FROM _dschema_history_steps`).Scan(&noStep, &dupGroups, &dupRows, &noRun); err != nil {
			return err
		}
		if unknown, err = loaders.QueryStrings(ctx, conn, `SELECT run_id || ' (' || sum(n) || ' rows)' FROM _dschema_history_steps
			WHERE run_id NOT IN (SELECT run_id FROM wandb_runs) GROUP BY run_id ORDER BY run_id`); err != nil {
			return err
		}
	}
	if noRun > 0 {
		return &loaders.FileError{Path: path, Msg: fmt.Sprintf("%d rows have an empty run_id", noRun)}
	}
	if noStep > 0 {
		rep.Kept = append(rep.Kept, loaders.Skip{What: "rows without a step", Count: noStep, Reason: "loaded with step NULL; seq keeps their order"})
	}
	if dupGroups > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d steps were logged more than once (%d rows): all kept, told apart by seq", dupGroups, dupRows))
	}
	if len(unknown) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("history of %d runs not in wandb_runs (loaded; load their runs file to join them): %s", len(unknown), loaders.Examples(unknown, 10)))
	}
	switch {
	case len(taken) > 0 && st != nil:
		rep.Skip(loaders.FirstSourceKeeps("history of runs", "wandb_history", st.leftOut()))
	case len(taken) > 0:
		// Only now is it worth a second read: which of the file's runs were left out.
		left, err := loaders.QueryStrings(ctx, conn, fmt.Sprintf(`SELECT run_id || ' (' || count(*) || ' rows)' FROM (%s) src
			WHERE run_id IN (SELECT DISTINCT run_id FROM wandb_history WHERE load_id <> ?) GROUP BY run_id ORDER BY run_id`, h.sql), loadID)
		if err != nil {
			return err
		}
		rep.Skip(loaders.FirstSourceKeeps("history of runs", "wandb_history", left))
	}
	return nil
}
