package qa

import (
	"database/sql/driver"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/tarstream"

	"github.com/valyala/fastjson"
)

// TestQuestionStaged holds the staged row question makes from a line to
// gen's Values of the row the line holds, the staged form every other
// table goes through: the same values, the same JSON text, for the edges
// of what a row holds (NaN, ±Infinity, -0, the largest and smallest
// doubles, int64's ends, keys needing escapes or not UTF-8, NULL and empty
// nested values, what goes to extra), line after line into one batch
// (its text grows, the load's buffers are reused).
func TestQuestionStaged(t *testing.T) {
	label, nat, num := int64(-3), "q\"1", "12.50"
	choice := `{"is_greedy": true, "logits_per_byte": -Infinity, "logits_per_char": NaN, "logits_per_token": -0.0, "num_chars": 9223372036854775807, "num_tokens": -9223372036854775808, "num_tokens_all": 0, "sum_logits": 1.7976931348623157e308, "sum_logits_uncond": 5e-324}`
	zero := `{"is_greedy": false, "logits_per_byte": 0, "logits_per_char": 0, "logits_per_token": 0, "num_chars": 0, "num_tokens": 0, "num_tokens_all": 0, "sum_logits": 0, "sum_logits_uncond": 0}`
	third := `{"is_greedy": false, "logits_per_byte": -0.12345678901234568, "logits_per_char": 0, "logits_per_token": 0, "num_chars": 0, "num_tokens": 0, "num_tokens_all": 0, "sum_logits": 0, "sum_logits_uncond": 0, "continuation": " A"}`
	answer := gen.QAQuestionOutputAnswerOutputs{IsGreedy: true, LogitsPerByte: math.Inf(-1), LogitsPerChar: math.NaN(),
		LogitsPerToken: math.Copysign(0, -1), NumChars: math.MaxInt64, NumTokens: math.MinInt64, NumTokensAll: 0,
		SumLogits: math.MaxFloat64, SumLogitsUncond: math.SmallestNonzeroFloat64}
	cases := []struct {
		line string
		want gen.QAQuestionOutput
	}{
		{`{"doc_id": 0}`, gen.QAQuestionOutput{DocID: 0}},
		{`{"doc_id": -1, "metrics": {}, "model_output": [], "native_id": null, "label": null, "extra": {}}`,
			gen.QAQuestionOutput{DocID: -1, Metrics: map[string]float64{}, AnswerOutputs: []gen.QAQuestionOutputAnswerOutputs{}, Extra: []byte(`{"extra":{}}`)}},
		{`{"doc_id": 9223372036854775807, "native_id": "q\"1", "label": -3, "metrics": {"acc_raw": 1, "zeta": Infinity, "nan": NaN, "neg0": -0.0, "tiny": 5e-324, "big": 1.7976931348623157e308, "0.1": 0.1, "third": 0.3333333333333333, "s": "text"}, "model_output": [` + choice + `, ` + zero + `, ` + third + `], "x": [1, "y"]}`,
			gen.QAQuestionOutput{DocID: math.MaxInt64, NativeID: &nat, Label: &label,
				Metrics: map[string]float64{"acc_raw": 1, "zeta": math.Inf(1), "nan": math.NaN(), "neg0": math.Copysign(0, -1),
					"tiny": 5e-324, "big": 1.7976931348623157e308, "0.1": 0.1, "third": 1.0 / 3},
				AnswerOutputs: []gen.QAQuestionOutputAnswerOutputs{answer, {}, {LogitsPerByte: -0.123456789012345678}},
				Extra:         []byte(`{"metrics":{"s":"text"},"model_output":[{},{},{"continuation":" A"}],"x":[1,"y"]}`)}},
		{"{\"doc_id\": -9223372036854775808, \"native_id\": 12.50, \"label\": \"x\", \"metrics\": {\"quote\\\"d\": 1, \"back\\\\slash\": 2, \"ctl\\u0001\": 3, \"ünï\": 4, \"bad\xff\": 5, \"\": 6, \"tab\\t\": 7}}",
			gen.QAQuestionOutput{DocID: math.MinInt64, NativeID: &num, Extra: []byte(`{"label":"x"}`),
				Metrics: map[string]float64{"quote\"d": 1, "back\\slash": 2, "ctl\x01": 3, "ünï": 4, "bad\xff": 5, "": 6, "tab\t": 7}}},
		{`{"doc_id": 5, "model_output": [` + zero + `, {"is_greedy": 1}], "metrics": {"b": 2, "a": 1}}`,
			gen.QAQuestionOutput{DocID: 5, Metrics: map[string]float64{"a": 1, "b": 2},
				Extra: []byte(`{"model_output":[{"is_greedy":false,"logits_per_byte":0,"logits_per_char":0,"logits_per_token":0,"num_chars":0,"num_tokens":0,"num_tokens_all":0,"sum_logits":0,"sum_logits_uncond":0},{"is_greedy":1}]}`)}},
	}
	q := &qaLoad{l: &loaders.Load{ID: 7}, kept: map[string]int64{}, odd: map[string]*skipped{}}
	task := &qaTask{model: &qaModel{ref: "c4/1B/seed-0/step-100"}, task: "arc_easy"}
	b := &qaBatch{}
	for _, c := range cases {
		id, err := q.question([]byte(c.line), task, b)
		if err != nil || id != c.want.DocID {
			t.Fatalf("question(%s) = %d, %v", c.line, id, err)
		}
	}
	if len(b.qs) != len(cases) || b.ref != task.model.ref || b.task != task.task {
		t.Fatalf("batch of %d rows for %s %s", len(b.qs), b.ref, b.task)
	}
	staged := func(r *qaStaged) []driver.Value {
		text := func(x qaText) driver.Value {
			if x.null() {
				return nil
			}
			return string(b.text[x.from:x.to])
		}
		v := []driver.Value{b.ref, b.task, r.docID, text(r.nativeID), nil, text(r.metrics), text(r.answers), q.l.ID, text(r.extra)}
		if r.hasLabel {
			v[4] = r.label
		}
		return v
	}
	for i, c := range cases {
		w := c.want
		w.ModelRef, w.Task, w.LoadID = task.model.ref, task.task, &q.l.ID
		if got, want := staged(&b.qs[i]), w.Values(); !reflect.DeepEqual(got, want) {
			t.Errorf("line %d: staged\n got %#v\nwant %#v", i, got, want)
		}
	}
	// The texts themselves, so that the test does not only compare two
	// writers that could both be wrong.
	got := staged(&b.qs[2])
	if want := `{"0.1":0.1,"acc_raw":1,"big":1.7976931348623157e+308,"nan":NaN,"neg0":-0.0,"third":0.3333333333333333,"tiny":5e-324,"zeta":Infinity}`; got[5] != want {
		t.Errorf("metrics %s, want %s", got[5], want)
	}
	// A double is written as its own text when every reader reads it
	// alike (plainNumber; TestPlainNumberReadsAlike), else as its
	// shortest: these texts differ from gen's, not their values.
	line := strings.Replace(`{"doc_id": 6, "metrics": {"b": 1.50, "a": 1E5, "z": -0, "big": 1152921504606846976}, "model_output": [`+zero+`]}`, `"logits_per_byte": 0`, `"logits_per_byte": 2.50e-3`, 1)
	if _, err := q.question([]byte(line), task, b); err != nil {
		t.Fatal(err)
	}
	r := staged(&b.qs[len(b.qs)-1])
	if want := `{"a":1E5,"b":1.50,"big":1.152921504606847e+18,"z":-0.0}`; r[5] != want {
		t.Errorf("metrics %s, want %s", r[5], want)
	}
	if want := `[{"is_greedy":false,"logits_per_byte":2.50e-3,"logits_per_char":0,`; !strings.HasPrefix(r[6].(string), want) {
		t.Errorf("answer_outputs %s, want it to start %s", r[6], want)
	}
	if want := `[{"is_greedy":true,"logits_per_byte":-Infinity,"logits_per_char":NaN,"logits_per_token":-0.0,"num_chars":9223372036854775807,"num_tokens":-9223372036854775808,"num_tokens_all":0,"sum_logits":1.7976931348623157e+308,"sum_logits_uncond":5e-324},{"is_greedy":false,`; !strings.HasPrefix(got[6].(string), want) {
		t.Errorf("answer_outputs %s, want it to start %s", got[6], want)
	}
}

// BenchmarkQuestion decodes a prediction line shaped like the bench's (14
// metrics, 4 choices) into a staged row, as the load does a question.
func BenchmarkQuestion(b *testing.B) {
	line := []byte(`{"doc_id": 17, "native_id": "Mercury_7175875", "label": 2, "task_hash": "4c3b", "model_hash": "9f1e", "metrics": {` +
		`"predicted_index_raw": 2, "predicted_index_per_token": 2, "predicted_index_per_char": 1, "predicted_index_per_byte": 1, ` +
		`"predicted_index_uncond": 3, "correct_choice": 2, "acc_raw": 1, "acc_per_token": 1, "acc_per_char": 0, "acc_per_byte": 0, ` +
		`"acc_uncond": 0, "no_answer": 0, "sum_logits_corr": -12.53125, "logits_per_byte_corr": 0.4270833333333333}, "model_output": [`)
	for i := 0; i < 4; i++ {
		if i > 0 {
			line = append(line, ", "...)
		}
		line = append(line, `{"sum_logits": -17.123456789, "num_tokens": 9, "num_tokens_all": 12, "is_greedy": false, "sum_logits_uncond": -21.5, "logits_per_token": -1.9025, "logits_per_char": -0.4280864197, "logits_per_byte": -0.6175843, "num_chars": 40}`...)
	}
	line = append(line, "]}"...)
	q := &qaLoad{l: &loaders.Load{ID: 1}, kept: map[string]int64{}, odd: map[string]*skipped{}}
	t := &qaTask{model: &qaModel{ref: "c4/1B/seed-0/step-100"}, task: "arc_easy"}
	batch := newBatch(tarstream.Member{})
	for b.Loop() {
		if len(batch.qs) == qaBatchRows {
			putBatch(batch) // as the table function does once DuckDB copied the rows
			batch = newBatch(tarstream.Member{})
		}
		if _, err := q.question(line, t, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMetricKey: a metric name comes back as itself, from the names kept
// (up to maxMetricKeys) or made anew past them, and a kept name is not
// the caller's buffer (which the parser reuses).
func TestMetricKey(t *testing.T) {
	q := &qaLoad{}
	buf := []byte("acc_raw")
	k := q.metricKey(buf)
	copy(buf, "XXXXXXX")
	if k != "acc_raw" || q.metricKey([]byte("acc_raw")) != "acc_raw" {
		t.Fatalf("metricKey kept %q", k)
	}
	for i := 1; i <= maxMetricKeys+1; i++ {
		name := fmt.Sprintf("m%d", i)
		if got := q.metricKey([]byte(name)); got != name {
			t.Fatalf("metricKey(%s) = %s", name, got)
		}
		if want := min(i+1, maxMetricKeys); len(q.metricKeys) != want {
			t.Fatalf("after %d names, %d kept; want %d", i+1, len(q.metricKeys), want)
		}
	}
	if _, ok := q.metricKeys[fmt.Sprintf("m%d", maxMetricKeys)]; ok {
		t.Errorf("a name past maxMetricKeys was kept")
	}
}

// TestMetricOrder: question after question, the metrics come out sorted
// by name, whether the question lists the names of the one before in its
// order (the order kept), in another order (from the first name or a
// later one), fewer, more or others.
func TestMetricOrder(t *testing.T) {
	q := &qaLoad{}
	for _, names := range [][]string{
		{"b", "a", "c"}, {"b", "a", "c"}, {"a", "b", "c"}, {"b", "a"}, {"b", "a", "d"}, {"b", "a", "c", "e"}, {}, {"z"}, {"b", "a", "c"},
		{"b", "c", "a"}, {"b", "c", "d"}, // the same first names, then others
	} {
		ms := make([]qaMetric, len(names))
		for i, n := range names {
			ms[i].key = n
		}
		var got []string
		for _, j := range q.metricOrder(ms) {
			got = append(got, ms[j].key)
		}
		want := slices.Sorted(slices.Values(names))
		if !slices.Equal(got, want) {
			t.Errorf("%v: ordered %v, want %v", names, got, want)
		}
	}
}

// TestAnswerKeys: the fields appendAnswers writes are answer_outputs'
// fields, in the schema's order, and no other: appender.FromJSON, which
// reads them, would leave out a key that is not one.
func TestAnswerKeys(t *testing.T) {
	i := slices.Index(gen.QAQuestionOutputColumns, "answer_outputs")
	typ := gen.QAQuestionOutputStages[i].Cast
	inner, ok := strings.CutPrefix(typ, "STRUCT(")
	if inner, ok = strings.CutSuffix(inner, ")[]"); !ok {
		t.Fatalf("answer_outputs staged as %s", typ)
	}
	var fields []string
	for _, f := range strings.Split(inner, ", ") {
		fields = append(fields, strings.Fields(f)[0])
	}
	if !slices.Equal(fields, answerKeys) {
		t.Errorf("answerKeys %v; the schema's fields %v", answerKeys, fields)
	}
	var p fastjson.Parser
	v, err := p.Parse(`[{"is_greedy": true, "logits_per_byte": 1, "logits_per_char": 2, "logits_per_token": 3, "num_chars": 4, "num_tokens": 5, "num_tokens_all": 6, "sum_logits": 7, "sum_logits_uncond": 8}]`)
	if err != nil {
		t.Fatal(err)
	}
	text, _, ok := appendAnswers(nil, v, new([]byte))
	if !ok {
		t.Fatal("appendAnswers refused the choice")
	}
	o, err := p.ParseBytes(text)
	if err != nil {
		t.Fatal(err)
	}
	var written []string
	o.GetArray()[0].GetObject().Visit(func(k []byte, _ *fastjson.Value) { written = append(written, string(k)) })
	if !slices.Equal(written, fields) {
		t.Errorf("appendAnswers wrote %v; the schema's fields %v", written, fields)
	}
}
