package qa

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/dschema/dschema/internal/appender"
)

// qaStaged is a question row as the table function qaRows hands it to
// DuckDB's INSERT: the values gen.QAQuestionOutput.Values stages, the
// texts in the batch's text. model_ref, task and load_id are the batch's
// and the load's.
type qaStaged struct {
	docID    int64
	label    int64
	hasLabel bool
	nativeID qaText
	metrics  qaText // MAP(VARCHAR, DOUBLE) as JSON text
	answers  qaText // STRUCT(ModelAnswerOutput)[] as JSON text
	extra    qaText
}

// qaText is a text of a batch: batch.text[from:to]; noText is NULL.
type qaText struct{ from, to int }

var noText = qaText{-1, -1}

// null reports whether t is NULL.
func (t qaText) null() bool { return t.from < 0 }

// add appends b to the batch's text.
func (b *qaBatch) add(s []byte) qaText {
	from := len(b.text)
	b.text = append(b.text, s...)
	return qaText{from, len(b.text)}
}

// nativeID appends a native id's text (nativeIDText); null is NULL.
func (b *qaBatch) nativeID(x *fastjson.Value) qaText {
	t, ok := nativeIDText(x)
	if !ok {
		return noText
	}
	return b.add(t)
}

// metricsText appends ms (their values' texts in text) as the JSON text
// of a MAP(VARCHAR, DOUBLE), in the order of the indices order (the keys
// sorted, as appender.MapJSON writes them: metricOrder).
func (b *qaBatch) metricsText(ms []qaMetric, order []int, text []byte) qaText {
	from := len(b.text)
	t := append(b.text, '{')
	for i, j := range order {
		if i > 0 {
			t = append(t, ',')
		}
		t = appendKey(t, ms[j].key)
		t = append(t, ':')
		t = append(t, text[ms[j].from:ms[j].to]...)
	}
	b.text = append(t, '}')
	return qaText{from, len(b.text)}
}

// metricOrder is the indices of ms in the order of their keys (no key is
// there twice: jsonexact.Strict refused the line). The questions of a
// task list the same metrics in the same order: when ms has the keys of
// the question before, in its order, that question's order is used again
// rather than sorted anew.
func (q *qaLoad) metricOrder(ms []qaMetric) []int {
	same := len(ms) == len(q.lastKeys)
	for i := 0; same && i < len(ms); i++ {
		same = ms[i].key == q.lastKeys[i]
	}
	if same {
		return q.lastOrder
	}
	q.lastKeys, q.lastOrder = q.lastKeys[:0], q.lastOrder[:0]
	for i := range ms {
		q.lastKeys = append(q.lastKeys, ms[i].key)
		q.lastOrder = append(q.lastOrder, i)
	}
	slices.SortFunc(q.lastOrder, func(a, b int) int { return strings.Compare(ms[a].key, ms[b].key) })
	return q.lastOrder
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
