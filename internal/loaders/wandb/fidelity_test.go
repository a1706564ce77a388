package wandb_test

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// notebookRun is one line of a notebook runs JSONL; fields overrides keys
// (raw JSON values) of a minimal run.
func notebookRun(id string, fields map[string]string) string {
	keys := []string{"run_id", "run_name", "state", "project", "entity", "created_at", "config", "summary", "wandb_metadata", "system_metrics", "system_attrs", "sweep_info"}
	vals := map[string]string{"run_id": `"` + id + `"`, "run_name": `"` + id + `"`, "state": `"finished"`, "project": `"p"`, "entity": `"e"`,
		"created_at": `"2025-08-19T05:36:01Z"`, "config": "{}", "summary": "{}", "wandb_metadata": "{}", "system_metrics": "{}", "system_attrs": "{}", "sweep_info": "{}"}
	for k, v := range fields {
		vals[k] = v
	}
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%q: %s", k, vals[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}\n"
}

// historyRow is one line of a v3 history JSONL.
func historyRow(run string, step int, timestamp, metrics string) string {
	return fmt.Sprintf(`{"run_id": %q, "step": %d, "timestamp": %s, "runtime": 1, "wandb_metadata": null, "metrics": %s, "extra": {}}`+"\n", run, step, timestamp, metrics)
}

// TestJSONLByteOrderMark: a JSONL file that starts with a UTF-8 byte order
// mark, which DuckDB's JSON reader refuses, is refused naming the mark
// (the loaders read files as they are, and do not rewrite them).
func TestJSONLByteOrderMark(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ kind, line string }{
		{"wandb-runs", notebookRun("r", nil)},
		{"wandb-history", historyRow("r", 0, `"1.5"`, `{"a": 1}`)},
	} {
		t.Run(c.kind, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			p := filepath.Join(t.TempDir(), "bom.jsonl")
			loadertest.WriteFile(t, p, "\ufeff"+c.line)
			v.LoadFails(c.kind, p, loaders.Options{}, "line 1 (byte 0)", "starts with a UTF-8 byte order mark (bytes EF BB BF)")
		})
	}
}

// TestRunsJSONLLineNotAnObject: a runs JSONL line that is not an object
// (or, in v3, whose run is not) is named by its line, blank lines counted,
// and said what it is; so is a line without a run_id.
func TestRunsJSONLLineNotAnObject(t *testing.T) {
	t.Parallel()
	v3 := func(run string) string { return `{"exported_at": "2026-02-01T10:00:00Z", "run": ` + run + "}\n" }
	for _, c := range []struct {
		name, data, place, msg string
	}{
		{"array", notebookRun("a", nil) + "[1, 2]\n", "line 2", "a JSON array, want an object"},
		{"number", notebookRun("a", nil) + "42\n", "line 2", "a JSON number, want an object"},
		{"string after a blank line", notebookRun("a", nil) + "\n" + `"x"` + "\n", "line 3", "a JSON string, want an object"},
		{"no run_id after a blank line", notebookRun("a", nil) + "\n" + notebookRun("b", map[string]string{"run_id": "null"}), "line 3", "no run_id"},
		{"v3 run an array", v3(`{"run_id": "a", "name": "a", "config": {}}`) + v3("[1]"), "line 2", "run is a JSON array, want an object"},
		{"v3 without run", v3(`{"run_id": "a", "name": "a", "config": {}}`) + `{"exported_at": "x"}` + "\n", "line 2", "no run: this layout's lines are {exported_at, run} objects"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			p := filepath.Join(t.TempDir(), "runs.jsonl")
			loadertest.WriteFile(t, p, c.data)
			v.LoadFails("wandb-runs", p, loaders.Options{}, c.place, c.msg)
		})
	}
	v := loadertest.NewEnv(t)
	p := filepath.Join(t.TempDir(), "runs.jsonl")
	loadertest.WriteFile(t, p, notebookRun("a", nil)+"\n"+notebookRun("b", nil)+notebookRun("a", nil))
	v.LoadFails("wandb-runs", p, loaders.Options{}, "run_id a", "appears in lines [1 4]: one per run")
}

// TestEpochTimes: runs read epoch seconds in created_at as the history
// loader reads them (a number, or a number as text, in JSONL or a parquet
// number column); epoch seconds beyond a timestamp's range are refused
// naming the run and the value, not with DuckDB's conversion error.
func TestEpochTimes(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs.jsonl")
	loadertest.WriteFile(t, runs, notebookRun("n", map[string]string{"created_at": "1755581965.5"})+notebookRun("s", map[string]string{"created_at": `"1755581965"`}))
	v.LoadKind("wandb-runs", runs, loaders.Options{})
	hist := filepath.Join(dir, "history.jsonl")
	loadertest.WriteFile(t, hist, historyRow("n", 0, "1755581965.5", "{}")+historyRow("s", 0, `"1755581965"`, "{}"))
	v.LoadKind("wandb-history", hist, loaders.Options{})
	for run, want := range map[string]string{"n": "2025-08-19 05:39:25.5+00", "s": "2025-08-19 05:39:25+00"} {
		if got := v.Scalar("SELECT r.created_at::VARCHAR || ' = ' || h.logged_at::VARCHAR FROM wandb_runs r JOIN wandb_history h USING (run_id) WHERE run_id = ?", run); got != want+" = "+want {
			t.Errorf("run %s: created_at = logged_at: %s, want %s both", run, got, want)
		}
	}
	pq := filepath.Join(dir, "runs_metadata.parquet")
	v.Exec(fmt.Sprintf(`COPY (SELECT 'q' AS run_id, 'q' AS run_name, 'finished' AS state, 'p' AS project, 'e' AS entity, 1755581965.25::DOUBLE AS created_at,
		'{}' AS config, '{}' AS summary, '{}' AS wandb_metadata, '{}' AS system_metrics, '{}' AS system_attrs, '{}' AS sweep_info) TO '%s' (FORMAT parquet)`, pq))
	v.LoadKind("wandb-runs", pq, loaders.Options{})
	if got := v.Scalar("SELECT created_at::VARCHAR FROM wandb_runs WHERE run_id = 'q'"); got != "2025-08-19 05:39:25.25+00" {
		t.Errorf("epoch seconds in a parquet number column: %s", got)
	}

	for _, c := range []struct{ name, kind, data, msg string }{
		// DuckDB's JSON reader gives a number's text as it renders it.
		{"runs JSONL number", "wandb-runs", notebookRun("big", map[string]string{"created_at": "1e20"}), `"100000000000000000000.0" is not a time (as epoch seconds it is beyond a timestamp's range)`},
		{"runs JSONL text", "wandb-runs", notebookRun("big", map[string]string{"created_at": `"-1e15"`}), `"-1e15" is not a time (as epoch seconds it is beyond a timestamp's range)`},
		{"history number", "wandb-history", historyRow("big", 0, "1e20", "{}"), "run big: timestamp 1e+20 is not a time (as epoch seconds it is beyond a timestamp's range)"},
		{"history text", "wandb-history", historyRow("big", 0, `"1e20"`, "{}"), "run big: timestamp 1e20 is not a time (as epoch seconds it is beyond a timestamp's range)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			p := filepath.Join(t.TempDir(), "f.jsonl")
			loadertest.WriteFile(t, p, c.data)
			place := ""
			if c.kind == "wandb-runs" {
				place = "run big, created_at"
			}
			v.LoadFails(c.kind, p, loaders.Options{}, place, c.msg)
		})
	}
	t.Run("runs parquet number", func(t *testing.T) {
		v := loadertest.NewEnv(t)
		p := filepath.Join(t.TempDir(), "runs_metadata.parquet")
		v.Exec(fmt.Sprintf(`COPY (SELECT 'big' AS run_id, 'big' AS run_name, 'finished' AS state, 'p' AS project, 'e' AS entity, 1e20::DOUBLE AS created_at,
			'{}' AS config, '{}' AS summary, '{}' AS wandb_metadata, '{}' AS system_metrics, '{}' AS system_attrs, '{}' AS sweep_info) TO '%s' (FORMAT parquet)`, p))
		v.LoadFails("wandb-runs", p, loaders.Options{}, "run big, created_at", `"1e+20" is not a time (as epoch seconds it is beyond a timestamp's range)`)
	})
}

// TestDerivedURLEscaped: the url derived from entity, project and run id
// percent-encodes what would leave its path segment (RFC 3986), and keeps
// what a segment may hold ('=' in this lab's run ids).
func TestDerivedURLEscaped(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	p := filepath.Join(t.TempDir(), "runs.jsonl")
	loadertest.WriteFile(t, p, notebookRun("x?y#z%é=1 +", map[string]string{"entity": `"my lab"`, "project": `"a/b"`})+notebookRun("lr=5e-07_seed:1@main", nil))
	v.LoadKind("wandb-runs", p, loaders.Options{})
	for run, want := range map[string]string{
		"x?y#z%é=1 +":          "https://wandb.ai/my%20lab/a%2Fb/runs/x%3Fy%23z%25%C3%A9=1%20+",
		"lr=5e-07_seed:1@main": "https://wandb.ai/e/p/runs/lr=5e-07_seed:1@main",
	} {
		if got := v.Scalar("SELECT url FROM wandb_runs WHERE run_id = ?", run); got != want {
			t.Errorf("url of %q = %s, want %s", run, got, want)
		}
	}
}

// TestSourceTZ: --source-tz applies to the naive local times of the
// canonical history; given for a layout without naive times it is refused
// (it would do nothing); without it the summary says the times were read
// as UTC; local times at a daylight-saving change are counted in a note.
func TestSourceTZ(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hist := filepath.Join(dir, "history.jsonl")
	loadertest.WriteFile(t, hist, historyRow("r", 0, `"1.5"`, `{"a": 1}`))
	runs := filepath.Join(dir, "runs.jsonl")
	loadertest.WriteFile(t, runs, notebookRun("r", nil))
	ny := loaders.Options{SourceTZ: "America/New_York"}
	t.Run("JSONL refuses", func(t *testing.T) {
		v := loadertest.NewEnv(t)
		v.LoadFails("wandb-history", hist, ny, "", "--source-tz America/New_York: this layout (history v3 JSONL (timestamp a string holding a float)) has no naive local times")
	})
	t.Run("runs refuse", func(t *testing.T) {
		// The engine refuses an option the kind's loader does not declare
		// (loaders.OptionReader): W&B runs files hold UTC times.
		v := loadertest.NewEnv(t)
		_, err := v.E.Load(v.Ctx, "wandb-runs", runs, ny)
		if want := "--source-tz is for wandb-history (the canonical runs_history.parquet's naive times), not for wandb-runs"; err == nil || err.Error() != want {
			t.Errorf("Load(runs.jsonl, --source-tz) = %v, want %q", err, want)
		}
		if n := v.Scalar("SELECT count(*) FROM dschema_loads"); n != "0" {
			t.Errorf("dschema_loads has %s rows after a refused load", n)
		}
	})
	v := loadertest.NewEnv(t)
	pq := filepath.Join(dir, "runs_history.parquet")
	// 02:30 on 9 March 2025 never happened in New York; 01:30 on 2 November happened twice.
	v.CanonicalHistory(pq, "2025-03-09 01:59:59", "2025-03-09 02:30:00", "2025-11-02 01:30:00", "2025-11-02 03:00:00")
	s := v.LoadKind("wandb-history", pq, loaders.Options{})
	if notes := strings.Join(s.Notes, "\n"); !strings.Contains(notes, "no --source-tz was given: loaded as UTC") || strings.Contains(notes, "daylight-saving") {
		t.Errorf("notes without --source-tz: %s", notes)
	}
	s = v.LoadKind("wandb-history", pq, ny)
	want := "timestamps at a daylight-saving change of America/New_York: 1 in an overlap (local times that happened twice: read as the later instant); 1 in a gap (local times that never happened: read with the offset before the change)"
	if notes := strings.Join(s.Notes, "\n"); !strings.Contains(notes, want) || !strings.Contains(notes, "timestamps read as local time in America/New_York") {
		t.Errorf("notes with --source-tz: %s\nwant %s", notes, want)
	}
	if got := v.Scalar("SELECT string_agg(strftime(logged_at AT TIME ZONE 'UTC', '%m-%d %H:%M:%S'), ', ' ORDER BY seq) FROM wandb_history"); got != "03-09 06:59:59, 03-09 07:30:00, 11-02 06:30:00, 11-02 08:00:00" {
		t.Errorf("logged_at (UTC): %s", got)
	}
}

// TestJSONColumnsReadByAClient does what the README tells a duckdb-go
// client to do with JSON columns that hold NaN or Infinity tokens (which
// Go's encoding/json, and so a scan of the JSON column itself, refuses):
// read the column as text, or a value through DuckDB's JSON functions.
func TestJSONColumnsReadByAClient(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	v.LoadKind("wandb-runs", filepath.Join(loadertest.WandbSample(t), "runs_metadata.parquet"), loaders.Options{})
	run0 := fixtures.RunName(0)
	var config string
	if err := v.DB.QueryRowContext(v.Ctx, "SELECT config::VARCHAR FROM wandb_runs WHERE run_id = ?", run0).Scan(&config); err != nil {
		t.Fatalf("scan config::VARCHAR: %v", err)
	}
	if !strings.Contains(config, `"pretrain_eval/socialiqa/acc_7": NaN`) {
		t.Errorf("config as text lacks the NaN token: %.200s…", config)
	}
	var acc float64
	var peak string
	if err := v.DB.QueryRowContext(v.Ctx, `SELECT CAST(config->'$."pretrain_eval/socialiqa/acc_7"' AS DOUBLE), summary->>'$.throughput_peak' FROM wandb_runs WHERE run_id = ?`, run0).Scan(&acc, &peak); err != nil {
		t.Fatalf("scan one value: %v", err)
	}
	if !math.IsNaN(acc) || peak != "Infinity" {
		t.Errorf("values read through DuckDB: %v, %q; want NaN, Infinity", acc, peak)
	}
}

// TestParquetJSONKeptByteForByte: a parquet layout's JSON strings are
// stored byte for byte (Python's ", " separators, \u escapes, NaN tokens,
// odd spacing, 1.50 and integers no double holds), compared as bytes
// (the string "nan", pandas' missing value, is NULL, and reported).
func TestParquetJSONKeptByteForByte(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	dir := t.TempDir()
	odd := filepath.Join(dir, "runs_metadata.parquet")
	v.Exec(fmt.Sprintf(`COPY (SELECT 'odd' AS run_id, 'odd' AS run_name, 'finished' AS state, 'p' AS project, 'e' AS entity, '2025-08-19T05:36:01Z' AS created_at,
		'{ "a" :1.50,"b":[1 , 2],  "c": "caf\u00e9 \/ é", "d": NaN, "e": -Infinity, "f": 123456789012345678901234, "g": 1e400 }' AS config,
		'{"x": {"y": [ ]}}' AS summary, '[]' AS wandb_metadata, '"text"' AS system_metrics, '{}' AS system_attrs, 'null' AS sweep_info) TO '%s' (FORMAT parquet)`, odd))
	for _, p := range []string{filepath.Join(loadertest.WandbSample(t), "runs_metadata.parquet"), odd} {
		v.LoadKind("wandb-runs", p, loaders.Options{})
		var compared int
		var escapes, nan bool
		for _, col := range []string{"config", "summary", "wandb_metadata", "system_metrics", "system_attrs", "sweep_info"} {
			rows, err := v.DB.QueryContext(v.Ctx, fmt.Sprintf(`SELECT p.run_id, p.%[1]s, CAST(r.%[1]s AS VARCHAR) FROM read_parquet('%[2]s') p JOIN wandb_runs r USING (run_id)
				WHERE p.%[1]s IS NOT NULL AND p.%[1]s <> 'nan' AND json_valid(p.%[1]s)`, col, p))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id string
				var file, db []byte
				if err := rows.Scan(&id, &file, &db); err != nil {
					t.Fatal(err)
				}
				compared++
				escapes = escapes || bytes.Contains(file, []byte(`\u00e9`))
				nan = nan || bytes.Contains(file, []byte(`: NaN`))
				if !bytes.Equal(file, db) {
					t.Errorf("%s %s: stored %.120q, the file holds %.120q", id, col, db, file)
				}
			}
			rows.Close()
		}
		if compared < 6 || !escapes || !nan {
			t.Errorf("%s: %d cells compared (escapes %v, NaN %v): the test proves little", filepath.Base(p), compared, escapes, nan)
		}
	}
}
