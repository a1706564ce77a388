package wandb_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// manyKeysRun is one notebook-JSONL run with n config keys and n summary
// keys (one of them a nested eval result); wrapped gives every config
// value W&B's {"value": v, "desc": null} form.
func manyKeysRun(n int, wrapped bool) string {
	var b strings.Builder
	b.WriteString(`{"run_id": "wide", "run_name": "wide", "state": "finished", "project": "p", "entity": "e", "created_at": "2025-08-19T05:36:01Z", "config": {`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		v := fmt.Sprintf("%d.5", i)
		if i%3 == 0 {
			v = fmt.Sprintf(`"v%d"`, i)
		}
		if wrapped {
			v = `{"value": ` + v + `, "desc": null}`
		}
		fmt.Fprintf(&b, `"cfg_%d": %s`, i, v)
	}
	b.WriteString(`}, "summary": {"oe_eval_metrics/piqa": {"acc": 0.75}`)
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, `, "sum_%d": %d.25`, i, i)
	}
	b.WriteString(`}, "wandb_metadata": {}, "system_metrics": {}, "system_attrs": {}, "sweep_info": {}}` + "\n")
	return b.String()
}

// TestRunsManyKeys: a run with 10,000 config and 10,000 summary keys loads
// (and verifies) under a small memory limit. DuckDB's json_each, which the
// loader used to walk configs and summaries, costs the square of an
// object's keys: this run took 20 s and ~3 GB, and fails under 256MB.
func TestRunsManyKeys(t *testing.T) {
	t.Parallel()
	const n = 10000
	for _, c := range []struct {
		name    string
		wrapped bool
	}{{"plain", false}, {"wrapped", true}} {
		t.Run(c.name, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			p := filepath.Join(t.TempDir(), "runs.jsonl")
			loadertest.WriteFile(t, p, manyKeysRun(n, c.wrapped))
			s := v.LoadKind("wandb-runs", p, loaders.Options{MemoryLimit: "256MB"})
			if s.Rows["wandb_runs"] != 1 || s.Rows["wandb_run_evals"] != 1 {
				t.Fatalf("rows %v", s.Rows)
			}
			for _, q := range []struct{ expr, want string }{
				{"json_array_length(json_keys(config))", fmt.Sprint(n)},
				{"json_array_length(json_keys(summary))", fmt.Sprint(n)},
				{"CAST(config->'$.cfg_9998' AS VARCHAR)", "9998.5"},
				{"config->>'$.cfg_9999'", "v9999"},
				{"CAST(summary->'$.sum_9999' AS VARCHAR)", "9999.25"},
				{"(SELECT value FROM wandb_run_evals WHERE task = 'piqa' AND metric = 'acc')", "0.75"},
			} {
				if got := v.Scalar("SELECT " + q.expr + " FROM wandb_runs WHERE run_id = 'wide'"); got != q.want {
					t.Errorf("%s = %s, want %s", q.expr, got, q.want)
				}
			}
			if c.wrapped && !strings.Contains(strings.Join(s.Notes, "\n"), "config of 1 runs was wrapped") {
				t.Errorf("unwrapping not reported: %v", s.Notes)
			}
			vf, _ := loaders.LookupVerifier("wandb-runs")
			got, err := vf.Verify(v.Ctx, v.DB, p, loaders.VerifyOptions{})
			if err != nil || !got.OK() {
				t.Errorf("verify: %+v %v", got, err)
			}
		})
	}
}

// TestOutOfMemoryNamesFileAndFlag: DuckDB's out-of-memory error, which
// names neither, comes back naming the file and the limit to raise.
func TestOutOfMemoryNamesFileAndFlag(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	p := filepath.Join(t.TempDir(), "runs.jsonl")
	loadertest.WriteFile(t, p, manyKeysRun(2000, false))
	_, err := v.E.Load(v.Ctx, "wandb-runs", p, loaders.Options{MemoryLimit: "1MB"})
	if err == nil || !strings.Contains(err.Error(), "Out of Memory Error") {
		t.Fatalf("a load under 1MB = %v, want DuckDB's out-of-memory error", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "load "+p+": ") || !strings.HasSuffix(msg, "(under --memory-limit 1MB: raise it, or leave it out)") {
		t.Errorf("the error names neither the file nor the flag: %s", msg)
	}
	if got := v.Scalar("SELECT count(*) FROM dschema_loads"); got != "0" {
		t.Errorf("a failed load recorded %s loads", got)
	}
}
