package qa

import (
	"math"
	"reflect"
	"testing"

	"github.com/dschema/dschema/gen"
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
