package qa

import (
	"testing"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/jsonexact"
	"github.com/valyala/fastjson"
)

// FuzzQAQuestion: a prediction line from an untrusted file never panics
// the decoder; a staged row's texts (extra, metrics, answers) are JSON
// that reads back, and every answer it typed came from a model_output
// choice.
func FuzzQAQuestion(f *testing.F) {
	for _, s := range []string{
		`{"doc_id": 0, "native_id": "ARC_1", "metrics": {"acc_raw": 1, "x": NaN, "s": "B"}, "model_output": [{"sum_logits": -1.5, "num_tokens": 3, "num_tokens_all": 30, "is_greedy": false, "sum_logits_uncond": -2, "logits_per_token": -0.5, "logits_per_char": -0.1, "logits_per_byte": -0.14, "num_chars": 10, "continuation": " A"}], "label": 0, "task_hash": "t", "model_hash": "m"}`,
		`{"doc_id": 7, "native_id": 12, "metrics": {"a": Infinity, "b": -Infinity}, "model_output": [{"sum_logits": null}], "label": "x", "extra": [1, 2]}`,
		`{"doc_id": 1e3}`, `{"doc_id": 99999999999999999999}`, `[1]`, `{"doc_id": 1, "native_id": {"a": "\u00e9\"\\"}}`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		q := &qaLoad{l: &loaders.Load{ID: 1}, kept: map[string]int64{}, odd: map[string]*skipped{}}
		task := &qaTask{model: &qaModel{ref: "m"}, task: "t"}
		b := &qaBatch{}
		if _, err := q.question(line, task, b); err != nil {
			return
		}
		r := b.qs[0]
		for _, x := range []qaText{r.extra, r.metrics, r.answers} {
			if x.null() {
				continue
			}
			if _, err := (&fastjson.Parser{}).ParseBytes(jsonexact.PyInf(b.text[x.from:x.to])); err != nil {
				t.Fatalf("staged text %s is not JSON: %v", b.text[x.from:x.to], err)
			}
		}
		v := mustParse(t, jsonexact.PyInf(line))
		if !r.answers.null() {
			if n, want := len(mustParse(t, jsonexact.PyInf(b.text[r.answers.from:r.answers.to])).GetArray()), len(v.GetArray("model_output")); n != want {
				t.Fatalf("%d answers from %d choices", n, want)
			}
		}
		back := jsonexact.UnInf(jsonexact.Compact(v))
		if _, err := (&fastjson.Parser{}).ParseBytes(jsonexact.PyInf(back)); err != nil {
			t.Fatalf("the line's compact form %s does not read back: %v", back, err)
		}
	})
}

func mustParse(t *testing.T, b []byte) *fastjson.Value {
	var p fastjson.Parser
	v, err := p.ParseBytes(b)
	if err != nil {
		t.Fatalf("a decoded line does not parse: %v", err)
	}
	return v
}
