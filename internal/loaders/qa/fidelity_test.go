package qa_test

import (
	"archive/tar"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/jsonexact"
	"github.com/dschema/dschema/internal/loaders/loadertest"
	"github.com/dschema/dschema/internal/loaders/qa"
)

// qaPred is a prediction line of doc with native id native (JSON text)
// and four answer choices; more is further "key": value text.
func qaPred(doc int, native, more string) string {
	choice := `{"is_greedy": false, "logits_per_byte": -1.5, "logits_per_char": -1.0, "logits_per_token": -2.0, "num_chars": 4, "num_tokens": 2, "num_tokens_all": 20, "sum_logits": -4.0, "sum_logits_uncond": -6.0}`
	if more != "" {
		more = ", " + more
	}
	return fmt.Sprintf(`{"doc_id": %d, "native_id": %s, "label": 1, "metrics": {"acc_raw": 1, "correct_choice": 1}, "model_output": [%s, %s, %s, %s], "task_hash": "t", "model_hash": "m"%s}`+"\n",
		doc, native, choice, choice, choice, choice, more)
}

// writeQAFiles writes files (by path under root) and returns root.
func writeQAFiles(t *testing.T, root string, files map[string]string) string {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		loadertest.WriteFile(t, p, data)
	}
	return root
}

// loadQARefused loads path, which must fail with a *loaders.FileError,
// into a database that holds a good load (made first when it holds
// none), and checks the database is as it was.
func loadQARefused(t *testing.T, v *loadertest.Env, path string, opts loaders.Options) *loaders.FileError {
	t.Helper()
	if v.Scalar("SELECT count(*) FROM dschema_loads") == "0" {
		ok := writeQAFiles(t, filepath.Join(t.TempDir(), "c4_4M_15"), map[string]string{"step-2500/boolq-predictions.jsonl": qaPred(0, "1", "")})
		v.LoadKind(qa.Kind, ok, loaders.Options{})
	}
	before := v.Snapshot() + qaSnapshot(v)
	_, err := v.E.Load(v.Ctx, qa.Kind, path, opts)
	if err == nil {
		t.Fatalf("Load(%s) loaded, want an error", path)
	}
	var fe *loaders.FileError
	if !errors.As(err, &fe) {
		t.Fatalf("Load(%s) = %v, not a *loaders.FileError", path, err)
	}
	if after := v.Snapshot() + qaSnapshot(v); after != before {
		t.Errorf("the database changed: %s", loadertest.FirstDiff(strings.Split(after, "\n"), strings.Split(before, "\n")))
	}
	return fe
}

// TestQARefusesText: text that cannot be stored exactly (bytes that are
// not UTF-8, a lone UTF-16 surrogate, an escape JSON does not have) is
// refused in every field and every file, naming the member, the line and
// its byte offset, and the database is as it was; a surrogate pair and
// other escapes load as the characters they name.
func TestQARefusesText(t *testing.T) {
	t.Parallel()
	good := qaPred(0, `"ARC_7000"`, "")
	step := "step-1250/"
	preds, metrics := step+"arc_easy-predictions.jsonl", step+"arc_easy-metrics.json"
	// at is the message about line's text from its first sub on.
	at := func(what, line, sub, of string) string {
		return fmt.Sprintf("%s at byte %d of the %s", what, strings.Index(line, sub), of)
	}
	badNative := qaPred(1, "\"ARC_\xff\xfe7000\"", "")
	badOther := qaPred(0, `"a"`, "\"note\": \"caf\xe9\"")
	badKey := qaPred(1, `"a"`, "\"k\xc3\": 1")
	lone := qaPred(0, `"ARC_\udcff"`, "")
	broken := qaPred(0, `"\ud83d\u0041"`, "")
	unknown := qaPred(0, `"a"`, `"note": "\x41"`)
	badMetrics := "{\"metrics\": {\"acc_raw\": 0.5}, \"note\": \"\xff\"}"
	cases := []struct {
		name   string
		member string
		data   string
		line   int
		off    int    // byte offset of the line in the member
		msg    string // the message
	}{
		{"native_id not UTF-8", preds, good + badNative, 2, len(good), at(`bytes that are not UTF-8 ("\xff\xfe70")`, badNative, "\xff", "line")},
		{"another field not UTF-8", preds, badOther, 1, 0, at(`bytes that are not UTF-8 ("\xe9\"}")`, badOther, "\xe9", "line")},
		{"a key not UTF-8", preds, good + "\n" + badKey, 3, len(good) + 1, at(`bytes that are not UTF-8 ("\xc3\": ")`, badKey, "\xc3", "line")},
		{"lone surrogate", preds, lone, 1, 0, at(`the escape "\\udcff", a lone UTF-16 surrogate (not a Unicode character)`, lone, `\u`, "line")},
		{"broken surrogate pair", preds, broken, 1, 0, at(`the escape "\\ud83d", a lone UTF-16 surrogate (not a Unicode character)`, broken, `\u`, "line")},
		{"unknown escape", preds, unknown, 1, 0, at(`the escape "\\x", which JSON does not have`, unknown, `\x`, "line")},
		{"metrics file not UTF-8", metrics, badMetrics, 0, -1, at(`bytes that are not UTF-8 ("\xff\"}")`, badMetrics, "\xff", "member")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := writeQAFiles(t, filepath.Join(t.TempDir(), "c4_4M_14"), map[string]string{c.member: c.data})
			fe := loadQARefused(t, loadertest.NewEnv(t), root, loaders.Options{})
			want := "member " + c.member
			if c.line > 0 {
				want += fmt.Sprintf(" line %d (byte %d of the member)", c.line, c.off)
			}
			if fe.Path != root || fe.Place != want || fe.Msg != c.msg {
				t.Errorf("Load = %q at %q in %s, want %q at %q in %s", fe.Msg, fe.Place, fe.Path, c.msg, want, root)
			}
		})
	}
	t.Run("OLMES files", func(t *testing.T) {
		d, err := fixtures.WriteOLMESDump(t.TempDir(), fixtures.RunName(1), fixtures.QATasks[:1], 2)
		if err != nil {
			t.Fatal(err)
		}
		v := loadertest.NewEnv(t)
		for _, name := range []string{"metrics-all.jsonl", "task-000-arc_easy:mc::olmes-requests.jsonl", "task-000-arc_easy:mc::olmes-config.json"} {
			p := filepath.Join(d, name)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			first := strings.Index(string(b), "\n") + 1
			if strings.HasSuffix(name, ".json") {
				first = 0
			}
			bad := string(b[:first]) + strings.Replace(string(b[first:]), `"`, "\"\xff", 1)
			loadertest.WriteFile(t, p, bad)
			fe := loadQARefused(t, v, d, loaders.Options{})
			want := "member " + name + fmt.Sprintf(" line 2 (byte %d of the member)", first)
			if first == 0 {
				want = "member " + name
			}
			if fe.Place != want || !strings.Contains(fe.Msg, "bytes that are not UTF-8") {
				t.Errorf("%s: Load = %q at %q, want not UTF-8 at %q", name, fe.Msg, fe.Place, want)
			}
			loadertest.WriteFile(t, p, string(b))
		}
	})
	t.Run("valid escapes", func(t *testing.T) {
		root := writeQAFiles(t, filepath.Join(t.TempDir(), "c4_4M_14"), map[string]string{
			preds: qaPred(0, `"\ud83d\ude00 \u00e9 \\u0041 \"\/"`, `"note": "é"`),
		})
		v := loadertest.NewEnv(t)
		v.LoadKind(qa.Kind, root, loaders.Options{})
		if got, want := v.Scalar("SELECT native_id || '|' || extra::VARCHAR FROM qa_question_outputs"), `😀 é \u0041 "/|{"note":"é"}`; got != want {
			t.Errorf("native_id|extra = %q, want %q", got, want)
		}
	})
}

// TestQALineOffset: a malformed line's error names its member, its line
// and the exact byte offset of its start in the member, counted in the
// member's own bytes (after a blank line, CRLF endings and a line longer
// than the reader's buffer), in a tarball and in a folder alike.
func TestQALineOffset(t *testing.T) {
	t.Parallel()
	// Lines: qaLine with CRLF (127 bytes), a blank line (1), a line of
	// 3 MiB + 1000 bytes with its newline (longer than the reader's 1 MiB
	// buffer, and not a multiple of it, so the reader holds bytes past it),
	// the malformed line at 128 + 3 MiB + 1000.
	long := qaPred(1, `"b"`, `"pad": "`+strings.Repeat("x", 3<<20+1000-len(qaPred(1, `"b"`, `"pad": ""`)))+`"`)
	content := strings.TrimSuffix(qaLine, "\n") + "\r\n" + "\n" + long + `{"doc_id": 2,,}` + "\n"
	if len(qaLine) != 126 || len(long) != 3<<20+1000 {
		t.Fatalf("the fixture moved: lines of %d and %d bytes", len(qaLine), len(long))
	}
	member := "c4/4M/seed-2/step-1250/arc_easy-predictions.jsonl"
	dir := t.TempDir()
	tarball := filepath.Join(dir, "c4.tar.gz")
	if err := os.WriteFile(tarball, tarGz(t,
		&tar.Header{Name: "c4/4M/seed-2/step-1250/boolq-predictions.jsonl", Typeflag: tar.TypeReg}, qaLine,
		&tar.Header{Name: member, Typeflag: tar.TypeReg}, content), 0o644); err != nil {
		t.Fatal(err)
	}
	folder := writeQAFiles(t, filepath.Join(dir, "c4_4M_2"), map[string]string{"step-1250/arc_easy-predictions.jsonl": content})
	v := loadertest.NewEnv(t)
	for _, c := range []struct{ path, place string }{
		{tarball, "member " + member + " line 4 (byte 3146856 of the member)"},
		{folder, "member step-1250/arc_easy-predictions.jsonl line 4 (byte 3146856 of the member)"},
	} {
		fe := loadQARefused(t, v, c.path, loaders.Options{})
		if fe.Place != c.place || !strings.HasPrefix(fe.Msg, "malformed JSON: ") || fe.Err == nil {
			t.Errorf("Load(%s) = %q at %q (underlying %v), want malformed JSON at %q", c.path, fe.Msg, fe.Place, fe.Err, c.place)
		}
	}
}

// TestQALongLineMemory: a line the loader accepts but whose row DuckDB
// cannot write under the load's memory limit is an error naming the rows,
// the limit and --memory-limit, and the database is as it was; under a
// larger limit the same line loads whole.
func TestQALongLineMemory(t *testing.T) {
	t.Parallel()
	long := qaPred(1, `"b"`, `"pad": "`+strings.Repeat("x", 4<<20)+`"`)
	root := writeQAFiles(t, filepath.Join(t.TempDir(), "c4_4M_14"), map[string]string{
		"step-1250/arc_easy-predictions.jsonl": qaPred(0, `"a"`, "") + long,
	})
	v := loadertest.NewEnv(t)
	fe := loadQARefused(t, v, root, loaders.Options{MemoryLimit: "16MB"})
	for _, want := range []string{"under its memory limit of 15.2 MiB", fmt.Sprintf("the longest line read is %d bytes", len(long)-1), "raise --memory-limit"} {
		if !strings.Contains(fe.Msg, want) {
			t.Errorf("Load under 16MB = %q, want it to say %q", fe.Msg, want)
		}
	}
	if fe.Place != "the last rows read" && !strings.HasPrefix(fe.Place, "the rows read up to member step-1250/arc_easy-predictions.jsonl") {
		t.Errorf("place %q", fe.Place)
	}
	s := v.LoadKind(qa.Kind, root, loaders.Options{MemoryLimit: "1GB"})
	if got := v.Scalar("SELECT length(extra->>'$.pad') FROM qa_question_outputs WHERE load_id = ? AND doc_id = 1", s.LoadID); got != fmt.Sprint(4<<20) {
		t.Errorf("under 1GB the padding is %s characters, want %d", got, 4<<20)
	}
}

// TestQANotes: what the source holds but contradicts or lacks is stored
// as written and noted, counted: a task without its predictions or its
// metrics record, a label or metrics.correct_choice that is not an index
// into the question's answer list.
func TestQANotes(t *testing.T) {
	t.Parallel()
	step := "step-1250/"
	rec := `{"metrics": {"acc_raw": 0.5}}`
	four := func(doc int, label, correct string) string {
		l := qaPred(doc, `"n"`, "")
		l = strings.Replace(l, `"label": 1`, `"label": `+label, 1)
		return strings.Replace(l, `"correct_choice": 1`, `"correct_choice": `+correct, 1)
	}
	ref := "C4/4M/seed-1/step-1250"
	cases := []struct {
		name  string
		files map[string]string
		notes []string
	}{
		{"all there", map[string]string{step + "arc_easy-predictions.jsonl": four(0, "3", "3"), step + "arc_easy-metrics.json": rec}, nil},
		{"missing files", map[string]string{
			step + "arc_easy-predictions.jsonl": four(0, "0", "0"), step + "arc_easy-metrics.json": rec,
			step + "boolq-metrics.json": rec, step + "csqa-metrics.json": rec, step + "piqa-predictions.jsonl": four(0, "0", "0"),
		}, []string{
			"1 tasks without a metrics record (no -metrics.json, no metrics-all.jsonl line: their row has no aggregate metrics): " + ref + " piqa",
			"2 tasks without a predictions file (their row has no questions): " + ref + " boolq, " + ref + " csqa",
		}},
		{"labels outside", map[string]string{
			step + "arc_easy-predictions.jsonl": four(0, "4", "1") + four(1, "-1", "1.5") + four(2, "3", "4") + four(3, "2", "2"),
			step + "arc_easy-metrics.json":      rec,
		}, []string{
			"2 questions whose label is not an index into their answer list (model_output; stored as written): " +
				ref + " arc_easy doc 0 (label 4, 4 choices), " + ref + " arc_easy doc 1 (label -1, 4 choices)",
			"2 questions whose metrics.correct_choice is not an index into their answer list (model_output; stored as written): " +
				ref + " arc_easy doc 1 (correct_choice 1.5, 4 choices), " + ref + " arc_easy doc 2 (correct_choice 4, 4 choices)",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := writeQAFiles(t, filepath.Join(t.TempDir(), "c4_4M_14"), c.files)
			v := loadertest.NewEnv(t)
			s := v.LoadKind(qa.Kind, root, loaders.Options{})
			if got := strings.Join(s.Notes, "\n"); got != strings.Join(c.notes, "\n") {
				t.Errorf("notes:\n%s\nwant:\n%s", got, strings.Join(c.notes, "\n"))
			}
		})
	}
	// Stored as written: the label and correct_choice outside the list.
	root := writeQAFiles(t, filepath.Join(t.TempDir(), "c4_4M_14"), cases[2].files)
	v := loadertest.NewEnv(t)
	v.LoadKind(qa.Kind, root, loaders.Options{})
	if got := v.Scalar("SELECT string_agg(label || ':' || metrics['correct_choice'], ' ' ORDER BY doc_id) FROM qa_question_outputs"); got != "4:1.0 -1:1.5 3:4.0 2:2.0" {
		t.Errorf("label:correct_choice = %s", got)
	}
}

// TestQAKeptCounts: "kept aside" counts what was kept aside, once: a task
// row whose seed or data is left NULL counts once however many files (its
// predictions, its metrics record) named its checkpoint, and a question
// with something in extra once.
func TestQAKeptCounts(t *testing.T) {
	t.Parallel()
	q := func(doc int) string { return qaPred(doc, `"n"`, "") }
	rec := `{"metrics": {"acc_raw": 0.5}}`
	seedReason := "training seed 7 is not one of DataDecide's (6198 or 2, 14, 15, 4, 5): seed left NULL"
	recipeReason := `recipe "myrecipe" is not a DataDecide recipe alias (recipe_aliases): data left NULL`
	extraReason := "questions with something kept in extra (text metrics, other keys, per-choice keys outside ModelAnswerOutput)"
	cases := []struct {
		name  string
		files map[string]string
		want  []loaders.Skip
	}{
		{"predictions and metrics", map[string]string{
			"myrecipe_4M_7/step-1250/arc_easy-predictions.jsonl": q(0) + q(1), "myrecipe_4M_7/step-1250/arc_easy-metrics.json": rec,
			"myrecipe_4M_7/step-1250/boolq-predictions.jsonl": q(0), "myrecipe_4M_7/step-1250/boolq-metrics.json": rec,
			"myrecipe_4M_7/step-2500/boolq-metrics.json": rec,
		}, []loaders.Skip{{What: "3 times", Count: 3, Reason: recipeReason}, {What: "3 times", Count: 3, Reason: seedReason}}},
		{"predictions only", map[string]string{
			"c4_4M_7/step-1250/arc_easy-predictions.jsonl": q(0) + qaPred(1, `"n"`, `"note": "x"`) + qaPred(2, `"n"`, `"note": "y"`),
		}, []loaders.Skip{{What: "2 times", Count: 2, Reason: extraReason}, {What: "1 times", Count: 1, Reason: seedReason}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := writeQAFiles(t, filepath.Join(t.TempDir(), "instances"), c.files)
			v := loadertest.NewEnv(t)
			s := v.LoadKind(qa.Kind, root, loaders.Options{})
			if got, want := fmt.Sprintf("%+v", s.Kept), fmt.Sprintf("%+v", c.want); got != want {
				t.Errorf("kept %s, want %s", got, want)
			}
			if got, want := v.Scalar("SELECT count(*) FROM qa_task_outputs WHERE seed IS NULL"), fmt.Sprint(c.want[len(c.want)-1].Count); got != want {
				t.Errorf("%s task rows without a seed, want %s", got, want)
			}
		})
	}
}

// TestQAFirstRecordKept: of two differing metrics records of a task (its
// -metrics.json and its metrics-all.jsonl line), the first read is kept,
// whichever file it is in, and the note says which.
func TestQAFirstRecordKept(t *testing.T) {
	t.Parallel()
	dump := "model-a__main/"
	file := dump + "task-000-arc_easy:mc::olmes-metrics.json"
	fileRec := `{"task_name": "arc_easy:mc::olmes", "processing_time": 1.5, "metrics": {"acc_raw": 0.25}}`
	allRec := `{"task_name": "arc_easy:mc::olmes", "processing_time": 9.5, "metrics": {"acc_raw": 0.75}}` + "\n"
	cases := []struct {
		name    string
		members []any
		want    string // processing_time and acc_raw kept
		note    string
	}{
		{"metrics.json first", []any{&tar.Header{Name: file}, fileRec, &tar.Header{Name: dump + "metrics-all.jsonl"}, allRec}, "1.5 0.25",
			"model-a, task arc_easy:mc::olmes: the metrics record in " + dump + "metrics-all.jsonl line 1 differs from the one in " + file + "; the first is kept"},
		{"metrics-all.jsonl first", []any{&tar.Header{Name: dump + "metrics-all.jsonl"}, allRec, &tar.Header{Name: file}, fileRec}, "9.5 0.75",
			"model-a, task arc_easy:mc::olmes: the metrics record in " + file + " differs from the one in " + dump + "metrics-all.jsonl line 1; the first is kept"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "dump.tar.gz")
			if err := os.WriteFile(p, tarGz(t, c.members...), 0o644); err != nil {
				t.Fatal(err)
			}
			v := loadertest.NewEnv(t)
			s := v.LoadKind(qa.Kind, p, loaders.Options{})
			if got := v.Scalar("SELECT (record->>'$.processing_time') || ' ' || metrics['acc_raw'] || ' ' || is_aggregate FROM qa_task_outputs"); got != c.want+" false" {
				t.Errorf("processing_time, acc_raw, is_aggregate = %s, want %s false", got, c.want)
			}
			if len(s.Notes) == 0 || s.Notes[0] != c.note {
				t.Errorf("notes %q, want first %q", s.Notes, c.note)
			}
		})
	}
}

// TestMetricsHashWithoutAPredictionsHash: a metrics record whose task_hash
// is not text, for a task whose predictions carry none, is kept in record
// and noted (it crashed the load: the note read the predictions' hash).
func TestMetricsHashWithoutAPredictionsHash(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	root := writeQAFiles(t, filepath.Join(t.TempDir(), "c4_4M_15"), map[string]string{
		"step-2500/boolq-predictions.jsonl": `{"doc_id": 0, "native_id": 1, "label": 1, "metrics": {"acc_raw": 1}, "model_output": []}` + "\n",
		"step-2500/boolq-metrics.json":      `{"task_name": "boolq", "task_hash": 5, "metrics": {"acc_raw": 1}}`,
	})
	s := v.LoadKind(qa.Kind, root, loaders.Options{})
	if got := v.Scalar("SELECT coalesce(task_hash, 'NULL') || ' ' || CAST(record AS VARCHAR) FROM qa_task_outputs"); got != `NULL {"task_hash":5}` {
		t.Errorf("task row = %s", got)
	}
	if notes := strings.Join(s.Notes, "\n"); !strings.Contains(notes, "task_hash 5 of the metrics record differs from the predictions' (none)") {
		t.Errorf("notes = %s", notes)
	}
}

// TestQALaxNumbers: a number fastjson reads but JSON does not allow (nor
// Python: NaN, Infinity, -Infinity) refuses its line, naming it and the
// number, wherever it stands: a metric, another key, an answer's field, a
// task's metrics record. JSON's own numbers at the grammar's edges load
// as the values they write (extra holds them as DuckDB renders them: the
// integer -0 is 0, 1e5 is 100000.0).
func TestQALaxNumbers(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	pred := "step-1250/arc_easy-predictions.jsonl"
	for _, c := range []struct {
		name, member, file, number string
	}{
		{"leading zero in a metric", pred, strings.Replace(qaPred(0, `"a"`, ""), `"acc_raw": 1`, `"acc_raw": 007`, 1), "007"},
		{"no integer part in another key", pred, qaPred(0, `"a"`, `"x": .5`), ".5"},
		{"a plus sign in an answer", pred, strings.Replace(qaPred(0, `"a"`, ""), `"num_chars": 4`, `"num_chars": +4`, 1), "+4"},
		{"no fraction digits", pred, qaPred(0, `"a"`, `"x": [1, 5.]`), "5."},
		{"lower-case nan", pred, strings.Replace(qaPred(0, `"a"`, ""), `"acc_raw": 1`, `"acc_raw": nan`, 1), "nan"},
		{"lower-case inf", pred, qaPred(0, `"a"`, `"x": {"y": -inf}`), "-inf"},
		{"in a metrics record", "step-1250/arc_easy-metrics.json", `{"task_name": "arc_easy", "metrics": {"primary_score": 00.5}}`, "00.5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fe, place := qaRefusedAt(t, v, pred, c.member, c.file)
			if fe.Place != place || fe.Msg != "malformed JSON: a number JSON does not allow: "+c.number {
				t.Errorf("refused at %q: %q; want at %q, naming %s", fe.Place, fe.Msg, place, c.number)
			}
		})
	}
	t.Run("JSON's edges", func(t *testing.T) {
		line := strings.Replace(qaPred(0, `"a"`, `"x": [0, -0, -0.0, 1e5, 1E+5, 2.5e-3, NaN, Infinity, -Infinity]`), `"acc_raw": 1`, `"acc_raw": 0.0`, 1)
		root := writeQAFiles(t, filepath.Join(t.TempDir(), "c4_4M_14"), map[string]string{pred: line})
		s := v.LoadKind(qa.Kind, root, loaders.Options{})
		if got := v.Scalar("SELECT metrics['acc_raw']::VARCHAR || ' ' || (extra->'x')::VARCHAR FROM qa_question_outputs WHERE load_id = ?", s.LoadID); got != "0.0 [0,0,-0.0,100000.0,100000.0,0.0025,NaN,Infinity,-Infinity]" {
			t.Errorf("the edges loaded as %s", got)
		}
	})
}

// qaRefusedAt loads a task folder whose predictions are pred, with file
// as its member (pred itself or another), which must be refused: the
// refusal, and the place it must name.
func qaRefusedAt(t *testing.T, v *loadertest.Env, pred, member, file string) (*loaders.FileError, string) {
	t.Helper()
	files := map[string]string{pred: qaPred(0, `"a"`, "")}
	files[member] = file
	root := writeQAFiles(t, filepath.Join(t.TempDir(), "c4_4M_14"), files)
	fe := loadQARefused(t, v, root, loaders.Options{})
	place := "member " + member
	if member == pred {
		place += " line 1 (byte 0 of the member)"
	}
	return fe, place
}

// TestQAKeyTwice: an object with a key twice refuses its line or record,
// naming the key and where it is: the reader would keep one of the two
// values (doc_id and an answer's field the first, a metric the last) and
// drop the other without a word.
func TestQAKeyTwice(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	pred := "step-1250/arc_easy-predictions.jsonl"
	for _, c := range []struct {
		name, member, file, want string
	}{
		{"doc_id", pred, qaPred(0, `"a"`, `"doc_id": 5`), `"doc_id" in the top-level object`},
		{"a metric", pred, strings.Replace(qaPred(0, `"a"`, ""), `"correct_choice": 1}`, `"correct_choice": 1, "acc_raw": 0}`, 1), `"acc_raw" in metrics`},
		{"an answer's field", pred, strings.Replace(qaPred(0, `"a"`, ""), `"num_chars": 4`, `"num_chars": 4, "num_chars": 5`, 1), `"num_chars" in model_output[0]`},
		{"in a value kept in extra", pred, qaPred(0, `"a"`, `"x": [{"y": 1}, {"y": 1, "y": 2}]`), `"y" in x[1]`},
		{"in a metrics record", "step-1250/arc_easy-metrics.json", `{"task_name": "arc_easy", "metrics": {"primary_score": 0.5, "primary_score": 0.7}}`, `"primary_score" in metrics`},
	} {
		t.Run(c.name, func(t *testing.T) {
			fe, place := qaRefusedAt(t, v, pred, c.member, c.file)
			if fe.Place != place || fe.Msg != "malformed JSON: a key twice in one object: "+c.want || !errors.Is(fe, jsonexact.ErrKeyTwice) {
				t.Errorf("refused at %q: %q (%v); want at %q, naming %s", fe.Place, fe.Msg, fe.Err, place, c.want)
			}
		})
	}
	t.Run("an OLMES inputs line", func(t *testing.T) {
		d, err := fixtures.WriteOLMESDump(t.TempDir(), fixtures.RunName(1), fixtures.QATasks[:1], 2)
		if err != nil {
			t.Fatal(err)
		}
		name := "task-000-arc_easy:mc::olmes-requests.jsonl"
		b, err := os.ReadFile(filepath.Join(d, name))
		if err != nil {
			t.Fatal(err)
		}
		first := strings.Index(string(b), "\n") + 1
		loadertest.WriteFile(t, filepath.Join(d, name), string(b[:first])+`{"doc_id": 99, `+string(b[first+1:]))
		fe := loadQARefused(t, v, d, loaders.Options{})
		place := fmt.Sprintf("member %s line 2 (byte %d of the member)", name, first)
		if fe.Place != place || fe.Msg != `malformed JSON: a key twice in one object: "doc_id" in the top-level object` {
			t.Errorf("refused at %q: %q; want at %q, doc_id twice", fe.Place, fe.Msg, place)
		}
	})
}
