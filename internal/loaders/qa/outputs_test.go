package qa_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
	"github.com/dschema/dschema/internal/loaders/qa"
	"github.com/dschema/dschema/internal/tarstream"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// qaLayouts writes every QA layout into dir and returns them by name.
func qaLayouts(t *testing.T, dir string) map[string]string {
	t.Helper()
	ck, tasks, n := fixtures.SampleQACheckpoints(), fixtures.QATasks, fixtures.QAQuestions
	out := map[string]string{
		"step tarballs in a folder": filepath.Join(dir, "models"),
		"one step tarball":          filepath.Join(dir, "models", "c4", "4M", "seed-2", "step-1250.tar.gz"),
		"recipe tarball":            filepath.Join(dir, "c4.tar.gz"),
		"extracted folder":          filepath.Join(dir, "instances_extracted"),
		"olmes folder":              "",
		"olmes tarball":             filepath.Join(dir, "olmes.tar.gz"),
	}
	if _, err := fixtures.WriteQAStepTarballs(out["step tarballs in a folder"], ck, tasks, n); err != nil {
		t.Fatal(err)
	}
	if err := fixtures.WriteQARecipeTarball(out["recipe tarball"], ck, tasks, n); err != nil {
		t.Fatal(err)
	}
	if err := fixtures.WriteQAExtracted(out["extracted folder"], ck, tasks, n); err != nil {
		t.Fatal(err)
	}
	d, err := fixtures.WriteOLMESDump(filepath.Join(dir, "dumps"), fixtures.RunName(1), tasks, n)
	if err != nil {
		t.Fatal(err)
	}
	out["olmes folder"] = d
	if err := fixtures.WriteOLMESDumpTarball(out["olmes tarball"], fixtures.RunName(1), tasks, n); err != nil {
		t.Fatal(err)
	}
	return out
}

// qaSnapshot is the QA tables' content without what depends on the
// layout (member, load_id), in key order.
func qaSnapshot(v *loadertest.Env) string {
	v.T.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT COLUMNS(* EXCLUDE (member, load_id))::VARCHAR FROM qa_task_outputs ORDER BY model_ref, task`,
		`SELECT COLUMNS(* EXCLUDE (load_id))::VARCHAR FROM qa_question_outputs ORDER BY model_ref, task, doc_id`,
		`SELECT COLUMNS(* EXCLUDE (load_id))::VARCHAR FROM qa_question_inputs ORDER BY model_ref, task, kind, line`,
	} {
		rows, err := v.DB.QueryContext(v.Ctx, q)
		if err != nil {
			v.T.Fatal(err)
		}
		cols, _ := rows.Columns()
		fmt.Fprintf(&b, "-- %s\n", q)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				v.T.Fatal(err)
			}
			for i, c := range cols {
				fmt.Fprintf(&b, "%s=%v; ", c, fmtVal(vals[i]))
			}
			b.WriteString("\n")
		}
		rows.Close()
	}
	return b.String()
}

func fmtVal(x any) string {
	switch y := x.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(y)
	case *string:
		if y == nil {
			return "NULL"
		}
		return *y
	}
	return fmt.Sprintf("%v", x)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -run %s -update rewrites it):\n%s", name, t.Name(), loadertest.FirstDiff(strings.Split(got, "\n"), strings.Split(string(want), "\n")))
	}
}

// TestQALayouts loads each layout into a fresh database: the detected
// layout is named, the DataDecide layouts give the same rows (the golden
// file), and so do the OLMES folder and tarball.
func TestQALayouts(t *testing.T) {
	t.Parallel()
	paths := qaLayouts(t, t.TempDir())
	cases := []struct {
		layout, variant, golden  string
		tasks, questions, inputs int64
	}{
		{"step tarballs in a folder", "DataDecide eval instances (nested step tarballs) (folder)", "datadecide.golden", 15, 90, 0},
		{"recipe tarball", "DataDecide eval instances (nested step tarballs) (tarball)", "datadecide.golden", 15, 90, 0},
		{"extracted folder", "DataDecide eval instances (folder)", "datadecide.golden", 15, 90, 0},
		{"one step tarball", "DataDecide eval instances (tarball)", "datadecide-one-step.golden", 5, 30, 0},
		{"olmes folder", "OLMES dump (folder)", "olmes.golden", 6, 30, 117},
		{"olmes tarball", "OLMES dump (tarball)", "olmes.golden", 6, 30, 117},
	}
	for _, c := range cases {
		t.Run(c.layout, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			s := v.LoadKind(qa.Kind, paths[c.layout], loaders.Options{})
			if s.Variant != c.variant {
				t.Errorf("variant %q, want %q", s.Variant, c.variant)
			}
			if s.Rows["qa_task_outputs"] != c.tasks || s.Rows["qa_question_outputs"] != c.questions || s.Rows["qa_question_inputs"] != c.inputs {
				t.Errorf("rows %v, want %d tasks, %d questions, %d inputs", s.Rows, c.tasks, c.questions, c.inputs)
			}
			if len(s.Skipped) != 0 {
				t.Errorf("skipped %+v", s.Skipped)
			}
			golden(t, c.golden, qaSnapshot(v))
		})
	}
}

// TestQAValues checks values the golden files hold, by hand: the mapping
// of slug and training seed, int and string native ids, choices per task,
// NaN, text metrics in extra, the aggregate only metrics-all.jsonl has,
// and the finetune run behind a dump.
func TestQAValues(t *testing.T) {
	t.Parallel()
	paths := qaLayouts(t, t.TempDir())
	v := loadertest.NewEnv(t)
	v.LoadKind(qa.Kind, paths["recipe tarball"], loaders.Options{})
	v.LoadKind(qa.Kind, paths["olmes folder"], loaders.Options{})
	run := fixtures.RunName(1)
	for _, c := range []struct{ q, want string }{
		{"SELECT string_agg(DISTINCT model_ref, ' | ' ORDER BY model_ref) FROM qa_task_outputs WHERE model_kind = 'pretrain_checkpoint'",
			"C4/4M/seed-0/step-1250 | C4/4M/seed-0/step-2500 | C4/4M/seed-1/step-1250"},
		{"SELECT data || ' ' || params || ' ' || seed || ' ' || step || ' ' || training_seed || ' ' || recipe_raw || ' ' || model_name FROM qa_task_outputs WHERE model_ref = 'C4/4M/seed-1/step-1250' AND task = 'boolq'",
			"C4 4M 1 1250 14 c4 allenai/DataDecide-c4-4M/seed-14/step-1250"},
		{"SELECT native_id FROM qa_question_outputs WHERE model_ref = 'C4/4M/seed-0/step-1250' AND task = 'boolq' AND doc_id = 2", "114"},
		{"SELECT native_id FROM qa_question_outputs WHERE model_ref = 'C4/4M/seed-0/step-1250' AND task = 'arc_easy' AND doc_id = 2", "ARC_7026"},
		{"SELECT string_agg(DISTINCT task || ':' || len(answer_outputs), ' ' ORDER BY task || ':' || len(answer_outputs)) FROM qa_question_outputs WHERE model_ref LIKE 'C4/%'",
			"arc_easy:4 boolq:2 csqa:5 hellaswag:4 winogrande:2"},
		{"SELECT count(*) FROM qa_question_outputs WHERE isnan(metrics['bits_per_byte_corr'])", "80"},
		{"SELECT count(*) FROM qa_question_outputs WHERE NOT isnan(metrics['bits_per_byte_corr'])", "40"},
		{"SELECT isnan(metrics['bits_per_byte_corr']) FROM qa_task_outputs WHERE model_ref = 'C4/4M/seed-0/step-1250' AND task = 'arc_easy'", "false"},
		{"SELECT count(*) FROM qa_question_outputs WHERE extra IS NOT NULL", "6"},
		{"SELECT DISTINCT extra->>'$.metrics.model_answer' IS NOT NULL FROM qa_question_outputs WHERE extra IS NOT NULL", "true"},
		{"SELECT model_kind || ' ' || run_id || ' ' || is_aggregate || ' ' || coalesce(num_instances::VARCHAR, '-') FROM qa_task_outputs WHERE task = 'core_9mcqa:rc::olmes:full'",
			"finetune " + run + " true 30"},
		{"SELECT count(*) FROM qa_task_outputs WHERE run_id = '" + run + "' AND NOT is_aggregate", "5"},
		{"SELECT metrics_json::VARCHAR FROM qa_task_outputs WHERE run_id IS NOT NULL AND task = 'boolq:mc::olmes'", `{"extra_metrics":{"num_tokens":1234,"note":"truncated"}}`},
		{"SELECT record->>'$.compute_config.batch_size' FROM qa_task_outputs WHERE run_id IS NOT NULL AND task = 'boolq:mc::olmes'", "16"},
		{"SELECT count(*) FROM qa_question_inputs i JOIN qa_question_outputs q USING (model_ref, task, doc_id) WHERE i.kind = 'request'", "102"},
		{"SELECT count(*) FROM qa_question_inputs WHERE kind = 'recorded_input'", "15"},
		{"SELECT body->>'$.doc.choices[0]' FROM qa_question_inputs WHERE kind = 'recorded_input' AND task = 'csqa:mc::olmes' AND doc_id = 1", "choice A of 1 — ünïcode"},
	} {
		if got := v.Scalar(c.q); got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.q, got, c.want)
		}
	}
}

// tarGz builds a gzip tarball of headers and contents.
func tarGz(t *testing.T, members ...any) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for i := 0; i < len(members); i += 2 {
		h := members[i].(*tar.Header)
		data := []byte(members[i+1].(string))
		if h.Typeflag == tar.TypeReg || h.Typeflag == 0 {
			h.Size = int64(len(data))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil && h.Size > 0 {
			t.Fatal(err)
		}
	}
	tw.Close()
	zw.Close()
	return b.Bytes()
}

const qaLine = `{"doc_id": 0, "native_id": 7, "metrics": {"acc_raw": 1}, "model_output": [], "label": 0, "task_hash": "t", "model_hash": "m"}` + "\n"

// TestQARefuses: unsafe members, truncated and corrupt archives and a
// malformed line are errors naming the member (and line), and the database
// is as it was.
func TestQARefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := func(name string) []any {
		return []any{&tar.Header{Name: name, Typeflag: tar.TypeReg}, qaLine}
	}
	step := "c4/4M/seed-2/step-1250/"
	full := tarGz(t, good(step+"arc_easy-predictions.jsonl")...)
	cases := []struct {
		name  string
		data  []byte
		is    error
		place string // in the error
	}{
		{"dotdot", tarGz(t, append(good(step+"arc_easy-predictions.jsonl"), good("../evil-predictions.jsonl")...)...), tarstream.ErrUnsafe, "../evil-predictions.jsonl"},
		{"dotdot inside", tarGz(t, good(step+"../../../x/arc_easy-predictions.jsonl")...), tarstream.ErrUnsafe, "x/arc_easy-predictions.jsonl"},
		{"absolute", tarGz(t, good("/etc/"+step+"arc_easy-predictions.jsonl")...), tarstream.ErrUnsafe, "/etc/"},
		{"symlink", tarGz(t, &tar.Header{Name: step + "boolq-predictions.jsonl", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, ""), tarstream.ErrUnsafe, "boolq-predictions.jsonl"},
		{"hard link", tarGz(t, append(good(step+"arc_easy-predictions.jsonl"), &tar.Header{Name: step + "boolq-predictions.jsonl", Typeflag: tar.TypeLink, Linkname: step + "arc_easy-predictions.jsonl"}, "")...), tarstream.ErrUnsafe, "boolq-predictions.jsonl"},
		{"truncated gzip", full[:len(full)-6], tarstream.ErrTruncated, ""},
		{"truncated tar", func() []byte {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(ungzip(t, full)[:600])
			zw.Close()
			return b.Bytes()
		}(), tarstream.ErrTruncated, "arc_easy-predictions.jsonl"},
		{"corrupt gzip", func() []byte {
			b := append([]byte(nil), full...)
			b[len(b)-5] ^= 0xff // the CRC
			return b
		}(), gzip.ErrChecksum, ""},
		{"malformed line", tarGz(t, &tar.Header{Name: step + "arc_easy-predictions.jsonl", Typeflag: tar.TypeReg}, qaLine+`{"doc_id": 1, "native_id": 8,,}`+"\n"), nil, "arc_easy-predictions.jsonl line 2"},
		{"no checkpoint", tarGz(t, good("somewhere/arc_easy-predictions.jsonl")...), nil, "somewhere/arc_easy-predictions.jsonl"},
		{"doc twice", tarGz(t, &tar.Header{Name: step + "arc_easy-predictions.jsonl", Typeflag: tar.TypeReg}, qaLine+qaLine), nil, "line 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			// A good load first: a refused one leaves it as it was.
			okPath := filepath.Join(dir, c.name+"-ok", "c4.tar.gz")
			os.MkdirAll(filepath.Dir(okPath), 0o755)
			os.WriteFile(okPath, tarGz(t, good("c4/4M/seed-14/step-2500/boolq-predictions.jsonl")...), 0o644)
			v.LoadKind(qa.Kind, okPath, loaders.Options{})
			before := v.Snapshot() + qaSnapshot(v)
			p := filepath.Join(dir, c.name, "c4.tar.gz")
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := v.E.Load(v.Ctx, qa.Kind, p, loaders.Options{})
			if err == nil {
				t.Fatal("loaded")
			}
			var fe *loaders.FileError
			if !errors.As(err, &fe) {
				t.Errorf("not a FileError: %v", err)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
			if !strings.Contains(err.Error(), c.place) || !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name %s and %q", err, p, c.place)
			}
			if after := v.Snapshot() + qaSnapshot(v); after != before {
				t.Errorf("the database changed: %s", loadertest.FirstDiff(strings.Split(after, "\n"), strings.Split(before, "\n")))
			}
		})
	}
}

func ungzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestQAReloadAndReplace: the same archive again changes nothing; a
// changed one replaces exactly its rows; a folder is a source too.
func TestQAReloadAndReplace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	paths := qaLayouts(t, dir)
	v := loadertest.NewEnv(t)
	p := paths["recipe tarball"]
	first := v.LoadKind(qa.Kind, p, loaders.Options{})
	olmes := v.LoadKind(qa.Kind, paths["olmes folder"], loaders.Options{})
	if s := v.LoadKind(qa.Kind, p, loaders.Options{}); !s.Unchanged || s.LoadID != first.LoadID {
		t.Errorf("reload: %+v", s)
	}
	if s := v.LoadKind(qa.Kind, paths["olmes folder"], loaders.Options{}); !s.Unchanged || s.LoadID != olmes.LoadID {
		t.Errorf("reload of the folder: %+v", s)
	}
	// The recipe tarball now holds one checkpoint with more questions.
	if err := fixtures.WriteQARecipeTarball(p, fixtures.SampleQACheckpoints()[:1], fixtures.QATasks[:2], 9); err != nil {
		t.Fatal(err)
	}
	s := v.LoadKind(qa.Kind, p, loaders.Options{})
	if s.ReplacedLoad != first.LoadID || s.Removed["qa_question_outputs"] != 90 || s.Rows["qa_question_outputs"] != 18 || s.Rows["qa_task_outputs"] != 2 {
		t.Errorf("replace: %+v", s)
	}
	if got := v.Scalar("SELECT count(*) || ' ' || count(DISTINCT model_ref) FROM qa_question_outputs WHERE model_ref LIKE 'C4/%'"); got != "18 1" {
		t.Errorf("after the replace: %s", got)
	}
	if got := v.Scalar("SELECT count(*) FROM qa_question_outputs WHERE model_ref NOT LIKE 'C4/%'"); got != "30" {
		t.Errorf("the OLMES dump's questions: %s", got)
	}
	// A changed file in the folder is a changed source.
	f := filepath.Join(paths["olmes folder"], "metrics-all.jsonl")
	b, _ := os.ReadFile(f)
	os.WriteFile(f, bytes.Replace(b, []byte(`"batch_size": 16`), []byte(`"batch_size": 8`), 1), 0o644)
	if s := v.LoadKind(qa.Kind, paths["olmes folder"], loaders.Options{}); s.Unchanged || s.ReplacedLoad != olmes.LoadID {
		t.Errorf("changed folder: %+v", s)
	}
	// Another source with the same checkpoints is skipped, and says so.
	other := filepath.Join(dir, "other", "c4.tar.gz")
	if err := fixtures.WriteQARecipeTarball(other, fixtures.SampleQACheckpoints()[:1], fixtures.QATasks[:1], 3); err != nil {
		t.Fatal(err)
	}
	s = v.LoadKind(qa.Kind, other, loaders.Options{})
	if s.Rows["qa_task_outputs"] != 0 || len(s.Skipped) == 0 || !strings.Contains(fmt.Sprint(s.Skipped), "already in qa_task_outputs from another source") {
		t.Errorf("a second source of the same checkpoint: %+v", s)
	}
}

// TestQAJoins: a checkpoint's tasks join pretrain_evals, a dump's join
// finetune_runs and wandb_runs.
func TestQAJoins(t *testing.T) {
	t.Parallel()
	paths := qaLayouts(t, t.TempDir())
	v := loadertest.NewEnv(t)
	full, _, _ := loadertest.Sample(t)
	v.Load(full, loaders.Options{})
	v.LoadKind("wandb-runs", filepath.Join(loadertest.WandbSample(t), "runs_metadata.parquet"), loaders.Options{})
	v.LoadKind(qa.Kind, paths["recipe tarball"], loaders.Options{})
	v.LoadKind(qa.Kind, paths["olmes tarball"], loaders.Options{})
	if got := v.Scalar(`SELECT count(*) FROM qa_task_outputs q JOIN pretrain_evals e USING (data, params, seed, step)`); got != "15" {
		t.Errorf("qa ⋈ pretrain_evals: %s rows, want 15", got)
	}
	if got := v.Scalar(`SELECT count(*) FROM qa_task_outputs q JOIN finetune_runs f USING (run_id) JOIN wandb_runs w USING (run_id)`); got != "6" {
		t.Errorf("qa ⋈ finetune_runs ⋈ wandb_runs: %s rows, want 6", got)
	}
	if got := v.Scalar(`SELECT DISTINCT f.run_type FROM qa_task_outputs q JOIN finetune_runs f USING (run_id)`); got != "matched" {
		t.Errorf("the dump's run type: %s", got)
	}
}

// TestQAVerify: verify finds the source equal to its load, then names a
// changed value, a lost question and a question the source no longer has.
func TestQAVerify(t *testing.T) {
	t.Parallel()
	paths := qaLayouts(t, t.TempDir())
	v := loadertest.NewEnv(t)
	verify := func(p string) *loaders.Verification {
		t.Helper()
		vf, err := loaders.LookupVerifier(qa.Kind)
		if err != nil {
			t.Fatal(err)
		}
		got, err := vf.Verify(v.Ctx, v.DB, p, loaders.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return got.(*loaders.Verification)
	}
	for _, layout := range []string{"recipe tarball", "olmes folder"} {
		p := paths[layout]
		v.LoadKind(qa.Kind, p, loaders.Options{})
		if r := verify(p); !r.OK() || r.Rows == 0 {
			t.Errorf("%s: a fresh load differs: %+v", layout, r)
		}
	}
	p := paths["recipe tarball"]
	v.Exec(`UPDATE qa_question_outputs SET label = label + 1 WHERE model_ref = 'C4/4M/seed-0/step-1250' AND task = 'csqa' AND doc_id = 3`)
	v.Exec(`DELETE FROM qa_question_outputs WHERE model_ref = 'C4/4M/seed-0/step-2500' AND task = 'boolq' AND doc_id = 0`)
	v.Exec(`UPDATE qa_task_outputs SET metrics = map_from_entries([{'key': 'acc_raw', 'value': 0.25}]) WHERE model_ref = 'C4/4M/seed-1/step-1250' AND task = 'hellaswag'`)
	r := verify(p)
	if r.OK() || r.Differing != 2 || r.MissingRows != 1 || r.ExtraRows != 0 ||
		r.ByColumn["qa_question_outputs.label"] != 1 || r.ByColumn["qa_task_outputs.metrics"] != 1 {
		t.Errorf("after a changed label, a changed metrics map and a lost question: %+v", r)
	}
	// The source lost a checkpoint: its rows are the database's alone.
	if err := fixtures.WriteQARecipeTarball(p, fixtures.SampleQACheckpoints()[1:], fixtures.QATasks, fixtures.QAQuestions); err != nil {
		t.Fatal(err)
	}
	r = verify(p)
	if r.ExtraRows != 5+30 {
		t.Errorf("rows of the load the source no longer has: %d, want 35 (%+v)", r.ExtraRows, r)
	}
}

// TestQAAggregates: a task is an aggregate when only metrics-all.jsonl
// has it while the dump has task files for others; in an old dump that
// shipped metrics-all.jsonl alone, no task is.
func TestQAAggregates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		keep func(name string) bool
		want string
	}{
		{"without configs", func(n string) bool { return !strings.HasSuffix(n, "-config.json") }, "core_9mcqa:rc::olmes:full"},
		{"predictions only", func(n string) bool { return n == "metrics-all.jsonl" || strings.HasSuffix(n, "-predictions.jsonl") }, "core_9mcqa:rc::olmes:full"},
		{"metrics-all only", func(n string) bool { return n == "metrics-all.jsonl" }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := fixtures.WriteOLMESDump(filepath.Join(dir, c.name), fixtures.RunName(1), fixtures.QATasks, 3)
			if err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(d)
			for _, e := range entries {
				if !c.keep(e.Name()) {
					os.Remove(filepath.Join(d, e.Name()))
				}
			}
			v := loadertest.NewEnv(t)
			v.LoadKind(qa.Kind, d, loaders.Options{})
			if got := v.Scalar("SELECT count(*) FROM qa_task_outputs"); got != "6" {
				t.Errorf("%s task rows, want 6", got)
			}
			if got := v.Scalar("SELECT coalesce(string_agg(task, ' '), '') FROM qa_task_outputs WHERE is_aggregate"); got != c.want {
				t.Errorf("aggregates %q, want %q", got, c.want)
			}
		})
	}
}

// TestQAOddValues: what a prediction line holds beyond the typed columns
// is kept exactly in extra (keys with control characters, integers a
// double cannot hold, text that spells Infinity), and what is typed is
// exact (-0.0, Infinity, 2^53).
func TestQAOddValues(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "c4_4M_14", "step-1250")
	lines := `{"doc_id": 0, "native_id": "a", "k\u0001": 1, "metrics": {"big": 9007199254740993, "ok": 9007199254740992, "neg0": -0.0, "inf": Infinity, "txt": "Inf \"Infinity\""}, "model_output": [], "label": 0, "task_hash": "t", "model_hash": "m"}
{"doc_id": 1, "native_id": 12345678901234567890, "metrics": {}, "model_output": [], "label": 1, "task_hash": "t\u0002", "model_hash": "m"}
`
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	loadertest.WriteFile(t, filepath.Join(dir, "arc_easy-predictions.jsonl"), lines)
	v := loadertest.NewEnv(t)
	s := v.LoadKind(qa.Kind, filepath.Dir(dir), loaders.Options{})
	if s.Rows["qa_question_outputs"] != 2 {
		t.Fatalf("%+v", s)
	}
	q := "SELECT %s FROM qa_question_outputs WHERE doc_id = %d"
	for _, c := range []struct {
		col  string
		doc  int
		want string
	}{
		{"extra::VARCHAR", 0, `{"k\u0001":1,"metrics":{"big":9007199254740993,"txt":"Inf \"Infinity\""}}`},
		{"metrics['ok']::BIGINT::VARCHAR || ' ' || (1 / metrics['neg0'])::VARCHAR || ' ' || metrics['inf']::VARCHAR || ' ' || cardinality(metrics)", 0, "9007199254740992 -inf inf 3"},
		{"native_id || ' ' || extra::VARCHAR || ' ' || len(answer_outputs)", 1, `12345678901234567890 {"task_hash":"t\u0002"} 0`},
	} {
		if got := v.Scalar(fmt.Sprintf(q, c.col, c.doc)); got != c.want {
			t.Errorf("%s of doc %d = %s, want %s", c.col, c.doc, got, c.want)
		}
	}
}
