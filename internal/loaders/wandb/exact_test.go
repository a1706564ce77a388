package wandb_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// TestRunsIntegersBeyondDoubles: a typed DOUBLE column takes an integer
// only where a double holds it exactly (2^53 does, 2^53+1 does not: it
// stays in the JSON, named), and the type report counts integers too big
// for a 64-bit integer as integers, not floats.
func TestRunsIntegersBeyondDoubles(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	p := filepath.Join(t.TempDir(), "runs.jsonl")
	huge := "123456789012345678901234"
	loadertest.WriteFile(t, p, notebookRun("r1", map[string]string{"config": `{"pretrain_tokens": 9007199254740992, "big": ` + huge + `, "x": 1.5}`})+
		notebookRun("r2", map[string]string{"config": `{"pretrain_tokens": 9007199254740993, "big": 5, "x": ` + huge + `}`})+
		notebookRun("r3", map[string]string{"config": `{"pretrain_tokens": -9007199254740993, "big": -` + huge + `, "x": 2}`}))
	s := v.LoadKind("wandb-runs", p, loaders.Options{})
	for run, want := range map[string]string{"r1": "9007199254740992", "r2": "NULL", "r3": "NULL"} {
		if got := v.Scalar("SELECT coalesce(CAST(CAST(pretrain_tokens AS HUGEINT) AS VARCHAR), 'NULL') FROM wandb_runs WHERE run_id = ?", run); got != want {
			t.Errorf("%s: pretrain_tokens = %s, want %s", run, got, want)
		}
	}
	if got := v.Scalar("SELECT CAST(config->'$.pretrain_tokens' AS VARCHAR) FROM wandb_runs WHERE run_id = 'r2'"); got != "9007199254740993" {
		t.Errorf("r2's value in the JSON: %s", got)
	}
	if kept := loadertest.KeptText(s); !strings.Contains(kept, `{"what":"config.pretrain_tokens","count":2,"reason":"not exactly a DOUBLE`) {
		t.Errorf("kept does not name the inexact integers: %s", kept)
	}
	vary := map[string]string{}
	for _, k := range s.Varying {
		vary[k.Key] = k.String()
	}
	if _, ok := vary["config.big"]; ok {
		t.Errorf("config.big holds integers only, reported as varying: %s", vary["config.big"])
	}
	if vary["config.x"] != "config.x (float 1, integer 2)" {
		t.Errorf("config.x = %q, want float 1, integer 2 (all: %v)", vary["config.x"], s.Varying)
	}
}

// TestHistorySeqTieBreak: JSON lines carry no row numbers; rows equal in
// time, step and runtime are ordered by a hash of their metrics, so the
// same rows get the same seq whatever their order in the file.
func TestHistorySeqTieBreak(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	var b strings.Builder
	for i := 0; i < 12; i++ {
		b.WriteString(historyRow("up", 5, `"9.5"`, fmt.Sprintf(`{"v": %d}`, i)))
	}
	for i := 11; i >= 0; i-- {
		b.WriteString(historyRow("down", 5, `"9.5"`, fmt.Sprintf(`{"v": %d}`, i)))
	}
	p := filepath.Join(t.TempDir(), "history.jsonl")
	loadertest.WriteFile(t, p, b.String())
	v.LoadKind("wandb-history", p, loaders.Options{})
	order := func(run string) string {
		return v.Scalar("SELECT string_agg(CAST(extra_metrics['v'] AS BIGINT), ',' ORDER BY seq) FROM wandb_history WHERE run_id = ?", run)
	}
	up, down := order("up"), order("down")
	if up != down {
		t.Errorf("the same rows in another file order got other seqs: %s and %s", up, down)
	}
	if up == "0,1,2,3,4,5,6,7,8,9,10,11" || up == "11,10,9,8,7,6,5,4,3,2,1,0" {
		t.Errorf("seq follows a file's order, not the metrics: %s", up)
	}
	if got := v.Verify("wandb-history", p); !got.OK() {
		t.Errorf("verify: %+v", got)
	}
}

// TestRunsTinyNumbers: a runs JSONL holding a number too small for a
// double (DuckDB's JSON reader would store 0) is refused naming the line,
// the byte and the number, in either JSONL layout; 0 written small and
// the smallest double load.
func TestRunsTinyNumbers(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	ok := filepath.Join(t.TempDir(), "runs.jsonl")
	loadertest.WriteFile(t, ok, notebookRun("a", map[string]string{"config": `{"z": 0e-999, "s": 4.9e-324}`}))
	v.LoadKind("wandb-runs", ok, loaders.Options{})
	if got := v.Scalar("SELECT CAST(config->'$.s' AS DOUBLE) > 0 FROM wandb_runs WHERE run_id = 'a'"); got != "true" {
		t.Errorf("the smallest double: %s", got)
	}
	bad := notebookRun("b", map[string]string{"summary": `{"loss": 1e-400}`})
	for _, c := range []struct{ name, data, place string }{
		{"notebook", notebookRun("a", nil) + bad, fmt.Sprintf("line 2 (byte %d)", strings.Index(bad, "1e-400"))},
		{"v3", `{"exported_at": "2025-08-19T05:36:01Z", "run": {"id": "b", "name": "b", "summary_metrics": {"loss": [1e-400]}}}` + "\n", "line 1 (byte 101)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			p := filepath.Join(t.TempDir(), "runs.jsonl")
			loadertest.WriteFile(t, p, c.data)
			v.LoadFails("wandb-runs", p, loaders.Options{}, c.place, "the number 1e-400 is too small for a double")
		})
	}
}

// TestParquetTinyNumbers: a parquet layout's text cell holding a JSON
// object or array with a number too small for a double (DuckDB's JSON
// functions read it as 0) is refused naming the row, the column, the byte
// in the cell and the number, in history and runs files alike; 0 written
// small, the smallest double, a tiny number inside a JSON string, and a
// cell that is only the text of one (kept as text) all load.
func TestParquetTinyNumbers(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	dir := t.TempDir()
	history := func(name, metrics2 string) string {
		p := filepath.Join(dir, name)
		run := strings.TrimSuffix(name, ".parquet")
		v.Exec(fmt.Sprintf(`COPY (SELECT * FROM (VALUES (%[1]s, 0, 1.5, '{"a": 1}'), (%[1]s, 1, 2.5, %[2]s)) t(run_id, step, timestamp, metrics)) TO '%[3]s' (FORMAT parquet)`,
			dbschema.Literal(run), dbschema.Literal(metrics2), p))
		return p
	}
	runs := func(name, summary string) string {
		p := filepath.Join(dir, name)
		v.Exec(fmt.Sprintf(`COPY (SELECT 'w' AS run_id, 'w' AS run_name, 'finished' AS state, 'p' AS project, 'e' AS entity, '2025-08-19T05:36:01Z' AS created_at,
			'{}' AS config, %s AS summary, '{}' AS wandb_metadata, '{}' AS system_metrics, '{}' AS system_attrs, '{}' AS sweep_info) TO '%s' (FORMAT parquet)`,
			dbschema.Literal(summary), p))
		return p
	}
	w := loadertest.NewEnv(t) // for the refused loads
	ok := `{"z": 0e-999, "s": 4.9e-324, "t": "1e-400", "u": 0.5}`
	v.LoadKind("wandb-history", history("ok.parquet", ok), loaders.Options{})
	v.LoadKind("wandb-history", history("text.parquet", "1e-400"), loaders.Options{})
	v.LoadKind("wandb-runs", runs("ok_runs.parquet", ok), loaders.Options{})
	for q, want := range map[string]string{
		"SELECT extra_metrics['z'] = 0 AND extra_metrics['s'] > 0 AND (extra->>'$.t') = '1e-400' FROM wandb_history WHERE run_id = 'ok' AND step = 1": "true",
		"SELECT CAST(extra AS VARCHAR) FROM wandb_history WHERE run_id = 'text' AND step = 1":                                                         `{"metrics":"1e-400"}`,
		"SELECT CAST(summary AS VARCHAR) FROM wandb_runs WHERE run_id = 'w'":                                                                          ok,
	} {
		if got := v.Scalar(q); got != want {
			t.Errorf("%s = %s, want %s", q, got, want)
		}
	}
	// Bytes are offsets in the cell, from 0 (as JSONL lines' are).
	at := func(cell, lit string) int { return strings.Index(cell, lit) }
	loss, list, nested := `{"a": 2, "loss": 1e-400}`, `{"a": [0.5, -1.5E-330]}`, `{"loss": [1e-400]}`
	for _, c := range []struct{ kind, path, place string }{
		{"wandb-history", history("history.parquet", loss), fmt.Sprintf("row 2, column metrics (byte %d of the cell)", at(loss, "1e-400"))},
		{"wandb-history", history("history_list.parquet", list), fmt.Sprintf("row 2, column metrics (byte %d of the cell)", at(list, "-1.5E-330"))},
		{"wandb-runs", runs("runs.parquet", nested), fmt.Sprintf("row 1, column summary (byte %d of the cell)", at(nested, "1e-400"))},
	} {
		// A refused load writes nothing: one empty database serves all.
		w.LoadFails(c.kind, c.path, loaders.Options{}, c.place, "is too small for a double")
	}
	// A companion file (one JSON column, merged by run id) is read as JSON
	// too, and named.
	main := filepath.Join(t.TempDir(), "runs_metadata.parquet")
	v.Exec(fmt.Sprintf(`COPY (SELECT * FROM read_parquet('%s') WHERE false) TO '%s' (FORMAT parquet)`, runs("empty.parquet", "{}"), main))
	comp := strings.TrimSuffix(main, ".parquet") + "_summary.parquet"
	v.Exec(fmt.Sprintf(`COPY (SELECT 'w' AS run_id, %s AS summary) TO '%s' (FORMAT parquet)`, dbschema.Literal(nested), comp))
	_, err := w.E.Load(w.Ctx, "wandb-runs", main, loaders.Options{})
	var fe *loaders.FileError
	if !errors.As(err, &fe) || fe.Path != comp || fe.Place != fmt.Sprintf("row 1, column summary (byte %d of the cell)", at(nested, "1e-400")) {
		t.Errorf("a companion with 1e-400: %v", err)
	}
}
