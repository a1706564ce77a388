package wandb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/finetune"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/dbschema"
)

func init() { loaders.Register(Runs{}) }

// Runs loads W&B run exports (runs_metadata.parquet and its relatives)
// into wandb_runs and wandb_run_evals.
//
// Every layout is first brought into one staging table of the same shape
// (ids, times, tags and the JSON blobs), set-wise by DuckDB; everything
// after that (unwrapping a wrapped config, the typed columns, the eval
// results, the reports) is shared.
type Runs struct{}

// Kind implements Loader.
func (Runs) Kind() string { return "wandb-runs" }

// RunsMemoryLimit is the runs loader's default memory limit. Runs files are
// small (a run's record is ~100 KB): 3,000 generated runs (11.6 MB of
// parquet) load at 395 MB peak RSS under it, and one run with 100,000
// config and 100,000 summary keys at 400 MB.
const RunsMemoryLimit = "512MB"

// DefaultMemoryLimit implements MemoryLimiter.
func (Runs) DefaultMemoryLimit() string { return RunsMemoryLimit }

// Short implements Loader.
func (Runs) Short() string {
	return "W&B runs: runs_metadata.parquet (+ runs_metadata_<component>.parquet), notebook/v3 JSONL, sync export, early wide layouts"
}

// Runs layouts.
const (
	RunsCanonical   = "runs_metadata (canonical: 12 columns, JSON strings)"
	RunsCompanion   = "runs_metadata_<component> (ids and one JSON column)"
	RunsNotebook    = "runs JSONL (notebook: the 12 keys, nested objects)"
	RunsSync        = "sync export (2026: tags/group/job_type/url columns, wrapped json_config)"
	RunsV3          = "runs v3 JSONL ({exported_at, run})"
	RunsWide        = "wide (early: config_<key> and summary_<key> columns)"
	RunsWideProject = "wide with project (config and summary keys as columns)"
)

// runsCanonicalColumns are the canonical layout's columns, in order.
var runsCanonicalColumns = []string{"run_id", "run_name", "state", "project", "entity", "created_at",
	"config", "summary", "wandb_metadata", "system_metrics", "system_attrs", "sweep_info"}

// runsBlobs are the JSON columns every runs layout can carry whole.
var runsBlobs = []string{"config", "summary", "wandb_metadata", "system_metrics", "system_attrs", "sweep_info"}

// stageField is one column of the staging table.
type stageField struct{ name, typ string }

var runsStage = []stageField{
	{"run_id", "VARCHAR"}, {"run_name", "VARCHAR"}, {"display_name", "VARCHAR"}, {"state", "VARCHAR"},
	{"project", "VARCHAR"}, {"entity", "VARCHAR"}, {"url", "VARCHAR"},
	{"created_at", "VARCHAR"}, {"updated_at", "VARCHAR"}, {"heartbeat_at", "VARCHAR"}, // text until checked
	{"tags", "VARCHAR[]"}, {"run_group", "VARCHAR"}, {"job_type", "VARCHAR"}, {"user_name", "VARCHAR"},
	{"git_commit", "VARCHAR"}, {"history_line_count", "VARCHAR"},
	{"config", "JSON"}, {"summary", "JSON"}, {"wandb_metadata", "JSON"}, {"system_metrics", "JSON"},
	{"system_attrs", "JSON"}, {"sweep_info", "JSON"}, {"export_extra", "JSON"},
}

// typedRunColumn is a typed wandb_runs column filled from a key of a blob.
type typedRunColumn struct {
	column, blob, key, typ string
}

// runsTyped lists the typed config and summary columns and where they come
// from. TestRunsColumnsCovered keeps it in step with the schema.
var runsTyped = func() []typedRunColumn {
	var out []typedRunColumn
	for _, c := range []struct{ name, typ string }{
		{"exp_name", "VARCHAR"}, {"model_name_or_path", "VARCHAR"}, {"model_size", "VARCHAR"},
		{"learning_rate", "DOUBLE"}, {"seed", "BIGINT"}, {"num_train_epochs", "DOUBLE"},
		{"max_train_samples", "BIGINT"}, {"max_train_steps", "BIGINT"}, {"per_device_train_batch_size", "BIGINT"},
		{"gradient_accumulation_steps", "BIGINT"}, {"lr_scheduler_type", "VARCHAR"}, {"warmup_ratio", "DOUBLE"},
		{"weight_decay", "DOUBLE"}, {"max_seq_length", "BIGINT"}, {"reduce_loss", "VARCHAR"},
		{"pretrain_tokens", "DOUBLE"}, {"pretrain_steps", "DOUBLE"}, {"pretrain_compute", "DOUBLE"},
		{"dpo_beta", "DOUBLE"}, {"dpo_loss_type", "VARCHAR"},
	} {
		out = append(out, typedRunColumn{c.name, "config", c.name, c.typ})
	}
	for _, c := range []string{"train_loss", "total_tokens", "total_tokens_including_padding", "per_device_tps"} {
		out = append(out, typedRunColumn{c, "summary", c, "DOUBLE"})
	}
	out = append(out, typedRunColumn{"runtime", "summary", "_runtime", "DOUBLE"})
	return out
}()

// summaryKeys are keys that a layout merging config and summary into one
// set of columns puts back into the summary: the typed summary keys, W&B's
// own underscore keys, and the eval results.
func isSummaryKey(k string) bool {
	if strings.HasPrefix(k, "_") || strings.HasPrefix(k, "oe_eval_metrics") {
		return true
	}
	for _, t := range runsTyped {
		if t.blob == "summary" && t.key == k {
			return true
		}
	}
	switch k {
	case "epoch", "training_step", "logps/chosen", "logps/rejected", "rewards/accuracy", "rewards/margin",
		"rewards/chosen", "rewards/rejected", "logits/chosen", "logits/rejected":
		return true
	}
	return false
}

// runsLayout is how one file's rows are brought into the staging table.
type runsLayout struct {
	variant string
	from    string            // FROM clause, the source relation aliased s
	exprs   map[string]string // staging field -> SQL expression over s
	notes   []string
	kept    []loaders.Skip
	// textBlobs are the source columns holding a JSON blob as text, by
	// staging field: where the string "nan" (pandas' missing value) can be.
	textBlobs map[string]string
	// tagsText is the source column of tags written as text (a JSON list).
	tagsText string
}

func jsonPath(key string) string {
	return dbschema.Literal(`$."` + strings.ReplaceAll(key, `"`, `\"`) + `"`)
}

// tsText is the staging form of a time: ISO text, UTC when it has no offset.
// Checked and cast after staging, so a bad value is named with its run.
func tsExpr(col, typ string) string {
	switch typ {
	case "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S":
		return fmt.Sprintf("strftime(CAST(%s AS TIMESTAMP), '%%Y-%%m-%%dT%%H:%%M:%%S.%%fZ')", col)
	case "TIMESTAMP WITH TIME ZONE":
		return fmt.Sprintf("strftime(timezone('UTC', %s), '%%Y-%%m-%%dT%%H:%%M:%%S.%%fZ')", col)
	case "VARCHAR":
		return col
	}
	// Epoch seconds (a number column) stay text: tsCast reads them, and
	// names the run of a value beyond a timestamp's range.
	return fmt.Sprintf("CAST(%s AS VARCHAR)", col)
}

// tsCast casts staged time text to TIMESTAMPTZ: a number is epoch seconds
// (as the history loader reads it); a time without an offset is UTC
// wall-clock time. NULL when the text is not a time, or epoch seconds
// beyond a timestamp's range.
func tsCast(x string) string {
	return fmt.Sprintf(`CASE WHEN %[1]s IS NULL OR trim(%[1]s) IN ('', 'nan', 'NaN', 'None', 'NaT') THEN NULL
		WHEN TRY_CAST(trim(%[1]s) AS DOUBLE) IS NOT NULL THEN try(to_timestamp(TRY_CAST(trim(%[1]s) AS DOUBLE)))
		WHEN regexp_matches(trim(%[1]s), '[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*(Z|[+-][0-9]{2}(:?[0-9]{2})?)$') THEN TRY_CAST(trim(%[1]s) AS TIMESTAMPTZ)
		ELSE timezone('UTC', TRY_CAST(trim(%[1]s) AS TIMESTAMP)) END`, x)
}

func tsMissing(x string) string {
	return fmt.Sprintf("(%[1]s IS NULL OR trim(%[1]s) IN ('', 'nan', 'NaN', 'None', 'NaT'))", x)
}

// blobExpr turns a source column holding a JSON blob into JSON: a JSON
// string is parsed (NaN and Infinity tokens, big integers and unicode
// kept as written); the string "nan" (a missing value) is NULL; text that
// is not JSON (a Python str() of a dict) is kept as a JSON string.
func blobExpr(col, typ string) string {
	switch typ {
	case "VARCHAR":
		return fmt.Sprintf("CASE WHEN %[1]s IS NULL OR %[1]s = 'nan' THEN NULL WHEN json_valid(%[1]s) THEN CAST(%[1]s AS JSON) ELSE to_json(%[1]s) END", col)
	case "JSON":
		return col
	}
	return fmt.Sprintf("to_json(%s)", col)
}

// textExpr is a source column as text.
func textExpr(col, typ string) string {
	if typ == "VARCHAR" {
		return col
	}
	if typ == "JSON" {
		return fmt.Sprintf("(%s->>'$')", col)
	}
	return fmt.Sprintf("CAST(%s AS VARCHAR)", col)
}

// tagsExpr is a source column holding tags as VARCHAR[].
func tagsExpr(col, typ string) string {
	switch {
	case typ == "VARCHAR" || typ == "JSON":
		j := blobExpr(col, typ)
		return fmt.Sprintf("CASE WHEN json_type(%[1]s) = 'ARRAY' THEN CAST(%[1]s AS VARCHAR[]) END", j)
	case strings.HasSuffix(typ, "[]"):
		return fmt.Sprintf("CAST(%s AS VARCHAR[])", col)
	}
	return "NULL"
}

// jsonField reads a field of the JSON object j as the staging type of f.
func jsonField(j, key string, f string) string {
	x := fmt.Sprintf("json_extract(%s, %s)", j, jsonPath(key))
	switch fieldType(f) {
	case "JSON":
		// A JSON string inside a JSON export is a blob written as text.
		return fmt.Sprintf("CASE WHEN json_type(%[1]s) = 'NULL' THEN NULL WHEN json_type(%[1]s) = 'VARCHAR' THEN %[2]s ELSE %[1]s END",
			x, blobExpr(fmt.Sprintf("(%s->>'$')", x), "VARCHAR"))
	case "VARCHAR[]":
		return fmt.Sprintf("CASE WHEN json_type(%[1]s) = 'ARRAY' THEN CAST(%[1]s AS VARCHAR[]) END", x)
	}
	return fmt.Sprintf("CASE WHEN json_type(%[1]s) = 'NULL' THEN NULL ELSE %[1]s->>'$' END", x)
}

func fieldType(name string) string {
	for _, f := range runsStage {
		if f.name == name {
			return f.typ
		}
	}
	return "VARCHAR"
}

// sourceColumnFor maps source column names of the parquet layouts to staging fields.
var sourceColumnFor = map[string]string{
	"run_id": "run_id", "run_name": "run_name", "name": "run_name", "display_name": "display_name",
	"state": "state", "project": "project", "entity": "entity", "url": "url",
	"created_at": "created_at", "updated_at": "updated_at", "heartbeat_at": "heartbeat_at",
	"tags": "tags", "group": "run_group", "job_type": "job_type", "username": "user_name",
	"commit": "git_commit", "history_line_count": "history_line_count",
	"config": "config", "summary": "summary", "summary_metrics": "summary", "wandb_metadata": "wandb_metadata",
	"metadata": "wandb_metadata", "system_metrics": "system_metrics", "system_attrs": "system_attrs", "sweep_info": "sweep_info",
}

// columnsExpr maps the named source columns to staging expressions; the
// source columns it did not use are returned.
func columnsExpr(cols []loaders.FileColumn, exprs map[string]string, textBlobs map[string]string) (rest []loaders.FileColumn) {
	for _, c := range cols {
		f, ok := sourceColumnFor[c.Name]
		if !ok || exprs[f] != "" {
			rest = append(rest, c)
			continue
		}
		q := "s." + dbschema.Ident(c.Name)
		switch fieldType(f) {
		case "JSON":
			exprs[f] = blobExpr(q, c.Type)
			if c.Type == "VARCHAR" && textBlobs != nil {
				textBlobs[f] = q
			}
		case "VARCHAR[]":
			exprs[f] = tagsExpr(q, c.Type)
			if c.Type == "VARCHAR" && textBlobs != nil {
				textBlobs["tags text"] = q
			}
		default:
			if f == "created_at" || f == "updated_at" || f == "heartbeat_at" {
				exprs[f] = tsExpr(q, c.Type)
			} else {
				exprs[f] = textExpr(q, c.Type)
			}
		}
	}
	return rest
}

// objectExpr builds a JSON object from source columns, each under its key.
// A NULL cell, or NaN in a float column, is a key the run did not have
// (pandas filled the union of keys with them): it is left out. Text stays
// text.
func objectExpr(cols []loaders.FileColumn, key func(string) string) string {
	if len(cols) == 0 {
		return "NULL"
	}
	var items []string
	for _, c := range cols {
		q := "s." + dbschema.Ident(c.Name)
		v := "to_json(" + q + ")"
		switch {
		case c.Type == "JSON":
			v = q
		case loaders.TypeClass(c.Type) == "float":
			v = fmt.Sprintf("CASE WHEN isnan(%[1]s) THEN NULL ELSE to_json(%[1]s) END", q)
		}
		items = append(items, fmt.Sprintf("{'key': %s, 'value': %s}", dbschema.Literal(key(c.Name)), v))
	}
	return fmt.Sprintf("to_json(map_from_entries(list_filter([%s], kv -> kv.value IS NOT NULL)))", strings.Join(items, ", "))
}

func hasAll(types map[string]string, names ...string) bool {
	for _, n := range names {
		if _, ok := types[n]; !ok {
			return false
		}
	}
	return true
}

// detectRuns tells the layout of a runs file.
func detectRuns(ctx context.Context, conn *sql.Conn, path string) (*runsLayout, error) {
	jsonl, err := isJSONL(path)
	if err != nil {
		return nil, err
	}
	if jsonl {
		return detectRunsJSONL(path)
	}
	cols, err := loaders.ParquetColumns(ctx, conn, path)
	if err != nil {
		return nil, err
	}
	if err := refuseTinyCells(ctx, conn, path, cols); err != nil {
		return nil, err
	}
	return runsParquet(path, cols)
}

// runsParquet tells the layout of a parquet runs file with columns cols.
func runsParquet(path string, cols []loaders.FileColumn) (*runsLayout, error) {
	types := map[string]string{}
	var names []string
	for _, c := range cols {
		types[c.Name] = c.Type
		names = append(names, c.Name)
	}
	src := fmt.Sprintf("(SELECT * FROM read_parquet(%s, file_row_number = true)) s", dbschema.Literal(path))
	found := strings.Join(names, ", ")
	if len(names) > 16 {
		found = strings.Join(names[:16], ", ") + fmt.Sprintf(" … (%d columns in all)", len(names))
	}
	lay := &runsLayout{from: src, exprs: map[string]string{}, textBlobs: map[string]string{}}
	var rest []loaders.FileColumn
	for _, c := range cols {
		if c.Name != "file_row_number" {
			rest = append(rest, c)
		}
	}
	_, hasFRN := types["file_row_number"]
	if hasFRN {
		return nil, &loaders.FileError{Path: path, Msg: "has a column named file_row_number, which the reader needs for row numbers"}
	}
	switch {
	case hasAll(types, "run_id", "state") && (hasAll(types, "json_config") || hasAll(types, "raw_config") && hasAll(types, "job_type")):
		lay.variant = RunsSync
		rest = columnsExpr(rest, lay.exprs, lay.textBlobs)
		if lay.exprs["config"] == "" {
			// The wrapped config stands in for the plain one; it is unwrapped below.
			if t, ok := types["json_config"]; ok {
				lay.exprs["config"] = blobExpr("s.json_config", t)
				lay.notes = append(lay.notes, "config read from json_config (W&B's wrapped form; unwrapped); json_config kept whole in export_extra")
			}
		}
		lay.exprs["export_extra"] = objectExpr(rest, func(n string) string { return n })
	case len(cols) == len(runsCanonicalColumns) && strings.Join(names, ",") == strings.Join(runsCanonicalColumns, ","):
		lay.variant = RunsCanonical
		columnsExpr(rest, lay.exprs, lay.textBlobs)
	case hasAll(types, "run_id") && isCompanion(names):
		lay.variant = RunsCompanion
		columnsExpr(rest, lay.exprs, lay.textBlobs)
	case hasAll(types, "run_id", "run_name", "state", "created_at", "runtime") && hasPrefixed(names, "config_", "summary_"):
		lay.variant = RunsWide
		var cfg, sum, other []loaders.FileColumn
		for _, c := range rest {
			switch {
			case strings.HasPrefix(c.Name, "config_"):
				cfg = append(cfg, c)
			case strings.HasPrefix(c.Name, "summary_"):
				sum = append(sum, c)
			case c.Name == "runtime":
			default:
				other = append(other, c)
			}
		}
		other = columnsExpr(other, lay.exprs, lay.textBlobs)
		lay.exprs["config"] = objectExpr(cfg, func(n string) string { return strings.TrimPrefix(n, "config_") })
		lay.exprs["summary"] = objectExpr(sum, func(n string) string { return strings.TrimPrefix(n, "summary_") })
		lay.exprs["export_extra"] = objectExpr(other, func(n string) string { return n })
		lay.kept = append(lay.kept, loaders.Skip{What: "column runtime", Reason: "always 0 in this layout: not loaded as the run time"})
	case hasAll(types, "run_id", "run_name", "state", "project", "entity", "created_at", "runtime"):
		lay.variant = RunsWideProject
		var cfg, sum []loaders.FileColumn
		for _, c := range rest {
			switch c.Name {
			case "run_id", "run_name", "state", "project", "entity", "created_at":
				continue
			case "runtime":
				continue
			}
			if isSummaryKey(c.Name) {
				sum = append(sum, c)
			} else {
				cfg = append(cfg, c)
			}
		}
		columnsExpr([]loaders.FileColumn{{Name: "run_id", Type: types["run_id"]}, {Name: "run_name", Type: types["run_name"]}, {Name: "state", Type: types["state"]},
			{Name: "project", Type: types["project"]}, {Name: "entity", Type: types["entity"]}, {Name: "created_at", Type: types["created_at"]}}, lay.exprs, lay.textBlobs)
		lay.exprs["config"] = objectExpr(cfg, func(n string) string { return n })
		lay.exprs["summary"] = objectExpr(sum, func(n string) string { return n })
		lay.notes = append(lay.notes, fmt.Sprintf("this layout merged config and summary keys into columns (summary won on name clashes): %d keys known as summary keys (underscore keys, oe_eval_metrics, logged metrics) went to summary, %d to config", len(sum), len(cfg)))
		lay.kept = append(lay.kept, loaders.Skip{What: "column runtime", Reason: "always 0 in this layout: not loaded as the run time"})
	default:
		return nil, &loaders.FileError{Path: path, Msg: fmt.Sprintf("unknown runs layout; expected one of: the canonical 12 columns (%s); a runs_metadata_<component> file (run_id and one of %s); the sync export (run_id, state, json_config, …); the early wide layouts (run_id, run_name, state, created_at, runtime and config_/summary_ columns, or with project, entity and the keys as columns); found %s",
			strings.Join(runsCanonicalColumns, ", "), strings.Join(runsBlobs, ", "), found)}
	}
	return lay, nil
}

func isCompanion(names []string) bool {
	blobs := 0
	for _, n := range names {
		switch n {
		case "run_id", "run_name", "state", "project", "entity", "created_at", "file_row_number":
		case "config", "summary", "wandb_metadata", "system_metrics", "system_attrs", "sweep_info":
			blobs++
		default:
			return false
		}
	}
	return blobs == 1
}

func hasPrefixed(names []string, prefixes ...string) bool {
	for _, p := range prefixes {
		ok := false
		for _, n := range names {
			if strings.HasPrefix(n, p) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// runsJSONLKeys are the top-level keys of the notebook JSONL.
var runsJSONLKeys = runsCanonicalColumns

// v3RunFields maps the v3 export's run fields to staging fields.
var v3RunFields = map[string]string{
	"run_id": "run_id", "name": "run_name", "display_name": "display_name", "entity": "entity", "project": "project",
	"state": "state", "created_at": "created_at", "updated_at": "updated_at", "heartbeat_at": "heartbeat_at",
	"url": "url", "tags": "tags", "group": "run_group", "job_type": "job_type", "config": "config",
	"summary_metrics": "summary", "system_metrics": "system_metrics", "metadata": "wandb_metadata",
}

func detectRunsJSONL(path string) (*runsLayout, error) {
	obj, n, err := firstRunsObject(path)
	if err != nil {
		return nil, err
	}
	longest, err := longestLine(path) // DuckDB buffers twice the bound it is told
	if err != nil {
		return nil, err
	}
	src := fmt.Sprintf("(SELECT json AS j, row_number() OVER () - 1 AS file_row_number FROM read_json_objects(%s, format = 'newline_delimited', maximum_object_size = %d)) s",
		dbschema.Literal(path), max(longest+1, 16<<20))
	lay := &runsLayout{from: src, exprs: map[string]string{}, textBlobs: map[string]string{}}
	known := []string{}
	lay.variant = runsJSONLVariant(obj)
	switch lay.variant {
	case RunsV3:
		for k, f := range v3RunFields {
			lay.exprs[f] = jsonField("s.j->'$.run'", k, f)
			if fieldType(f) == "JSON" {
				lay.textBlobs[f] = fmt.Sprintf("(s.j->'$.run'->>%s)", jsonPath(k))
			}
			known = append(known, k)
		}
		lay.exprs["user_name"] = `coalesce(s.j->>'$.run.user.username', s.j->>'$.run.user.name', CASE WHEN json_type(s.j, '$.run.user') = 'VARCHAR' THEN s.j->>'$.run.user' END)`
		// The whole user object stays in export_extra; the top level's keys
		// besides run (exported_at, ...) too.
		lay.exprs["export_extra"] = fmt.Sprintf(`CASE WHEN CAST(json_merge_patch(coalesce(%[1]s, '{}'::JSON), coalesce(%[2]s, '{}'::JSON)) AS VARCHAR) = '{}' THEN NULL
			ELSE json_merge_patch(coalesce(%[1]s, '{}'::JSON), coalesce(%[2]s, '{}'::JSON)) END`,
			extraObject("s.j->'$.run'", known, "", ""), extraObject("s.j", []string{"run"}, "", ""))
	case RunsNotebook:
		for _, k := range runsJSONLKeys {
			f := sourceColumnFor[k]
			lay.exprs[f] = jsonField("s.j", k, f)
			if fieldType(f) == "JSON" {
				lay.textBlobs[f] = fmt.Sprintf("(s.j->>%s)", jsonPath(k))
			}
			known = append(known, k)
		}
		lay.exprs["export_extra"] = extraObject("s.j", known, "", "")
	default:
		return nil, &loaders.FileError{Path: path, Place: fmt.Sprintf("line %d", n), Msg: fmt.Sprintf("unknown runs JSONL layout; expected objects with the keys %s (notebook) or {exported_at, run} (v3); found keys %s",
			strings.Join(runsJSONLKeys, ", "), strings.Join(sortedJSONKeys(obj), ", "))}
	}
	return lay, nil
}

// firstRunsObject decodes the first line of a runs JSONL file as an
// object, and returns it with its line number.
func firstRunsObject(path string) (map[string]json.RawMessage, int, error) {
	first, n, err := firstJSONLine(path)
	if err != nil {
		return nil, n, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(loaders.PyJSON(first), &obj); err != nil {
		return nil, n, &loaders.FileError{Path: path, Place: fmt.Sprintf("line %d", n), Msg: "a runs JSONL line must be a JSON object; found " + jsonKind(first)}
	}
	return obj, n, nil
}

// runsJSONLVariant tells the layout of a runs JSONL file from its first
// object: RunsV3, RunsNotebook, or "" for neither.
func runsJSONLVariant(obj map[string]json.RawMessage) string {
	switch {
	case obj["run"] != nil && obj["exported_at"] != nil:
		return RunsV3
	case obj["run_id"] != nil && obj["config"] != nil:
		return RunsNotebook
	}
	return ""
}

// extraObject is the object j without the known keys (plus, when given, one
// more key); NULL when nothing is left.
func extraObject(j string, known []string, addKey, addExpr string) string {
	sort.Strings(known)
	drop := map[string]any{}
	for _, k := range known {
		drop[k] = nil
	}
	patch, _ := json.Marshal(drop)
	x := fmt.Sprintf("json_merge_patch(%s, %s)", j, dbschema.Literal(string(patch)))
	if addKey != "" {
		x = fmt.Sprintf("json_merge_patch(%s, json_object(%s, %s))", x, dbschema.Literal(addKey), addExpr)
	}
	return fmt.Sprintf("CASE WHEN json_type(%[1]s) <> 'OBJECT' OR %[1]s::VARCHAR = '{}' THEN NULL ELSE %[1]s END", x)
}

func sortedJSONKeys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func jsonKind(b json.RawMessage) string {
	s := strings.TrimSpace(string(b))
	switch {
	case s == "":
		return "nothing"
	case s[0] == '[':
		return "an array"
	case s[0] == '"':
		return "a string"
	}
	return "a scalar"
}

// companions are the runs_metadata_<component>.parquet files beside a
// canonical runs file: they hold one JSON column each, merged by run id.
func (Runs) Companions(path string) ([]string, error) {
	if strings.ToLower(filepath.Ext(path)) != ".parquet" {
		return nil, nil
	}
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if isCompanionName(stem) {
		return nil, nil
	}
	var out []string
	for _, b := range runsBlobs {
		p := filepath.Join(filepath.Dir(path), stem+"_"+b+".parquet")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	return out, nil
}

// PartOf names the runs file a companion belongs to, when it sits beside it.
func (Runs) PartOf(path string) string {
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	for _, b := range runsBlobs {
		if main, ok := strings.CutSuffix(stem, "_"+b); ok && main != "" {
			p := filepath.Join(filepath.Dir(path), main+filepath.Ext(path))
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p
			}
		}
	}
	return ""
}

func isCompanionName(stem string) bool {
	for _, b := range runsBlobs {
		if strings.HasSuffix(stem, "_"+b) {
			return true
		}
	}
	return false
}

const (
	stageTable = "_dschema_runs_stage"
	typedTable = "_dschema_runs_typed"
)

// stageRuns fills a temp table (named t) with the rows of one runs file.
func stageRuns(ctx context.Context, conn *sql.Conn, t string, lay *runsLayout) error {
	var sel []string
	for _, f := range runsStage {
		e := lay.exprs[f.name]
		if e == "" {
			e = "NULL"
		}
		sel = append(sel, fmt.Sprintf("CAST(%s AS %s) AS %s", e, f.typ, dbschema.Ident(f.name)))
	}
	sel = append(sel, "s.file_row_number AS src_row")
	q := fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT %s FROM %s", dbschema.Ident(t), strings.Join(sel, ",\n  "), lay.from)
	_, err := conn.ExecContext(ctx, q)
	return err
}

func readError(path string, jsonl bool, err error) error {
	if jsonl {
		return jsonReadError(path, err)
	}
	return &loaders.FileError{Path: path, Msg: "not readable (truncated, or not the layout it looked like): " + loaders.FirstLine(err.Error()), Err: err}
}

// Load implements Loader.
func (w Runs) Load(ctx context.Context, ld *loaders.Load) (*loaders.Report, error) {
	path, conn := ld.Source.Path, ld.Conn
	defer dropRunsStage(ctx, conn)
	rep, err := w.stage(ctx, conn, path, ld.Stage)
	if err != nil {
		return nil, err
	}
	if ld.Strict && len(rep.Kept) > 0 {
		var what []string
		for _, k := range rep.Kept {
			what = append(what, fmt.Sprintf("%s (%s)", k.What, k.Reason))
		}
		return nil, &loaders.FileError{Path: path, Msg: "--strict: " + strings.Join(what, "; ")}
	}

	ld.Stage("writing wandb_runs")
	// A run another source already loaded stays that source's.
	taken, err := loaders.QueryStrings(ctx, conn, fmt.Sprintf(`SELECT s.run_id || ' (load ' || r.load_id || ')' FROM %s s JOIN wandb_runs r USING (run_id) ORDER BY s.run_id`, stageTable))
	if err != nil {
		return nil, err
	}
	if len(taken) > 0 {
		rep.Skip(loaders.FirstSourceKeeps("runs", "wandb_runs", taken))
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE run_id IN (SELECT run_id FROM wandb_runs)", stageTable)); err != nil {
			return nil, err
		}
	}
	n, err := insertRuns(ctx, conn, ld.ID)
	if err != nil {
		return nil, err
	}
	rep.Rows["wandb_runs"] = n
	ld.Stage("writing wandb_run_evals")
	ne, err := insertRunEvals(ctx, conn, ld.ID, rep)
	if err != nil {
		return nil, err
	}
	rep.Rows["wandb_run_evals"] = ne
	ld.Stage("deriving finetune_runs from the run names")
	nf, err := finetune.DeriveRuns(ctx, conn, ld.ID, rep)
	if err != nil {
		return nil, err
	}
	rep.Rows["finetune_runs"] = nf
	return rep, nil
}

func dropRunsStage(ctx context.Context, conn *sql.Conn) {
	conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("DROP TABLE IF EXISTS %[1]s; DROP TABLE IF EXISTS %[2]s; DROP TABLE IF EXISTS %[1]s_c; DROP TABLE IF EXISTS %[2]s_evals",
		stageTable, typedTable))
}

// stage reads a runs file (and its companions) into the staging and typed
// tables and reports what it found.
func (w Runs) stage(ctx context.Context, conn *sql.Conn, path string, stage func(string)) (*loaders.Report, error) {
	stage("reading the layout")
	lay, err := detectRuns(ctx, conn, path)
	if err != nil {
		return nil, err
	}
	jsonl := lay.variant == RunsNotebook || lay.variant == RunsV3
	rep := &loaders.Report{Variant: lay.variant, Rows: map[string]int64{}, Notes: lay.notes, Kept: lay.kept}
	stage("reading the runs")
	if jsonl {
		if err := checkRunsLines(ctx, conn, path, lay); err != nil {
			return nil, err
		}
	}
	if err := stageRuns(ctx, conn, stageTable, lay); err != nil {
		return nil, readError(path, jsonl, err)
	}
	if err := checkRunIDs(ctx, conn, path, stageTable, jsonl); err != nil {
		return nil, err
	}
	if !jsonl {
		comps, _ := w.Companions(path)
		for _, cp := range comps {
			if err := mergeCompanion(ctx, conn, cp, rep); err != nil {
				return nil, err
			}
		}
	}
	if err := blobReport(ctx, conn, path, lay, rep); err != nil {
		return nil, err
	}
	stage("deriving run fields")
	if err := deriveRunFields(ctx, conn, path, rep); err != nil {
		return nil, err
	}
	if err := typeVariation(ctx, conn, rep); err != nil {
		return nil, err
	}
	if err := typeRunColumns(ctx, conn, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// jsonTypeName names a json_type in messages.
func jsonTypeName(t string) string {
	switch t {
	case "ARRAY":
		return "a JSON array"
	case "OBJECT":
		return "a JSON object"
	case "VARCHAR":
		return "a JSON string"
	case "BOOLEAN":
		return "a JSON boolean"
	case "NULL", "":
		return "JSON null"
	}
	return "a JSON number"
}

// checkRunsLines refuses a runs JSONL line that is not a JSON object (in
// v3, whose run is not an object): read on, it would be a run without a
// run_id; and a line holding a number too small for a double, which
// DuckDB's JSON reader would store as 0.
func checkRunsLines(ctx context.Context, conn *sql.Conn, path string, lay *runsLayout) error {
	cond := "json_type(s.j) <> 'OBJECT'"
	if lay.variant == RunsV3 {
		cond += " OR json_type(s.j, '$.run') IS DISTINCT FROM 'OBJECT'"
	}
	var rec int64
	var t, rt sql.NullString
	err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT s.file_row_number + 1, json_type(s.j), CASE WHEN json_type(s.j) = 'OBJECT' THEN json_type(s.j, '$.run') END FROM %s WHERE %s ORDER BY 1 LIMIT 1",
		lay.from, cond)).Scan(&rec, &t, &rt)
	switch {
	case err == sql.ErrNoRows:
		return refuseTinyNumbers(ctx, path)
	case err != nil:
		return readError(path, true, err)
	}
	place := fmt.Sprintf("line %d", jsonlLine(path, rec))
	switch {
	case t.String != "OBJECT":
		return &loaders.FileError{Path: path, Place: place, Msg: jsonTypeName(t.String) + ", want an object (one run per line)"}
	case !rt.Valid:
		return &loaders.FileError{Path: path, Place: place, Msg: "no run: this layout's lines are {exported_at, run} objects"}
	}
	return &loaders.FileError{Path: path, Place: place, Msg: "run is " + jsonTypeName(rt.String) + ", want an object"}
}

// checkRunIDs refuses a file with a missing or repeated run id, naming
// the row (parquet, from 1) or the line (JSON lines).
func checkRunIDs(ctx context.Context, conn *sql.Conn, path, t string, jsonl bool) error {
	unit, at := "row", func(rec int64) int64 { return rec }
	if jsonl {
		unit, at = "line", func(rec int64) int64 { return jsonlLine(path, rec) }
	}
	var row sql.NullInt64
	err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT min(src_row) FROM %s WHERE run_id IS NULL OR trim(run_id) = ''", t)).Scan(&row)
	if err != nil {
		return err
	}
	if row.Valid {
		return &loaders.FileError{Path: path, Place: fmt.Sprintf("%s %d", unit, at(row.Int64+1)), Msg: "no run_id"}
	}
	var id string
	var rows []int64
	r, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT run_id, list(src_row + 1 ORDER BY src_row) FROM %s GROUP BY run_id HAVING count(*) > 1 ORDER BY min(src_row) LIMIT 1`, t))
	if err != nil {
		return err
	}
	defer r.Close()
	if r.Next() {
		var l []any
		if err := r.Scan(&id, &l); err != nil {
			return err
		}
		for _, v := range l {
			rows = append(rows, at(v.(int64)))
		}
		return &loaders.FileError{Path: path, Place: "run_id " + id, Msg: fmt.Sprintf("appears in %ss %v: one per run", unit, rows)}
	}
	return r.Err()
}

// mergeCompanion brings one runs_metadata_<component>.parquet into the
// staging table: its column fills the run's row where the main file has
// none; differing values are reported (the main file's kept); runs only in
// the companion get a row of their own.
func mergeCompanion(ctx context.Context, conn *sql.Conn, path string, rep *loaders.Report) error {
	lay, err := detectRuns(ctx, conn, path)
	if err != nil {
		return err
	}
	if lay.variant != RunsCompanion {
		return &loaders.FileError{Path: path, Msg: "named like a companion of the runs file beside it, but its layout is " + lay.variant}
	}
	ct := stageTable + "_c"
	if err := stageRuns(ctx, conn, ct, lay); err != nil {
		return readError(path, false, err)
	}
	if err := checkRunIDs(ctx, conn, path, ct, false); err != nil {
		return err
	}
	var blob string
	for _, b := range runsBlobs {
		if lay.exprs[b] != "" {
			blob = b
		}
	}
	b := dbschema.Ident(blob)
	var conflicts, added, filled int64
	err = conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT
		count(*) FILTER (WHERE m.run_id IS NOT NULL AND m.%[1]s IS NOT NULL AND c.%[1]s IS NOT NULL AND CAST(m.%[1]s AS VARCHAR) <> CAST(c.%[1]s AS VARCHAR)),
		count(*) FILTER (WHERE m.run_id IS NULL),
		count(*) FILTER (WHERE m.run_id IS NOT NULL AND m.%[1]s IS NULL AND c.%[1]s IS NOT NULL)
		FROM %[2]s c LEFT JOIN %[3]s m USING (run_id)`, b, ct, stageTable)).Scan(&conflicts, &added, &filled)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`UPDATE %[3]s m SET %[1]s = c.%[1]s FROM %[2]s c WHERE m.run_id = c.run_id AND m.%[1]s IS NULL;
		INSERT INTO %[3]s SELECT * FROM %[2]s WHERE run_id NOT IN (SELECT run_id FROM %[3]s)`, b, ct, stageTable)); err != nil {
		return err
	}
	base := filepath.Base(path)
	rep.Notes = append(rep.Notes, fmt.Sprintf("merged %s (%s): filled %d runs, added %d runs found only there", base, blob, filled, added))
	if conflicts > 0 {
		rep.Kept = append(rep.Kept, loaders.Skip{What: fmt.Sprintf("%s of %s", blob, base), Count: conflicts,
			Reason: "differs from the runs file's value for the same run: the runs file's value was loaded"})
	}
	return nil
}

// blobReport says which JSON columns held Python str() text or "nan".
func blobReport(ctx context.Context, conn *sql.Conn, path string, lay *runsLayout, rep *loaders.Report) error {
	for _, b := range runsBlobs {
		var notJSON int64
		var example sql.NullString
		err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*), any_value(left(%[1]s->>'$', 60)) FROM %[2]s WHERE json_type(%[1]s) = 'VARCHAR'`,
			dbschema.Ident(b), stageTable)).Scan(&notJSON, &example)
		if err != nil {
			return err
		}
		if notJSON > 0 {
			rep.Kept = append(rep.Kept, loaders.Skip{What: "column " + b, Count: notJSON,
				Reason: fmt.Sprintf("text that is not JSON (e.g. %q, a Python str()): kept as a JSON string", example.String)})
		}
	}
	if col, ok := lay.textBlobs["tags text"]; ok {
		var bad int64
		var ex sql.NullString
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*), any_value(left(%[1]s, 60)) FROM %[2]s WHERE %[1]s IS NOT NULL AND (NOT json_valid(%[1]s) OR json_type(%[1]s) <> 'ARRAY')",
			col, lay.from)).Scan(&bad, &ex); err != nil {
			return readError(path, false, err)
		}
		if bad > 0 {
			rep.Skipped = append(rep.Skipped, loaders.Skip{What: "column tags", Count: bad, Reason: fmt.Sprintf("not a JSON list (e.g. %q): tags left NULL", ex.String)})
		}
	}
	for _, b := range runsBlobs {
		col, ok := lay.textBlobs[b]
		if !ok {
			continue
		}
		var nan int64
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s = 'nan'", lay.from, col)).Scan(&nan); err != nil {
			return readError(path, lay.variant == RunsNotebook || lay.variant == RunsV3, err)
		}
		if nan > 0 {
			rep.Skipped = append(rep.Skipped, loaders.Skip{What: "column " + b, Count: nan, Reason: `the string "nan" (pandas' mark of a missing value): loaded as NULL`})
		}
	}
	return nil
}

// pathSegment escapes text x as one segment of a URL path (RFC 3986): every
// byte but the unreserved characters, the sub-delimiters, ':' and '@' is
// percent-encoded, so a '/', '?', '#', '%', space or non-ASCII letter in an
// entity, project or run id stays inside its segment.
func pathSegment(x string) string {
	e := "url_encode(" + x + ")"
	for _, c := range "!$&'()*+,;=:@" {
		e = fmt.Sprintf("replace(%s, '%%%02X', %s)", e, c, dbschema.Literal(string(c)))
	}
	return e
}

// deriveRunFields fills what the layout has no column for from the raw run
// record (system_attrs), unwraps a wrapped config, derives the url, and
// checks the times.
func deriveRunFields(ctx context.Context, conn *sql.Conn, path string, rep *loaders.Report) error {
	t := dbschema.Ident(stageTable)
	sa := func(p string) string { return fmt.Sprintf("system_attrs->>%s", dbschema.Literal(p)) }
	_, err := conn.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET
		display_name = coalesce(display_name, %s),
		created_at = coalesce(created_at, %s),
		updated_at = coalesce(updated_at, %s),
		heartbeat_at = coalesce(heartbeat_at, %s),
		tags = coalesce(tags, CASE WHEN json_type(system_attrs, '$.tags') = 'ARRAY' THEN CAST(system_attrs->'$.tags' AS VARCHAR[]) END),
		run_group = coalesce(run_group, %s),
		job_type = coalesce(job_type, %s),
		user_name = coalesce(user_name, %s, %s),
		git_commit = coalesce(git_commit, %s),
		history_line_count = coalesce(history_line_count, %s),
		url = coalesce(url, CASE WHEN entity IS NOT NULL AND project IS NOT NULL THEN 'https://wandb.ai/' || %s || '/' || %s || '/runs/' || %s END)`,
		t, sa("$.displayName"), sa("$.createdAt"), sa("$.updatedAt"), sa("$.heartbeatAt"), sa("$.group"), sa("$.jobType"),
		sa("$.user.username"), sa("$.user.name"), sa("$.commit"), sa("$.historyLineCount"),
		pathSegment("entity"), pathSegment("project"), pathSegment("run_id")))
	if err != nil {
		return err
	}
	for _, f := range []string{"created_at", "updated_at", "heartbeat_at"} {
		var id, val sql.NullString
		err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT run_id, %[1]s FROM %[2]s WHERE NOT %[3]s AND %[4]s IS NULL ORDER BY src_row LIMIT 1",
			dbschema.Ident(f), t, tsMissing(dbschema.Ident(f)), tsCast(dbschema.Ident(f)))).Scan(&id, &val)
		if err == nil {
			msg := fmt.Sprintf("%q is not a time", val.String)
			if _, perr := strconv.ParseFloat(strings.TrimSpace(val.String), 64); perr == nil || errors.Is(perr, strconv.ErrRange) {
				msg += " (as epoch seconds it is beyond a timestamp's range)"
			}
			return &loaders.FileError{Path: path, Place: "run " + id.String + ", " + f, Msg: msg}
		} else if err != sql.ErrNoRows {
			return err
		}
	}
	var id, val sql.NullString
	err = conn.QueryRowContext(ctx, fmt.Sprintf("SELECT run_id, history_line_count FROM %s WHERE history_line_count IS NOT NULL AND (TRY_CAST(history_line_count AS DOUBLE) IS NULL OR TRY_CAST(history_line_count AS DOUBLE) <> trunc(TRY_CAST(history_line_count AS DOUBLE))) ORDER BY src_row LIMIT 1", t)).Scan(&id, &val)
	if err == nil {
		return &loaders.FileError{Path: path, Place: "run " + id.String + ", historyLineCount", Msg: fmt.Sprintf("%q is not a count", val.String)}
	} else if err != sql.ErrNoRows {
		return err
	}

	// W&B's raw config wraps every value as {"value": v, "desc": …}.
	res, err := conn.ExecContext(ctx, fmt.Sprintf(`UPDATE %[1]s m SET config = u.cfg FROM (
		SELECT run_id, to_json(map_from_entries(list_transform(es, e -> struct_pack(key := e.key, value := e.value->'$.value')))) AS cfg
		FROM (SELECT run_id, %[2]s AS es FROM %[1]s)
		WHERE len(es) > 0 AND list_bool_and(list_transform(es, e -> json_type(e.value) = 'OBJECT'
			AND list_contains(json_keys(e.value), 'value') AND list_has_all(['value', 'desc'], json_keys(e.value))))
	) u WHERE m.run_id = u.run_id`, t, objectEntries("config")))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("config of %d runs was wrapped ({\"value\": …, \"desc\": …} per key): unwrapped", n))
	}
	return nil
}

// objectEntries is the (key, value) entries of the JSON object x, in order,
// as STRUCT(key VARCHAR, value JSON)[] (a null value as JSON null, as
// json_each gives it); empty when x is not an object. DuckDB's json_each
// costs the square of an object's keys (10,000 config keys: seconds and
// gigabytes); a cast to MAP(VARCHAR, JSON) reads the object once.
func objectEntries(x string) string {
	return fmt.Sprintf(`CASE WHEN json_type(%[1]s) = 'OBJECT' THEN list_transform(map_entries(CAST(%[1]s AS MAP(VARCHAR, JSON))),
		kv_ -> {'key': kv_.key, 'value': coalesce(kv_.value, 'null'::JSON)}) ELSE CAST([] AS %[2]s) END`, x, xbType)
}

// jsonClass names the type of a JSON value for reports.
const jsonClass = `CASE %[1]s WHEN 'BIGINT' THEN 'integer' WHEN 'UBIGINT' THEN 'integer'
	WHEN 'DOUBLE' THEN CASE WHEN regexp_matches(CAST(%[2]s AS VARCHAR), '^-?[0-9]+$') THEN 'integer' ELSE 'float' END
	WHEN 'VARCHAR' THEN 'string' WHEN 'BOOLEAN' THEN 'boolean' WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'array' END`

// typeVariation reports every config and summary key whose type varies.
func typeVariation(ctx context.Context, conn *sql.Conn, rep *loaders.Report) error {
	q := fmt.Sprintf(`WITH kv AS (
		SELECT 'config.' || e.key AS k, e.value AS v, json_type(e.value) AS t FROM (SELECT unnest(%[2]s) AS e FROM %[1]s)
		UNION ALL
		SELECT 'summary.' || e.key, e.value, json_type(e.value) FROM (SELECT unnest(%[3]s) AS e FROM %[1]s)
	), e AS (SELECT k, `+fmt.Sprintf(jsonClass, "t", "v")+` AS cls FROM kv WHERE t <> 'NULL'
	), c AS (SELECT k, cls, count(*) AS n FROM e GROUP BY k, cls)
	SELECT k, cls, n FROM c WHERE k IN (SELECT k FROM c GROUP BY k HAVING count(*) > 1) ORDER BY k, cls`, dbschema.Ident(stageTable), objectEntries("config"), objectEntries("summary"))
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k, cls string
		var n int64
		if err := rows.Scan(&k, &cls, &n); err != nil {
			return err
		}
		if len(rep.Varying) == 0 || rep.Varying[len(rep.Varying)-1].Key != k {
			rep.Varying = append(rep.Varying, loaders.VaryingKey{Key: k, Counts: map[string]int64{}})
		}
		rep.Varying[len(rep.Varying)-1].Counts[cls] = n
	}
	return rows.Err()
}

// exactCast casts JSON value x to typ only where the value is exact: a
// float with a fraction is not a BIGINT, an integer beyond 2^53 (or 1e400)
// is not a DOUBLE. Anything else gives NULL (and the value stays in the JSON).
func exactCast(x, typ string) string {
	s := fmt.Sprintf("CAST(%s AS VARCHAR)", x)
	t := fmt.Sprintf("json_type(%s)", x)
	intText := fmt.Sprintf("regexp_matches(%s, '^-?[0-9]+$')", s)
	switch typ {
	case "DOUBLE":
		return fmt.Sprintf(`CASE WHEN %[2]s IN ('BIGINT', 'UBIGINT') OR (%[2]s = 'DOUBLE' AND %[3]s) THEN
				CASE WHEN CAST(TRY_CAST(%[1]s AS HUGEINT) AS DOUBLE) = TRY_CAST(%[1]s AS HUGEINT) AND CAST(CAST(TRY_CAST(%[1]s AS HUGEINT) AS DOUBLE) AS HUGEINT) = TRY_CAST(%[1]s AS HUGEINT) THEN CAST(%[1]s AS DOUBLE) END
			WHEN %[2]s = 'DOUBLE' THEN CASE WHEN %[1]s IN ('NaN', 'Infinity', '-Infinity') OR NOT isinf(TRY_CAST(%[1]s AS DOUBLE)) THEN TRY_CAST(%[1]s AS DOUBLE) END END`, s, t, intText)
	case "BIGINT":
		return fmt.Sprintf(`CASE WHEN %[2]s IN ('BIGINT', 'UBIGINT') OR (%[2]s = 'DOUBLE' AND %[3]s) THEN TRY_CAST(%[1]s AS BIGINT)
			WHEN %[2]s = 'DOUBLE' THEN CASE WHEN TRY_CAST(%[1]s AS DOUBLE) = trunc(TRY_CAST(%[1]s AS DOUBLE)) AND abs(TRY_CAST(%[1]s AS DOUBLE)) <= 9007199254740992 THEN CAST(TRY_CAST(%[1]s AS DOUBLE) AS BIGINT) END END`, s, t, intText)
	}
	return fmt.Sprintf(`CASE WHEN %[2]s = 'VARCHAR' THEN %[1]s->>'$' WHEN %[2]s = 'NULL' THEN NULL ELSE %[3]s END`, x, t, s)
}

// typeRunColumns computes the typed columns and reports the values that
// could not be cast exactly (they stay in the JSON).
func typeRunColumns(ctx context.Context, conn *sql.Conn, rep *loaders.Report) error {
	sel := []string{"run_id"}
	var checks []string
	for _, c := range runsTyped {
		x := fmt.Sprintf("json_extract(CASE WHEN json_type(%s) = 'OBJECT' THEN %s END, %s)", c.blob, c.blob, jsonPath(c.key))
		col := dbschema.Ident(c.column)
		sel = append(sel, fmt.Sprintf("%s AS %s", exactCast(x, c.typ), col), fmt.Sprintf("%s AS %s", x, dbschema.Ident(c.column+"__raw")))
		checks = append(checks, fmt.Sprintf("SELECT %s AS col, count(*) AS n, any_value(left(CAST(%s AS VARCHAR), 40)) AS ex FROM %s WHERE %s IS NULL AND json_type(%s) <> 'NULL'",
			dbschema.Literal(c.blob+"."+c.key+"|"+c.typ), dbschema.Ident(c.column+"__raw"), typedTable, col, dbschema.Ident(c.column+"__raw")))
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT %s FROM %s", typedTable, strings.Join(sel, ", "), stageTable)); err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, strings.Join(checks, "\nUNION ALL\n")+"\nORDER BY col")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var col string
		var n int64
		var ex sql.NullString
		if err := rows.Scan(&col, &n, &ex); err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		key, typ, _ := strings.Cut(col, "|")
		rep.Kept = append(rep.Kept, loaders.Skip{What: key, Count: n,
			Reason: fmt.Sprintf("not exactly a %s (e.g. %s): column left NULL, the value kept in the JSON", typ, ex.String)})
	}
	return rows.Err()
}

// runsSelect is the SELECT of wandb_runs rows from the staged and typed
// tables, with cols its column list.
func runsSelect(loadID int64) (cols []string, sel string) {
	var exprs []string
	typed := map[string]bool{}
	for _, c := range runsTyped {
		typed[c.column] = true
	}
	for _, c := range gen.WandbRunColumns {
		cols = append(cols, dbschema.Ident(c))
		q := dbschema.Ident(c)
		switch {
		case c == "load_id":
			exprs = append(exprs, fmt.Sprint(loadID))
		case typed[c]:
			exprs = append(exprs, "t."+q)
		case c == "created_at" || c == "updated_at" || c == "heartbeat_at":
			exprs = append(exprs, tsCast("s."+q))
		case c == "history_line_count":
			exprs = append(exprs, "CAST(TRY_CAST(s.history_line_count AS DOUBLE) AS BIGINT)")
		default:
			exprs = append(exprs, "s."+q)
		}
		exprs[len(exprs)-1] += " AS " + q
	}
	return cols, fmt.Sprintf("SELECT %s FROM %s s JOIN %s t USING (run_id) ORDER BY s.src_row", strings.Join(exprs, ", "), stageTable, typedTable)
}

func insertRuns(ctx context.Context, conn *sql.Conn, loadID int64) (int64, error) {
	cols, sel := runsSelect(loadID)
	res, err := conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO wandb_runs (%s) %s", strings.Join(cols, ", "), sel))
	if err != nil {
		return 0, fmt.Errorf("insert into wandb_runs: %w", err)
	}
	return res.RowsAffected()
}

// insertRunEvals writes one row per (run, task, metric) of the summary's
// oe_eval_metrics, flat (oe_eval_metrics/<task>/<metric>) or nested
// (oe_eval_metrics/<task> objects). A result given both ways is written
// once, the nested value kept; a disagreement is reported.
func insertRunEvals(ctx context.Context, conn *sql.Conn, loadID int64, rep *loaders.Report) (int64, error) {
	if err := stageRunEvals(ctx, conn, rep); err != nil {
		return 0, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("DROP TABLE IF EXISTS %s_evals", typedTable))
	res, err := conn.ExecContext(ctx, fmt.Sprintf(`INSERT INTO wandb_run_evals (run_id, task, metric, value, value_json, load_id)
		SELECT run_id, task, metric, value, value_json, %d FROM %s_evals WHERE run_id IN (SELECT run_id FROM %s) ORDER BY run_id, task, metric`, loadID, typedTable, stageTable))
	if err != nil {
		return 0, fmt.Errorf("insert into wandb_run_evals: %w", err)
	}
	return res.RowsAffected()
}

// stageRunEvals fills <typed>_evals with the eval results of the staged runs.
func stageRunEvals(ctx context.Context, conn *sql.Conn, rep *loaders.Report) error {
	q := fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %[2]s_evals AS
	WITH top AS (
		SELECT run_id, e.key, e.value, json_type(e.value) AS type
		FROM (SELECT run_id, unnest(list_filter(%[3]s, e -> starts_with(e.key, 'oe_eval_metrics/'))) AS e FROM %[1]s)
	), flat AS (
		SELECT run_id, split_part(substr(key, 17), '/', 1) AS task, substr(key, 18 + length(split_part(substr(key, 17), '/', 1))) AS metric,
			value, type, 1 AS pri FROM top WHERE contains(substr(key, 17), '/')
	), nested AS (
		SELECT run_id, task, m.key AS metric, m.value, json_type(m.value) AS type, 0 AS pri
		FROM (SELECT t.run_id, substr(t.key, 17) AS task, unnest(%[4]s) AS m FROM top t WHERE t.type = 'OBJECT' AND NOT contains(substr(t.key, 17), '/'))
	), lone AS (
		SELECT run_id, substr(key, 17) AS task, '' AS metric, value, type, 0 AS pri FROM top WHERE type <> 'OBJECT' AND NOT contains(substr(key, 17), '/')
	), allv AS (SELECT * FROM flat UNION ALL SELECT * FROM nested UNION ALL SELECT * FROM lone)
	SELECT run_id, task, metric, won.num AS value, won.json AS value_json, n, nd FROM (SELECT run_id, task, metric,
		arg_min({'num': CASE WHEN type IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN TRY_CAST(CAST(value AS VARCHAR) AS DOUBLE) END,
			'json': CASE WHEN type NOT IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN value END}, pri) AS won,
		count(*) AS n,
		count(DISTINCT coalesce(CAST(CASE WHEN type IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN TRY_CAST(CAST(value AS VARCHAR) AS DOUBLE) END AS VARCHAR), CAST(value AS VARCHAR))) AS nd
	FROM allv GROUP BY run_id, task, metric) g`, stageTable, typedTable, objectEntries("summary"), objectEntries("t.value"))
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("read oe_eval_metrics: %w", err)
	}
	var both, differ int64
	if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FILTER (WHERE n > 1), count(*) FILTER (WHERE nd > 1) FROM %s_evals`, typedTable)).Scan(&both, &differ); err != nil {
		return err
	}
	if both > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d eval results were in the summary both flat and nested: written once", both))
	}
	if differ > 0 {
		rep.Kept = append(rep.Kept, loaders.Skip{What: "eval results given flat and nested with different values", Count: differ,
			Reason: "the nested value was written; both stay in wandb_runs.summary"})
	}
	return nil
}
