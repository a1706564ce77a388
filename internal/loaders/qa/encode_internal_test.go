package qa

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/loaders"
)

// TestQuestionValues holds qaEncoder to gen's Values, the staged form
// every other table goes through: the same values, the same JSON text, for
// the edges of what a row holds (NaN, ±Infinity, -0, the largest and
// smallest doubles, keys needing escapes or not UTF-8, nil and empty
// nested values), row after row through one encoder (its buffers are
// reused).
func TestQuestionValues(t *testing.T) {
	label, id, nat := int64(-3), int64(7), "q\"1"
	answer := gen.QAQuestionOutputAnswerOutputs{IsGreedy: true, LogitsPerByte: math.Inf(-1), LogitsPerChar: math.NaN(),
		LogitsPerToken: math.Copysign(0, -1), NumChars: math.MaxInt64, NumTokens: math.MinInt64, NumTokensAll: 0,
		SumLogits: math.MaxFloat64, SumLogitsUncond: math.SmallestNonzeroFloat64}
	rows := []*gen.QAQuestionOutput{
		{ModelRef: "m", Task: "t", DocID: 0},
		{ModelRef: "m", Task: "t", DocID: -1, Metrics: map[string]float64{}, AnswerOutputs: []gen.QAQuestionOutputAnswerOutputs{}, Extra: []byte(`{}`)},
		{ModelRef: "c4/1B/seed-0/step-100", Task: "arc_easy", DocID: math.MaxInt64, NativeID: &nat, Label: &label, LoadID: &id,
			Metrics: map[string]float64{"acc_raw": 1, "zeta": math.Inf(1), "nan": math.NaN(), "neg0": math.Copysign(0, -1),
				"tiny": 5e-324, "big": 1.7976931348623157e308, "0.1": 0.1, "third": 1.0 / 3},
			AnswerOutputs: []gen.QAQuestionOutputAnswerOutputs{answer, {}, {LogitsPerByte: -0.123456789012345678}},
			Extra:         []byte(`{"label":"x"}`)},
		{ModelRef: "m", Task: "t", Metrics: map[string]float64{"quote\"d": 1, "back\\slash": 2, "ctl\x01": 3, "ünï": 4, "bad\xff": 5, "": 6, "tab\t": 7}},
	}
	var e qaEncoder
	for round := 0; round < 2; round++ {
		for i, r := range rows {
			got, want := e.values(r), r.Values()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("row %d: values\n got %#v\nwant %#v", i, got, want)
			}
		}
	}
	// The texts themselves, so that the test does not only compare two
	// writers that could both be wrong.
	got := e.values(rows[2])
	if want := `{"0.1":0.1,"acc_raw":1,"big":1.7976931348623157e+308,"nan":NaN,"neg0":-0.0,"third":0.3333333333333333,"tiny":5e-324,"zeta":Infinity}`; got[5] != want {
		t.Errorf("metrics %s, want %s", got[5], want)
	}
	if want := `{"is_greedy":true,"logits_per_byte":-Infinity,"logits_per_char":NaN,"logits_per_token":-0.0,"num_chars":9223372036854775807,"num_tokens":-9223372036854775808,"num_tokens_all":0,"sum_logits":1.7976931348623157e+308,"sum_logits_uncond":5e-324}`; got[6].(string)[1:len(want)+1] != want {
		t.Errorf("answer_outputs %s, want it to start %s", got[6], want)
	}
}

// BenchmarkQuestionValues compares qaEncoder with gen's Values on a row
// shaped like the bench's (14 metrics, 4 choices).
func BenchmarkQuestionValues(b *testing.B) {
	r := &gen.QAQuestionOutput{ModelRef: "c4/1B/seed-0/step-100", Task: "arc_easy", Metrics: map[string]float64{}}
	for i := 0; i < 14; i++ {
		r.Metrics[string(rune('a'+i))+"_metric_raw"] = float64(i) / 7
	}
	for i := 0; i < 4; i++ {
		r.AnswerOutputs = append(r.AnswerOutputs, gen.QAQuestionOutputAnswerOutputs{LogitsPerByte: -1.2345678 * float64(i), LogitsPerChar: 0.25, LogitsPerToken: -3.75, NumChars: 40, NumTokens: 9, NumTokensAll: 12, SumLogits: -17.123456789, SumLogitsUncond: -21.5})
	}
	b.Run("gen", func(b *testing.B) {
		for b.Loop() {
			r.Values()
		}
	})
	b.Run("encoder", func(b *testing.B) {
		var e qaEncoder
		for b.Loop() {
			e.values(r)
		}
	})
}

// BenchmarkQuestion decodes a prediction line shaped like the bench's (14
// metrics, 4 choices) and encodes its row, as the load does a question.
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
	var e qaEncoder
	for b.Loop() {
		row, err := q.question(line, t)
		if err != nil {
			b.Fatal(err)
		}
		e.values(row)
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
