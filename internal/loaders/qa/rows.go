package qa

import (
	"database/sql/driver"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/jsonexact"

	"github.com/valyala/fastjson"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/runname"
	"github.com/dschema/dschema/internal/tarstream"
)

// predictions reads a -predictions.jsonl: one question a line.
func (q *qaLoad) predictions(m tarstream.Member, r io.Reader, t *qaTask) error {
	if t.predictions != "" {
		return q.fail(m, qaWhole, fmt.Sprintf("a second predictions file for %s, task %s (the first: %s)", t.model.ref, t.task, t.predictions))
	}
	t.predictions = m.Path
	if t.skipped != 0 {
		q.skip(fmt.Sprintf("questions of a model and task load %d already holds", t.skipped), m.Path)
		return nil
	}
	seen := map[int64]int64{}
	return q.batched(m, r, func(at qaAt, b []byte, batch *qaBatch) error {
		id, err := q.question(b, t, batch)
		if err != nil {
			return q.failErr(m, at, err.Error(), err)
		}
		if prev, dup := seen[id]; dup {
			return q.fail(m, at, fmt.Sprintf("doc_id %d again (first on line %d)", id, prev))
		}
		seen[id] = at.line
		t.questions++
		batch.lines = append(batch.lines, at)
		return nil
	})
}

// answerKeys are ModelAnswerOutput's fields, in the struct's order.
var answerKeys = []string{"is_greedy", "logits_per_byte", "logits_per_char", "logits_per_token", "num_chars", "num_tokens", "num_tokens_all", "sum_logits", "sum_logits_uncond"}

// qaMetric is a metric of a question: its name, and its value's JSON
// text (appendExactFloat's) at [from, to) of qaLoad.metricText.
type qaMetric struct {
	key      string
	from, to int
}

// question decodes one prediction line into a staged row of batch (its
// texts appended to batch.text) and returns its doc_id. The staged values
// are those gen.QAQuestionOutput.Values gives for the row the line holds
// (TestQuestionStaged): metrics sorted by name, each double as its own
// text or its shortest (appendExactFloat); built here straight from the
// parsed line, without the row's map and slices.
func (q *qaLoad) question(b []byte, t *qaTask, batch *qaBatch) (int64, error) {
	v, err := q.parser.ParseBytes(jsonexact.PyInf(b))
	if err != nil {
		return 0, fmt.Errorf("malformed JSON: %w", err)
	}
	if err := q.strict(v); err != nil {
		return 0, err
	}
	o, err := v.Object()
	if err != nil {
		return 0, fmt.Errorf("not a JSON object")
	}
	docID := o.Get("doc_id")
	if docID == nil {
		return 0, fmt.Errorf("no doc_id")
	}
	id, ok := exactInt(docID)
	if !ok {
		return 0, fmt.Errorf("doc_id %s is not an integer", docID)
	}
	batch.ref, batch.task = t.model.ref, t.task
	row := qaStaged{docID: id, nativeID: noText, metrics: noText, answers: noText, extra: noText}
	var extra loaders.JSONObject
	var correct float64 // metrics.correct_choice, when hasCorrect
	hasCorrect := false
	o.Visit(func(k []byte, x *fastjson.Value) {
		switch string(k) {
		case "doc_id":
		case "native_id":
			row.nativeID = batch.nativeID(x)
		case "label":
			if l, ok := exactInt(x); ok {
				row.label, row.hasLabel = l, true
			} else if x.Type() != fastjson.TypeNull {
				addValue(&extra, "label", x)
			}
		case "task_hash", "model_hash":
			s := string(x.GetStringBytes())
			if x.Type() != fastjson.TypeString {
				addValue(&extra, string(k), x)
				return
			}
			h := &t.taskHash
			if string(k) == "model_hash" {
				h = &t.modelHash
			}
			if *h == "" {
				*h = s
			} else if *h != s {
				addValue(&extra, string(k), x) // another hash than the task's first line
			}
		case "metrics":
			mo, err := x.Object()
			if err != nil {
				addValue(&extra, "metrics", x)
				return
			}
			var rest loaders.JSONObject
			q.metrics, q.metricText = q.metrics[:0], q.metricText[:0]
			mo.Visit(func(mk []byte, mv *fastjson.Value) {
				from := len(q.metricText)
				var ok bool
				if q.metricText, ok = appendExactFloat(q.metricText, mv, &q.numText); ok {
					q.metrics = append(q.metrics, qaMetric{q.metricKey(mk), from, len(q.metricText)})
					if string(mk) == "correct_choice" {
						correct, hasCorrect = exactFloatBuf(mv, &q.numText)
					}
				} else {
					addValue(&rest, string(mk), mv)
				}
			})
			row.metrics = batch.metricsText(q.metrics, q.metricOrder(q.metrics), q.metricText)
			if !rest.Empty() {
				extra.AddRaw("metrics", rest.Bytes())
			}
		case "model_output":
			from := len(batch.text)
			text, leftover, ok := appendAnswers(batch.text, x, &q.numText)
			if !ok {
				batch.text = batch.text[:from]
				addValue(&extra, "model_output", x)
				return
			}
			batch.text, row.answers = text, qaText{from, len(text)}
			if leftover != nil {
				extra.AddRaw("model_output", leftover)
			}
		default:
			addValue(&extra, string(k), x)
		}
	})
	if !extra.Empty() {
		row.extra = batch.add(extra.Bytes())
		q.kept["questions with something kept in extra (text metrics, other keys, per-choice keys outside ModelAnswerOutput)"]++
	}
	if mo := o.Get("model_output"); mo != nil && mo.Type() == fastjson.TypeArray {
		n := len(mo.GetArray())
		where := func(what string) string {
			return fmt.Sprintf("%s %s doc %d (%s, %d choices)", t.model.ref, t.task, id, what, n)
		}
		if row.hasLabel && (row.label < 0 || row.label >= int64(n)) {
			q.noteOdd("questions whose label is not an index into their answer list (model_output; stored as written)", where(fmt.Sprintf("label %d", row.label)))
		}
		if c := correct; hasCorrect && (c != math.Trunc(c) || c < 0 || c >= float64(n)) {
			q.noteOdd("questions whose metrics.correct_choice is not an index into their answer list (model_output; stored as written)", where(fmt.Sprintf("correct_choice %v", c)))
		}
	}
	batch.qs = append(batch.qs, row)
	return id, nil
}

// strict refuses v when one of its numbers is not JSON's (nor Python's
// NaN, Infinity, -Infinity): fastjson reads 007, +1, .5, 5., 1.2.3, nan
// and inf as numbers, which would be stored as values the file does not
// hold, or refused by DuckDB's JSON casts without a line. It refuses v
// too when an object in it has a key twice: one of the two values would
// be dropped without a word (doc_id and the answers' fields by the first,
// metrics and the other keys by the last).
func (q *qaLoad) strict(v *fastjson.Value) error {
	t, err := jsonexact.Strict(v, q.numText)
	q.numText = t
	if err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	return nil
}

// maxMetricKeys bounds the metric names metricKey keeps.
const maxMetricKeys = 4096

// metricKey is k as a string, made once for each metric name (every
// question of a task has the same names) rather than once a question.
func (q *qaLoad) metricKey(k []byte) string {
	if s, ok := q.metricKeys[string(k)]; ok {
		return s
	}
	s := string(k)
	if q.metricKeys == nil {
		q.metricKeys = map[string]string{}
	}
	if len(q.metricKeys) < maxMetricKeys {
		q.metricKeys[s] = s
	}
	return s
}

// appendAnswers appends model_output as the JSON text of
// STRUCT(ModelAnswerOutput)[] when every choice has every field with its
// type (numText is exactFloatBuf's buffer), the fields in the struct's
// order, the doubles as appendExactFloat writes them; leftover is the
// choices' other keys (one object per choice), nil when none. When a choice does
// not fit, ok is false and what b holds past its length is not the
// answers' text.
func appendAnswers(b []byte, x *fastjson.Value, numText *[]byte) (text, leftover []byte, ok bool) {
	arr, err := x.Array()
	if err != nil {
		return b, nil, false
	}
	var rest []loaders.JSONObject // the choices' other keys, when one has some
	b = append(b, '[')
	for i, c := range arr {
		co, err := c.Object()
		if err != nil || co.Len() < len(answerKeys) {
			return b, nil, false
		}
		g := co.Get("is_greedy")
		if g == nil || (g.Type() != fastjson.TypeTrue && g.Type() != fastjson.TypeFalse) {
			return b, nil, false
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"is_greedy":`...)
		b = strconv.AppendBool(b, g.Type() == fastjson.TypeTrue)
		for _, k := range answerKeys[1:] {
			b = append(b, ',', '"')
			b = append(b, k...)
			b = append(b, '"', ':')
			var ok bool
			if k[0] == 'n' { // num_chars, num_tokens, num_tokens_all: BIGINT
				var n int64
				if n, ok = exactInt(co.Get(k)); ok {
					b = strconv.AppendInt(b, n, 10)
				}
			} else {
				b, ok = appendExactFloat(b, co.Get(k), numText)
			}
			if !ok {
				return b, nil, false
			}
		}
		b = append(b, '}')
		if co.Len() > len(answerKeys) {
			if rest == nil {
				rest = make([]loaders.JSONObject, len(arr))
			}
			co.Visit(func(k []byte, v *fastjson.Value) {
				if !isAnswerKey(string(k)) {
					addValue(&rest[i], string(k), v)
				}
			})
		}
	}
	b = append(b, ']')
	if rest != nil {
		leftover = []byte{'['}
		for i, r := range rest {
			if i > 0 {
				leftover = append(leftover, ',')
			}
			leftover = append(leftover, r.Bytes()...)
		}
		leftover = append(leftover, ']')
	}
	return b, leftover, true
}

func isAnswerKey(k string) bool {
	for _, a := range answerKeys {
		if a == k {
			return true
		}
	}
	return false
}

// metricsFile reads a -metrics.json: the task's metrics record.
func (q *qaLoad) metricsFile(m tarstream.Member, r io.Reader, t *qaTask) error {
	b, err := q.readMember(m, r)
	if err != nil {
		return err
	}
	return q.setRecord(m, qaWhole, b, t, false)
}

// metricsAll reads an OLMES metrics-all.jsonl: one record a line, the
// aggregates over tasks among them.
func (q *qaLoad) metricsAll(m tarstream.Member, r io.Reader, model *qaModel) error {
	return q.eachQALine(m, r, func(at qaAt, b []byte) error {
		v, err := q.parser.ParseBytes(jsonexact.PyInf(b))
		if err != nil {
			return q.malformed(m, at, err)
		}
		name := string(v.GetStringBytes("task_name"))
		if name == "" {
			return q.fail(m, at, "a record without task_name")
		}
		return q.setRecord(m, at, b, q.task(model, strings.TrimSpace(name)), true)
	})
}

// setRecord keeps a task's metrics record. OLMES writes it twice (the
// task's -metrics.json and its metrics-all.jsonl line): the first is kept,
// and a second that differs is reported.
func (q *qaLoad) setRecord(m tarstream.Member, at qaAt, b []byte, t *qaTask, fromAll bool) error {
	var p fastjson.Parser
	v, err := p.ParseBytes(jsonexact.PyInf(b))
	if err != nil {
		return q.malformed(m, at, err)
	}
	if err := q.strict(v); err != nil {
		return q.failErr(m, at, err.Error(), err)
	}
	if v.Type() != fastjson.TypeObject {
		return q.fail(m, at, "a metrics record is a JSON object")
	}
	text := string(jsonexact.Compact(v))
	where := m.Path
	if fromAll {
		where = fmt.Sprintf("%s line %d", m.Path, at.line)
	}
	if t.record != nil {
		if text != t.recordText {
			q.notes = append(q.notes, fmt.Sprintf("%s, task %s: the metrics record in %s differs from the one in %s; the first is kept", t.model.ref, t.task, where, t.recordMember))
		}
		return nil
	}
	t.record, t.recordText, t.recordMember = v, text, where
	return nil
}

// inputs reads an OLMES -requests.jsonl or -recorded-inputs.jsonl.
func (q *qaLoad) inputs(m tarstream.Member, r io.Reader, t *qaTask, kind string) error {
	if t.skipped != 0 {
		q.skip(fmt.Sprintf("inputs of a model and task load %d already holds", t.skipped), m.Path)
		return nil
	}
	return q.batched(m, r, func(at qaAt, b []byte, batch *qaBatch) error {
		v, err := q.parser.ParseBytes(jsonexact.PyInf(b))
		if err != nil {
			return q.malformed(m, at, err)
		}
		if err := q.strict(v); err != nil {
			return q.failErr(m, at, err.Error(), err) // doc_id twice: its column would hold one of the two
		}
		row := &gen.QAQuestionInput{ModelRef: t.model.ref, Task: t.task, Kind: kind, Line: at.line, LoadID: &q.l.ID,
			Body: append([]byte(nil), b...)}
		d := v.Get("doc_id")
		if d == nil {
			return q.fail(m, at, "no doc_id")
		}
		id, ok := exactInt(d)
		if !ok {
			return q.fail(m, at, fmt.Sprintf("doc_id %s is not an integer", d))
		}
		row.DocID = &id
		if x := v.Get("native_id"); x != nil {
			row.NativeID = nativeID(x)
		}
		if x := v.Get("idx"); x != nil {
			if i, ok := exactInt(x); ok {
				row.Idx = &i
			}
		}
		if x := v.Get("request_type"); x != nil && x.Type() == fastjson.TypeString {
			s := string(x.GetStringBytes())
			row.RequestType = &s
		}
		t.inputs++
		batch.ins, batch.lines = append(batch.ins, row), append(batch.lines, at)
		return nil
	})
}

// writeTasks appends one qa_task_outputs row per gathered (model, task).
func (q *qaLoad) writeTasks(dc driver.Conn) error {
	a, err := gen.NewQATaskOutputAppender(dc)
	if err != nil {
		return err
	}
	defer a.Close()
	keys := make([]string, 0, len(q.tasks))
	for k := range q.tasks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	runIDs := map[*qaModel]*string{}
	for _, k := range keys {
		t := q.tasks[k]
		if t.skipped != 0 { // one entry a pair, each named
			q.rep.Skip(loaders.FirstSourceKeeps("model and task", "qa_task_outputs", []string{fmt.Sprintf("%s, task %s (load %d)", t.model.ref, t.task, t.skipped)}))
			continue
		}
		row, err := q.taskRow(t, runIDs)
		if err != nil {
			return err
		}
		if err := a.Append(row); err != nil {
			return fmt.Errorf("%s, task %s: %w", t.model.ref, t.task, err)
		}
		for _, k := range t.model.kept {
			q.kept[k]++
		}
		name := t.model.ref + " " + t.task
		if t.predictions == "" && !*row.IsAggregate {
			q.noteOdd("tasks without a predictions file (their row has no questions)", name)
		}
		if t.record == nil {
			q.noteOdd("tasks without a metrics record (no -metrics.json, no metrics-all.jsonl line: their row has no aggregate metrics)", name)
		}
	}
	if err := a.Close(); err != nil {
		return fmt.Errorf("write qa_task_outputs: %w", err)
	}
	q.rep.Rows[gen.QATaskOutputTable] = a.Rows()
	return nil
}

// taskRow makes the qa_task_outputs row of a gathered (model, task), from
// its model, its metrics record and its config. runIDs remembers each
// OLMES model's W&B run, found once.
func (q *qaLoad) taskRow(t *qaTask, runIDs map[*qaModel]*string) (*gen.QATaskOutput, error) {
	m := t.model
	row := &gen.QATaskOutput{ModelRef: m.ref, Task: t.task, LoadID: &q.l.ID}
	isAgg := false
	row.IsAggregate = &isAgg
	switch m.layout {
	case "datadecide":
		row.Data, row.Params, row.Seed, row.RecipeRaw = nonEmpty(m.data), nonEmpty(m.params), m.seed, nonEmpty(m.slug)
		row.TrainingSeed, row.Step = &m.trainingSeed, &m.step
		row.ModelName = nonEmpty(fmt.Sprintf("%s/%s/seed-%d/step-%d", m.slug, m.params, m.trainingSeed, m.step))
	case "olmes":
		row.ModelName = nonEmpty(m.dir)
		// An aggregate: only in metrics-all.jsonl (no task file of its
		// own, whichever record was read first), in a dump that has task files.
		isAgg = !t.taskFiles && q.dumpDirs[m.ref]
	}
	row.TaskHash, row.ModelHash = nonEmpty(t.taskHash), nonEmpty(t.modelHash)
	if t.predictions != "" {
		n := t.questions
		row.NumInstances = &n
	}
	row.ModelKind = nonEmpty(m.kind)
	if t.record != nil {
		o, _ := t.record.Object()
		var rest loaders.JSONObject
		o.Visit(func(k []byte, v *fastjson.Value) { q.recordField(row, t, &rest, string(k), v) })
		if !rest.Empty() {
			row.Record = rest.Bytes()
		}
	}
	if row.TaskConfig == nil && t.config != "" {
		row.TaskConfig = []byte(t.config)
	} else if t.config != "" && string(row.TaskConfig) != t.config {
		q.notes = append(q.notes, fmt.Sprintf("%s, task %s: -config.json differs from the metrics record's task_config; the record's is kept", m.ref, t.task))
	}
	if m.layout == "olmes" {
		id, ok := runIDs[m]
		if !ok {
			id = olmesRunID(m, row.ModelConfig)
			runIDs[m] = id
		}
		if id != nil {
			row.RunID, row.ModelKind = id, nonEmpty("finetune")
		}
	}
	member := t.recordMember
	if member == "" {
		member = t.predictions
	}
	row.Member = nonEmpty(member)
	return row, nil
}

// nonEmpty is s, or nil for "".
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// recordField puts the field k (value v) of t's metrics record into row,
// or into rest (the row's record column) when it has no column of its own
// or disagrees with what the predictions said (with a note).
func (q *qaLoad) recordField(row *gen.QATaskOutput, t *qaTask, rest *loaders.JSONObject, k string, v *fastjson.Value) {
	m := t.model
	switch k {
	case "task_name":
		if string(v.GetStringBytes()) != t.task {
			addValue(rest, "task_name", v)
		}
	case "task_hash", "model_hash":
		h := &row.TaskHash
		if k == "model_hash" {
			h = &row.ModelHash
		}
		if s := string(v.GetStringBytes()); v.Type() == fastjson.TypeString && (*h == nil || **h == s) {
			*h = &s
		} else {
			addValue(rest, k, v)
			kept := "none"
			if *h != nil {
				kept = **h
			}
			q.notes = append(q.notes, fmt.Sprintf("%s, task %s: %s %s of the metrics record differs from the predictions' (%s); the predictions' is kept, the record's is in record", m.ref, t.task, k, v, kept))
		}
	case "num_instances":
		n, ok := exactInt(v)
		if !ok {
			addValue(rest, "num_instances", v)
		} else if row.NumInstances != nil && *row.NumInstances != n {
			addValue(rest, "num_instances", v)
			q.notes = append(q.notes, fmt.Sprintf("%s, task %s: the metrics record says %d instances, the predictions have %d", m.ref, t.task, n, *row.NumInstances))
		} else {
			row.NumInstances = &n
		}
	case "metrics":
		setMetrics(row, rest, v)
	case "task_config":
		row.TaskConfig = jsonexact.Compact(v)
	case "model_config":
		row.ModelConfig = jsonexact.Compact(v)
		if name := string(v.GetStringBytes("model")); name != "" {
			row.ModelName = &name
		}
	default:
		addValue(rest, k, v)
	}
}

// setMetrics puts a metrics record's metrics object v into row: numbers in
// Metrics (and primary_score in PrimaryScore), other values in MetricsJSON.
// A v that is not an object goes into rest.
func setMetrics(row *gen.QATaskOutput, rest *loaders.JSONObject, v *fastjson.Value) {
	mo, err := v.Object()
	if err != nil {
		addValue(rest, "metrics", v)
		return
	}
	var other loaders.JSONObject
	row.Metrics = map[string]float64{}
	mo.Visit(func(mk []byte, mv *fastjson.Value) {
		if f, ok := exactFloat(mv); ok {
			row.Metrics[string(mk)] = f
		} else {
			addValue(&other, string(mk), mv)
		}
	})
	if f, ok := row.Metrics["primary_score"]; ok {
		row.PrimaryScore = &f
	}
	if !other.Empty() {
		row.MetricsJSON = other.Bytes()
	}
}

// olmesRunID finds the W&B finetune run an OLMES dump evaluated: the first
// of the dump's name, then the components of model_config's model and
// model_path, that the run-name parser reads as one of the lab's run names
// (in this lab a run's id is its name).
func olmesRunID(m *qaModel, modelConfig []byte) *string {
	cands := []string{m.ref}
	if len(modelConfig) > 0 {
		var p fastjson.Parser
		if v, err := p.ParseBytes(modelConfig); err == nil {
			for _, k := range []string{"model", "model_path"} {
				cands = append(cands, strings.Split(string(v.GetStringBytes(k)), "/")...)
			}
		}
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if p := runname.Parse(c); p.RunType != "other" && p.RunType != "old" {
			return &c
		}
	}
	return nil
}

// nativeID is a native id as text (nativeIDText), nil for null.
func nativeID(x *fastjson.Value) *string {
	t, ok := nativeIDText(x)
	if !ok {
		return nil
	}
	s := string(t)
	return &s
}

// nativeIDText is a native id's text: a string as is, a number as
// written; ok is false for null.
func nativeIDText(x *fastjson.Value) (t []byte, ok bool) {
	switch x.Type() {
	case fastjson.TypeNull:
		return nil, false
	case fastjson.TypeString:
		return x.GetStringBytes(), true
	default:
		return jsonexact.Compact(x), true
	}
}
