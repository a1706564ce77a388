package qa

import (
	"database/sql/driver"
	"slices"
	"unicode/utf8"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/appender"
)

// qaEncoder writes question rows as the staged appender takes them: the
// same values gen.QAQuestionOutput.Values makes (TestQuestionValues holds
// them equal), with less work a row. The struct keys of answer_outputs
// are written as constant text, the metrics keys are sorted in a slice
// kept from row to row, and every JSON text is built in one buffer kept
// from row to row. Values takes about a quarter of the load's CPU time on
// the bench's recipe tarball, and this path less than half of it.
type qaEncoder struct {
	buf  []byte
	keys []string
}

// values is r's staged values, in column order.
func (e *qaEncoder) values(r *gen.QAQuestionOutput) []driver.Value {
	v := make([]driver.Value, 9)
	v[0] = r.ModelRef
	v[1] = r.Task
	v[2] = r.DocID
	v[3] = appender.Deref(r.NativeID)
	v[4] = appender.Deref(r.Label)
	v[5] = e.metrics(r.Metrics)
	v[6] = e.answers(r.AnswerOutputs)
	v[7] = appender.Deref(r.LoadID)
	v[8] = appender.JSONText(r.Extra)
	return v
}

// metrics is a MAP(VARCHAR, DOUBLE) as appender.MapJSON writes it: keys
// sorted, nil is NULL.
func (e *qaEncoder) metrics(m map[string]float64) driver.Value {
	if m == nil {
		return nil
	}
	e.keys = e.keys[:0]
	for k := range m {
		e.keys = append(e.keys, k)
	}
	slices.Sort(e.keys)
	b := append(e.buf[:0], '{')
	for i, k := range e.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendKey(b, k)
		b = append(b, ':')
		b = appender.AppendJSONScalar(b, m[k])
	}
	b = append(b, '}')
	e.buf = b
	return string(b)
}

// answers is a STRUCT(...)[] as appender.StructsJSON writes it; nil is NULL.
func (e *qaEncoder) answers(s []gen.QAQuestionOutputAnswerOutputs) driver.Value {
	if s == nil {
		return nil
	}
	b := append(e.buf[:0], '[')
	for i := range s {
		if i > 0 {
			b = append(b, ',')
		}
		a := &s[i]
		b = append(b, `{"is_greedy":`...)
		b = appender.AppendJSONScalar(b, a.IsGreedy)
		b = append(b, `,"logits_per_byte":`...)
		b = appender.AppendJSONScalar(b, a.LogitsPerByte)
		b = append(b, `,"logits_per_char":`...)
		b = appender.AppendJSONScalar(b, a.LogitsPerChar)
		b = append(b, `,"logits_per_token":`...)
		b = appender.AppendJSONScalar(b, a.LogitsPerToken)
		b = append(b, `,"num_chars":`...)
		b = appender.AppendJSONScalar(b, a.NumChars)
		b = append(b, `,"num_tokens":`...)
		b = appender.AppendJSONScalar(b, a.NumTokens)
		b = append(b, `,"num_tokens_all":`...)
		b = appender.AppendJSONScalar(b, a.NumTokensAll)
		b = append(b, `,"sum_logits":`...)
		b = appender.AppendJSONScalar(b, a.SumLogits)
		b = append(b, `,"sum_logits_uncond":`...)
		b = appender.AppendJSONScalar(b, a.SumLogitsUncond)
		b = append(b, '}')
	}
	b = append(b, ']')
	e.buf = b
	return string(b)
}

// appendKey appends k as a JSON string: at once when it is printable
// ASCII without a quote or backslash (every key the lab's files have),
// else through appender.AppendJSONString.
func appendKey(b []byte, k string) []byte {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return appender.AppendJSONString(b, k)
		}
	}
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"')
}
