package qa

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dschema/dschema/internal/loaders"

	"github.com/valyala/fastjson"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/appender"
	"github.com/dschema/dschema/internal/runname"
	"github.com/dschema/dschema/internal/tarstream"
)

// The QA loader reads the per-question evaluation outputs of
// LEGACY-FORMATS.md §5 as one stream: DataDecide's eval-instance tarballs
// (one per checkpoint step, or one per recipe holding the step tarballs),
// the lab's extracted folders of them, and the lab's OLMES dumps of
// finetuned models, as folders or tarballs. Nothing is extracted to disk:
// tarstream hands each member over as a reader, nested tarballs included,
// and question rows go to the generated appenders as they are read, so
// memory stays bounded whatever the archive's size. Task rows (one per
// model and task, a few thousand at most) are kept until the end.

func init() { loaders.Register(qaLoader{}) }

// Kind is the load kind of QA outputs.
const Kind = "qa-outputs"

type qaLoader struct{}

func (qaLoader) Kind() string { return Kind }

// MemoryLimit is the default for QA outputs: the load streams, so DuckDB
// needs little; measured on a 1 GiB recipe tarball, peak RSS 606 MB under
// it, against 560 MB under 128MB at 4% more time (dschema bench qa-outputs).
const MemoryLimit = "256MB"

// DefaultMemoryLimit implements loaders.MemoryLimiter.
func (qaLoader) DefaultMemoryLimit() string { return MemoryLimit }

// Short implements loaders.Loader.
func (qaLoader) Short() string {
	return "QA per-question eval outputs: DataDecide eval-instance tarballs (per step, per recipe with nested tarballs, extracted folders) and the lab's OLMES dumps (folder or tarball)"
}
func (qaLoader) LoadsDirs() bool { return true }

// maxQALine bounds one JSON line or metrics file of QA outputs; a longer
// one is an error naming it, so memory stays bounded.
const maxQALine = 64 << 20

var (
	olmesFile     = regexp.MustCompile(`^task-(\d+)-(.+)-(predictions\.jsonl|recorded-inputs\.jsonl|requests\.jsonl|metrics\.json|config\.json)$`)
	instanceFile  = regexp.MustCompile(`^(.+)-(predictions\.jsonl|metrics\.json)$`)
	stepDir       = regexp.MustCompile(`^step-(\d+)(\.tar\.gz|\.tgz|\.tar)?$`)
	seedDir       = regexp.MustCompile(`^seed-(\d+)$`)
	paramsRe      = regexp.MustCompile(`^\d+(\.\d+)?[MB]$`)
	extractedDir  = regexp.MustCompile(`^(.+)_(\d+(?:\.\d+)?[MB])_(\d+)$`)
	revisionTail  = regexp.MustCompile(`__[^_/]+$`)
	archiveSuffix = regexp.MustCompile(`\.(tar\.gz|tgz|tar)$`)
)

// qaModel is what was evaluated.
type qaModel struct {
	ref    string // model_ref
	kind   string // pretrain_checkpoint, finetune or model
	layout string // datadecide or olmes
	// checkpoint
	slug, data, params string
	trainingSeed, step int64
	seed               *int64
	// OLMES
	dir string // the dump folder's name
	// kept is what each task row of the model keeps aside (a seed or data
	// left NULL), counted once per row written.
	kept []string
}

// qaTask gathers one (model, task) of the source.
type qaTask struct {
	model        *qaModel
	task         string
	predictions  string // member the questions came from
	questions    int64
	taskHash     string
	modelHash    string
	record       *fastjson.Value // the metrics record (parsed by a parser of its own, so it outlives the next line)
	recordText   string
	recordMember string
	config       string // -config.json, compact
	inputs       int64  // lines of its -requests.jsonl and -recorded-inputs.jsonl
	taskFiles    bool   // an OLMES task-XXX-<task>-* file names it
	skipped      int64  // load id of another source holding this model and task, when skipped
}

type qaLoad struct {
	ctx      context.Context
	l        *loaders.Load
	root     string
	tasks    map[string]*qaTask
	models   map[string]*qaModel // by model_ref (checkpoints) or dump folder: one per model
	existing map[string]int64    // model_ref\x00task → load_id of another source
	layouts  map[string]bool
	rep      *loaders.Report
	qs       *gen.QAQuestionOutputAppender
	ins      *gen.QAQuestionInputAppender
	parser   fastjson.Parser
	skipped  map[string]*skipped // reason → members passed over
	notes    []string
	kept     map[string]int64
	odd      map[string]*skipped // what the source contradicts or lacks (noteOdd), by what
	memLimit string              // DuckDB's memory limit during the load, as DuckDB says it
	longest  int                 // the longest line appended so far
	dumpDirs map[string]bool     // OLMES dumps with task files
	batches  chan *qaBatch       // rows from the walk to the appending goroutine
	pending  int                 // source bytes appended since the last flush
	done     <-chan struct{}     // closed when the load stops
}

// qaBatch is rows of one member, with their lines, on their way to the appenders.
type qaBatch struct {
	m     tarstream.Member
	lines []qaAt
	bytes int                     // the lines' size
	long  int                     // the longest line's size
	rows  []*gen.QAQuestionOutput // question rows, decoded
	qs    [][]driver.Value        // the same rows encoded (gen.QAQuestionOutput.Values)
	ins   []*gen.QAQuestionInput
}

// qaBatchRows is the rows a batch holds.
const qaBatchRows = 512

// send hands a batch to the appending goroutine.
func (q *qaLoad) send(b *qaBatch) error {
	if len(b.lines) == 0 {
		return nil
	}
	select {
	case q.batches <- b:
		return nil
	case <-q.done:
		return q.ctx.Err()
	}
}

// qaFlushBytes bounds the source bytes whose rows the appenders hold
// before they write them (the staged appender also writes every 16,384
// rows): rows of long lines would otherwise pile up by row count.
const qaFlushBytes = 32 << 20

// appendBatch writes a batch through the generated appenders.
func (q *qaLoad) appendBatch(b *qaBatch) error {
	for i, r := range b.qs {
		if err := q.qs.AppendValues(r); err != nil {
			return q.writeErr(b.m, b.lines[i], err)
		}
	}
	for i, r := range b.ins {
		if err := q.ins.Append(r); err != nil {
			return q.writeErr(b.m, b.lines[i], err)
		}
	}
	q.longest = max(q.longest, b.long)
	if q.pending += b.bytes; q.pending >= qaFlushBytes {
		q.pending = 0
		for _, f := range []func() error{q.qs.Flush, q.ins.Flush} {
			if err := f(); err != nil {
				return q.writeErr(b.m, b.lines[len(b.lines)-1], err)
			}
		}
	}
	return nil
}

// writeErr names the place of an append's error: the row's line when the
// row was refused; when DuckDB refused a batch of rows being written
// (appender.ErrWrite), the rows read up to that line.
func (q *qaLoad) writeErr(m tarstream.Member, at qaAt, err error) error {
	if errors.Is(err, appender.ErrWrite) {
		return q.refused(fmt.Sprintf("the rows read up to member %s line %d", m.Path, at.line), err)
	}
	return q.failErr(m, at, err.Error(), err)
}

// refused is DuckDB's refusal of the rows read up to place. When it ran
// out of memory, the message names the limit the load ran under and the
// flag that raises it: a line's row is written whole, so a long line
// (up to maxQALine) needs several times its size.
func (q *qaLoad) refused(place string, err error) error {
	msg := "DuckDB refused them: " + err.Error()
	if s := err.Error(); strings.Contains(s, "failed to allocate") || strings.Contains(s, "Out of Memory") {
		msg = fmt.Sprintf("DuckDB ran out of memory writing them under its memory limit of %s (the longest line read is %d bytes): raise --memory-limit (e.g. --memory-limit 2GB); DuckDB said: %s",
			q.memLimit, q.longest, s)
	}
	return &loaders.FileError{Path: q.root, Place: place, Msg: msg, Err: err}
}

func (qaLoader) Load(ctx context.Context, l *loaders.Load) (*loaders.Report, error) {
	q := &qaLoad{ctx: ctx, l: l, root: l.Source.Path, tasks: map[string]*qaTask{}, models: map[string]*qaModel{}, layouts: map[string]bool{},
		rep: &loaders.Report{Rows: map[string]int64{}}, skipped: map[string]*skipped{}, kept: map[string]int64{}, dumpDirs: map[string]bool{}}
	var err error
	if q.existing, err = qaExisting(ctx, l.Conn, l.ID); err != nil {
		return nil, err
	}
	if err := l.Conn.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&q.memLimit); err != nil {
		return nil, fmt.Errorf("read DuckDB's memory limit: %w", err)
	}
	l.Stage("reading " + filepath.Base(q.root))
	err = l.Conn.Raw(func(dc any) error {
		var err error
		if q.qs, err = gen.NewQAQuestionOutputAppender(dc.(driver.Conn)); err != nil {
			return err
		}
		defer q.qs.Close()
		if q.ins, err = gen.NewQAQuestionInputAppender(dc.(driver.Conn)); err != nil {
			return err
		}
		defer q.ins.Close()
		// Three stages: the walk (decompression and JSON decoding) sends
		// batches of rows, a second goroutine encodes them for the staged
		// appender, this one appends them. Each takes about a third of the
		// work, so two cores stay busy.
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		q.batches = make(chan *qaBatch, 4)
		q.done = wctx.Done()
		encoded := make(chan *qaBatch, 4)
		var walkErr error
		go func() {
			defer close(q.batches)
			walkErr = tarstream.Walk(wctx, q.root, tarstream.Options{Nested: true, Progress: l.ReadProgress}, q.member)
		}()
		go func() {
			defer close(encoded)
			for b := range q.batches {
				for _, r := range b.rows {
					b.qs = append(b.qs, r.Values())
				}
				b.rows = nil
				encoded <- b
			}
		}()
		var appendErr error
		for b := range encoded {
			if appendErr == nil {
				if appendErr = q.appendBatch(b); appendErr != nil {
					cancel()
				}
			}
		}
		if appendErr != nil {
			return appendErr
		}
		if walkErr != nil {
			return walkErr
		}
		l.Stage("writing the questions")
		for _, c := range []func() error{q.qs.Close, q.ins.Close} {
			if err := c(); err != nil {
				return q.refused("the last rows read", err)
			}
		}
		q.rep.Rows[gen.QAQuestionOutputTable] = q.qs.Rows()
		q.rep.Rows[gen.QAQuestionInputTable] = q.ins.Rows()
		return q.writeTasks(dc.(driver.Conn))
	})
	if err != nil {
		var fe *loaders.FileError
		if errors.As(err, &fe) || ctx.Err() != nil {
			return nil, err
		}
		return nil, loaders.TreeError(q.root, err)
	}
	if len(q.tasks) == 0 {
		return nil, &loaders.FileError{Path: q.root, Msg: "no QA outputs found: expected <task>-predictions.jsonl and <task>-metrics.json under step-<N>/ (DataDecide eval instances) or task-XXX-<task>-predictions.jsonl and metrics-all.jsonl (an OLMES dump)" + q.skippedSummary()}
	}
	q.report()
	return q.rep, nil
}

// qaExisting lists the (model, task) pairs another current load holds.
func qaExisting(ctx context.Context, conn *sql.Conn, id int64) (map[string]int64, error) {
	rows, err := conn.QueryContext(ctx, "SELECT model_ref, task, load_id FROM qa_task_outputs WHERE load_id <> ?", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var m, t string
		var lid int64
		if err := rows.Scan(&m, &t, &lid); err != nil {
			return nil, err
		}
		out[m+"\x00"+t] = lid
	}
	return out, rows.Err()
}

// components are the path elements of a member, the root's included.
func (q *qaLoad) components(m tarstream.Member) []string {
	out := strings.Split(filepath.ToSlash(q.root), "/")
	for _, c := range m.Chain {
		out = append(out, strings.Split(path.Clean(c), "/")...)
	}
	return out
}

func (q *qaLoad) member(m tarstream.Member, r io.Reader) error {
	comps := q.components(m)
	base := comps[len(comps)-1]
	parents := comps[:len(comps)-1]
	if g := olmesFile.FindStringSubmatch(base); g != nil {
		model := q.olmesModel(parents)
		q.dumpDirs[model.ref] = true
		q.layouts["olmes"] = true
		t := q.task(model, g[2])
		t.taskFiles = true
		switch g[3] {
		case "predictions.jsonl":
			return q.predictions(m, r, t)
		case "metrics.json":
			return q.metricsFile(m, r, t)
		case "config.json":
			b, err := q.readMember(m, r)
			if err != nil {
				return err
			}
			v, err := q.parser.ParseBytes(pyInf(b))
			if err != nil {
				return q.malformed(m, qaWhole, err)
			}
			t.config = string(compactJSON(v))
			return nil
		case "requests.jsonl":
			return q.inputs(m, r, t, "request")
		default:
			return q.inputs(m, r, t, "recorded_input")
		}
	}
	if base == "metrics-all.jsonl" {
		q.layouts["olmes"] = true
		return q.metricsAll(m, r, q.olmesModel(parents))
	}
	if g := instanceFile.FindStringSubmatch(base); g != nil {
		model, err := q.checkpoint(parents)
		if err != nil {
			return q.failErr(m, qaWhole, err.Error(), err)
		}
		q.layouts["datadecide"] = true
		t := q.task(model, g[1])
		if g[2] == "predictions.jsonl" {
			return q.predictions(m, r, t)
		}
		return q.metricsFile(m, r, t)
	}
	reason := "not a QA output file (only <task>-predictions.jsonl, <task>-metrics.json, the OLMES task-XXX-<task>-* files and metrics-all.jsonl are read)"
	if base == "metrics.jsonl" {
		reason = "the OLMES dumps' vestigial metrics.jsonl (no structured records; metrics-all.jsonl holds them)"
	}
	q.skip(reason, m.Path)
	return nil
}

// skip records a member passed over, and why.
func (q *qaLoad) skip(reason, member string) {
	s := q.skipped[reason]
	if s == nil {
		s = &skipped{}
		q.skipped[reason] = s
	}
	s.add(member)
}

// skipped is the members passed over for one reason: the first few by
// name, and how many.
type skipped struct {
	first []string
	n     int64
}

func (s *skipped) add(what string) {
	if len(s.first) < 5 {
		s.first = append(s.first, what)
	}
	s.n++
}

// what is the first few, and how many more.
func (s *skipped) what() string {
	w := strings.Join(s.first, ", ")
	if more := s.n - int64(len(s.first)); more > 0 {
		w += fmt.Sprintf(", and %d more", more)
	}
	return w
}

// noteOdd records something stored as the source has it that the source
// itself contradicts or lacks (a label outside the answer list, a task
// Without its predictions): the report counts them by what.
func (q *qaLoad) noteOdd(what, example string) {
	if q.odd == nil {
		q.odd = map[string]*skipped{}
	}
	s := q.odd[what]
	if s == nil {
		s = &skipped{}
		q.odd[what] = s
	}
	s.add(example)
}

// checkpoint tells the DataDecide checkpoint of a member from its path:
// <slug>/<params>/seed-<N>/step-<S>[.tar.gz]/... or
// <slug>_<params>_<N>/step-<S>/...; step-<S> may repeat (a step tarball
// extracted into a folder of its name).
func (q *qaLoad) checkpoint(parents []string) (*qaModel, error) {
	i := len(parents) - 1
	var step int64 = -1
	for ; i >= 0; i-- {
		g := stepDir.FindStringSubmatch(parents[i])
		if g == nil {
			break
		}
		s, _ := strconv.ParseInt(g[1], 10, 64)
		if step >= 0 && s != step {
			return nil, fmt.Errorf("two steps in its path: step-%d and step-%d", s, step)
		}
		step = s
	}
	const want = "expected <recipe>/<params>/seed-<N>/step-<S>/ or <recipe>_<params>_<N>/step-<S>/ in its path"
	if step < 0 || i < 0 {
		return nil, fmt.Errorf("cannot tell which checkpoint it is: %s", want)
	}
	m := &qaModel{kind: "pretrain_checkpoint", layout: "datadecide", step: step}
	if g := seedDir.FindStringSubmatch(parents[i]); g != nil && i >= 2 && paramsRe.MatchString(parents[i-1]) {
		m.trainingSeed, _ = strconv.ParseInt(g[1], 10, 64)
		m.params, m.slug = parents[i-1], parents[i-2]
	} else if g := extractedDir.FindStringSubmatch(parents[i]); g != nil {
		m.slug, m.params = g[1], g[2]
		m.trainingSeed, _ = strconv.ParseInt(g[3], 10, 64)
	} else {
		return nil, fmt.Errorf("cannot tell which checkpoint it is (%q before step-%d): %s", parents[i], step, want)
	}
	m.slug = archiveSuffix.ReplaceAllString(m.slug, "")
	data, known := runname.LookupRecipe(m.slug)
	seedName := fmt.Sprintf("training-seed-%d", m.trainingSeed)
	if s, ok := runname.DataDecideSeed(m.trainingSeed); ok {
		m.seed = &s
		seedName = fmt.Sprintf("seed-%d", s)
	} else {
		m.kept = append(m.kept, fmt.Sprintf("training seed %d is not one of DataDecide's (6198 or 2, 14, 15, 4, 5): seed left NULL", m.trainingSeed))
	}
	name := m.slug
	if known {
		m.data, name = data, data
	} else {
		m.kept = append(m.kept, fmt.Sprintf("recipe %q is not a DataDecide recipe alias (recipe_aliases): data left NULL", m.slug))
	}
	m.ref = fmt.Sprintf("%s/%s/%s/step-%d", name, m.params, seedName, m.step)
	return q.model(m.ref, m), nil
}

// model is the model under key, m when it is the first.
func (q *qaLoad) model(key string, m *qaModel) *qaModel {
	if old, ok := q.models[key]; ok {
		return old
	}
	q.models[key] = m
	return m
}

// olmesModel is the model of an OLMES dump: its folder's name without the
// __<revision> suffix (a tarball holding the files at its top: the
// tarball's name).
func (q *qaLoad) olmesModel(parents []string) *qaModel {
	dir := archiveSuffix.ReplaceAllString(parents[len(parents)-1], "")
	ref := revisionTail.ReplaceAllString(dir, "")
	if ref == "" {
		ref = dir
	}
	return q.model("olmes\x00"+dir, &qaModel{ref: ref, kind: "model", layout: "olmes", dir: dir})
}

// task is the gathered (model, task), made on first sight.
func (q *qaLoad) task(m *qaModel, task string) *qaTask {
	key := m.ref + "\x00" + task
	t, ok := q.tasks[key]
	if !ok {
		t = &qaTask{model: m, task: task}
		t.skipped = q.existing[key]
		q.tasks[key] = t
	}
	return t
}

// qaAt is a place in a member: a line, numbered from 1, and the byte
// offset of its start in the member (the member's own bytes, as extracted,
// not the archive's); qaWhole is the whole member.
type qaAt struct{ line, off int64 }

var qaWhole = qaAt{0, -1}

// place names m and, for a line, its number and offset.
func (at qaAt) place(m tarstream.Member) string {
	if at.line <= 0 {
		return loaders.MemberPlace(m.Path, 0, -1)
	}
	return fmt.Sprintf("%s (byte %d of the member)", loaders.MemberPlace(m.Path, at.line, -1), at.off)
}

// readErr is a member's read error (a truncated or corrupt archive) as a
// FileError naming the member, the line and the archive's byte offset.
func (q *qaLoad) readErr(m tarstream.Member, at qaAt, err error) error {
	var te *tarstream.Error
	if !errors.As(err, &te) {
		return q.failErr(m, at, err.Error(), err)
	}
	return &loaders.FileError{Path: q.root, Place: loaders.MemberPlace(m.Path, at.line, te.Offset), Msg: te.Msg, Err: err}
}

func (q *qaLoad) fail(m tarstream.Member, at qaAt, msg string) error {
	return &loaders.FileError{Path: q.root, Place: at.place(m), Msg: msg}
}

func (q *qaLoad) failErr(m tarstream.Member, at qaAt, msg string, err error) error {
	return &loaders.FileError{Path: q.root, Place: at.place(m), Msg: msg, Err: err}
}

func (q *qaLoad) malformed(m tarstream.Member, at qaAt, err error) error {
	return q.failErr(m, at, "malformed JSON: "+err.Error(), err)
}

// readMember reads a whole metrics or config member, up to maxQALine, and
// refuses text that cannot be stored exactly (textProblem).
func (q *qaLoad) readMember(m tarstream.Member, r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxQALine+1))
	if err != nil {
		return nil, q.readErr(m, qaWhole, err)
	}
	if len(b) > maxQALine {
		return nil, q.fail(m, qaWhole, fmt.Sprintf("larger than %d bytes", maxQALine))
	}
	if i, why := textProblem(b); why != "" {
		return nil, q.fail(m, qaWhole, fmt.Sprintf("%s at byte %d of the member", why, i))
	}
	return b, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// eachQALine calls f with every non-blank line of r and its place. A line
// whose text cannot be stored exactly (textProblem) is an error.
func (q *qaLoad) eachQALine(m tarstream.Member, r io.Reader, f func(at qaAt, b []byte) error) error {
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 1<<20)
	for n := int64(1); ; n++ {
		at := qaAt{n, cr.n - int64(br.Buffered())}
		b, err := loaders.ReadLineMax(br, maxQALine)
		if err != nil && err != io.EOF {
			return q.readErr(m, at, err)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			if i, why := textProblem(b); why != "" {
				return q.fail(m, at, fmt.Sprintf("%s at byte %d of the line", why, i))
			}
			if ferr := f(at, b); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if n%4096 == 0 {
			if cerr := q.ctx.Err(); cerr != nil {
				return cerr
			}
		}
	}
}

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
		row, err := q.question(b, t)
		if err != nil {
			return q.failErr(m, at, err.Error(), err)
		}
		if prev, dup := seen[row.DocID]; dup {
			return q.fail(m, at, fmt.Sprintf("doc_id %d again (first on line %d)", row.DocID, prev))
		}
		seen[row.DocID] = at.line
		t.questions++
		batch.rows, batch.lines = append(batch.rows, row), append(batch.lines, at)
		return nil
	})
}

// batched calls f with every line of a member and the batch its row goes
// to, and sends the batches on as they fill.
func (q *qaLoad) batched(m tarstream.Member, r io.Reader, f func(at qaAt, line []byte, b *qaBatch) error) error {
	batch := &qaBatch{m: m}
	err := q.eachQALine(m, r, func(at qaAt, line []byte) error {
		batch.bytes += len(line)
		batch.long = max(batch.long, len(line))
		if err := f(at, line, batch); err != nil || len(batch.lines) < qaBatchRows {
			return err
		}
		if err := q.send(batch); err != nil {
			return err
		}
		batch = &qaBatch{m: m}
		return nil
	})
	if err != nil {
		return err
	}
	return q.send(batch)
}

// answerKeys are ModelAnswerOutput's fields, in the struct's order.
var answerKeys = []string{"is_greedy", "logits_per_byte", "logits_per_char", "logits_per_token", "num_chars", "num_tokens", "num_tokens_all", "sum_logits", "sum_logits_uncond"}

// question decodes one prediction line.
func (q *qaLoad) question(b []byte, t *qaTask) (*gen.QAQuestionOutput, error) {
	v, err := q.parser.ParseBytes(pyInf(b))
	if err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	o, err := v.Object()
	if err != nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	row := &gen.QAQuestionOutput{ModelRef: t.model.ref, Task: t.task, LoadID: &q.l.ID}
	var extra loaders.JSONObject
	docID := o.Get("doc_id")
	if docID == nil {
		return nil, fmt.Errorf("no doc_id")
	}
	id, ok := exactInt(docID)
	if !ok {
		return nil, fmt.Errorf("doc_id %s is not an integer", docID)
	}
	row.DocID = id
	o.Visit(func(k []byte, x *fastjson.Value) {
		switch string(k) {
		case "doc_id":
		case "native_id":
			row.NativeID = nativeID(x)
		case "label":
			if l, ok := exactInt(x); ok {
				row.Label = &l
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
			row.Metrics = make(map[string]float64, mo.Len())
			mo.Visit(func(mk []byte, mv *fastjson.Value) {
				if f, ok := exactFloat(mv); ok {
					row.Metrics[string(mk)] = f
				} else {
					addValue(&rest, string(mk), mv)
				}
			})
			if !rest.Empty() {
				extra.AddRaw("metrics", rest.Bytes())
			}
		case "model_output":
			outs, leftover, ok := answers(x)
			if !ok {
				addValue(&extra, "model_output", x)
				return
			}
			row.AnswerOutputs = outs
			if leftover != nil {
				extra.AddRaw("model_output", leftover)
			}
		default:
			addValue(&extra, string(k), x)
		}
	})
	if !extra.Empty() {
		row.Extra = extra.Bytes()
		q.kept["questions with something kept in extra (text metrics, other keys, per-choice keys outside ModelAnswerOutput)"]++
	}
	if mo := o.Get("model_output"); mo != nil && mo.Type() == fastjson.TypeArray {
		n := len(mo.GetArray())
		where := func(what string) string {
			return fmt.Sprintf("%s %s doc %d (%s, %d choices)", t.model.ref, t.task, row.DocID, what, n)
		}
		if l := row.Label; l != nil && (*l < 0 || *l >= int64(n)) {
			q.noteOdd("questions whose label is not an index into their answer list (model_output; stored as written)", where(fmt.Sprintf("label %d", *l)))
		}
		if c, ok := row.Metrics["correct_choice"]; ok && (c != math.Trunc(c) || c < 0 || c >= float64(n)) {
			q.noteOdd("questions whose metrics.correct_choice is not an index into their answer list (model_output; stored as written)", where(fmt.Sprintf("correct_choice %v", c)))
		}
	}
	return row, nil
}

// answers turns model_output into ModelAnswerOutputs when every choice has
// every field with its type; leftover is the choices' other keys (one
// object per choice), nil when none.
func answers(x *fastjson.Value) (out []gen.QAQuestionOutputAnswerOutputs, leftover []byte, ok bool) {
	arr, err := x.Array()
	if err != nil {
		return nil, nil, false
	}
	out = make([]gen.QAQuestionOutputAnswerOutputs, len(arr))
	var rest []loaders.JSONObject
	anyRest := false
	for i, c := range arr {
		co, err := c.Object()
		if err != nil || co.Len() < len(answerKeys) {
			return nil, nil, false
		}
		a := &out[i]
		floats := []*float64{&a.LogitsPerByte, &a.LogitsPerChar, &a.LogitsPerToken, &a.SumLogits, &a.SumLogitsUncond}
		ints := []*int64{&a.NumChars, &a.NumTokens, &a.NumTokensAll}
		for j, k := range []string{"logits_per_byte", "logits_per_char", "logits_per_token", "sum_logits", "sum_logits_uncond"} {
			f, ok := exactFloat(co.Get(k))
			if !ok {
				return nil, nil, false
			}
			*floats[j] = f
		}
		for j, k := range []string{"num_chars", "num_tokens", "num_tokens_all"} {
			n, ok := exactInt(co.Get(k))
			if !ok {
				return nil, nil, false
			}
			*ints[j] = n
		}
		g := co.Get("is_greedy")
		if g == nil || (g.Type() != fastjson.TypeTrue && g.Type() != fastjson.TypeFalse) {
			return nil, nil, false
		}
		a.IsGreedy = g.Type() == fastjson.TypeTrue
		var r loaders.JSONObject
		if co.Len() > len(answerKeys) {
			co.Visit(func(k []byte, v *fastjson.Value) {
				if !isAnswerKey(string(k)) {
					addValue(&r, string(k), v)
				}
			})
			anyRest = true
		}
		rest = append(rest, r)
	}
	if anyRest {
		b := []byte{'['}
		for i, r := range rest {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, r.Bytes()...)
		}
		leftover = append(b, ']')
	}
	return out, leftover, true
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
		v, err := q.parser.ParseBytes(pyInf(b))
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
	v, err := p.ParseBytes(pyInf(b))
	if err != nil {
		return q.malformed(m, at, err)
	}
	if v.Type() != fastjson.TypeObject {
		return q.fail(m, at, "a metrics record is a JSON object")
	}
	text := string(compactJSON(v))
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
		v, err := q.parser.ParseBytes(pyInf(b))
		if err != nil {
			return q.malformed(m, at, err)
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
	var taken []string
	defer func() { q.rep.Skip(loaders.FirstSourceKeeps("model and task", "qa_task_outputs", taken)) }()
	for _, k := range keys {
		t := q.tasks[k]
		if t.skipped != 0 {
			taken = append(taken, fmt.Sprintf("%s, task %s (load %d)", t.model.ref, t.task, t.skipped))
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
			q.notes = append(q.notes, fmt.Sprintf("%s, task %s: %s %s of the metrics record differs from the predictions' (%s); the predictions' is kept, the record's is in record", m.ref, t.task, k, v, **h))
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
		row.TaskConfig = compactJSON(v)
	case "model_config":
		row.ModelConfig = compactJSON(v)
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

func (q *qaLoad) report() {
	var ls []string
	for l := range q.layouts {
		ls = append(ls, l)
	}
	sort.Strings(ls)
	var parts []string
	nested := false
	for _, t := range q.tasks {
		if strings.Contains(t.predictions, "!/") || strings.Contains(t.recordMember, "!/") {
			nested = true
		}
	}
	for _, l := range ls {
		switch {
		case l == "olmes":
			parts = append(parts, "OLMES dump")
		case nested:
			parts = append(parts, "DataDecide eval instances (nested step tarballs)")
		default:
			parts = append(parts, "DataDecide eval instances")
		}
	}
	form := "tarball"
	if fi, err := os.Stat(q.root); err == nil && fi.IsDir() {
		form = "folder"
	}
	q.rep.Variant = strings.Join(parts, " + ") + " (" + form + ")"
	reasons := make([]string, 0, len(q.skipped))
	for r := range q.skipped {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		sk := q.skipped[r]
		q.rep.Skipped = append(q.rep.Skipped, loaders.Skip{What: sk.what(), Count: sk.n, Reason: r})
	}
	kept := make([]string, 0, len(q.kept))
	for k := range q.kept {
		kept = append(kept, k)
	}
	sort.Strings(kept)
	for _, k := range kept {
		q.rep.Kept = append(q.rep.Kept, loaders.Skip{What: fmt.Sprintf("%d times", q.kept[k]), Count: q.kept[k], Reason: k})
	}
	q.rep.Notes = append(q.rep.Notes, q.notes...)
	odd := make([]string, 0, len(q.odd))
	for k := range q.odd {
		odd = append(odd, k)
	}
	sort.Strings(odd)
	for _, k := range odd {
		q.rep.Notes = append(q.rep.Notes, fmt.Sprintf("%d %s: %s", q.odd[k].n, k, q.odd[k].what()))
	}
}

func (q *qaLoad) skippedSummary() string {
	var n int64
	for _, sk := range q.skipped {
		n += sk.n
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d other files were passed over)", n)
}

// exactInt is a JSON number that is an integer, written as one.
func exactInt(v *fastjson.Value) (int64, bool) {
	if v == nil || v.Type() != fastjson.TypeNumber {
		return 0, false
	}
	n, err := v.Int64()
	return n, err == nil
}

// exactFloat is a JSON number as a double: NaN and ±Infinity included, a
// finite text that overflows a double not.
func exactFloat(v *fastjson.Value) (float64, bool) {
	if v == nil || v.Type() != fastjson.TypeNumber {
		return 0, false
	}
	f, err := v.Float64()
	if err != nil {
		return 0, false
	}
	if t := v.String(); !strings.ContainsAny(t, ".eEnNiI") {
		// An integer: exact only if a double holds it (|n| ≤ 2^53, or a
		// wider one that happens to be a double).
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || int64(float64(n)) != n || (n != 0 && float64(n) != f) {
			return 0, false
		}
	}
	if math.IsInf(f, 0) {
		s := strings.TrimLeft(v.String(), "+-")
		if s != "Inf" && s != "inf" && s != "Infinity" {
			return 0, false
		}
	}
	return f, true
}

// nativeID is a native id as text: a string as is, a number as written.
func nativeID(x *fastjson.Value) *string {
	var s string
	switch x.Type() {
	case fastjson.TypeNull:
		return nil
	case fastjson.TypeString:
		s = string(x.GetStringBytes())
	default:
		s = string(compactJSON(x))
	}
	return &s
}

// textProblem finds what in a line of JSON text cannot be stored exactly,
// and says what it is and at which byte of b; "" when nothing. The rule,
// for every field alike: text is UTF-8 and every string escape names a
// Unicode character, or the line is refused. fastjson lets through bytes
// that are not UTF-8 (which DuckDB's VARCHAR cannot hold, and a JSON
// writer turns into U+FFFD), escapes JSON does not have (\x41, kept as
// their text), and lone UTF-16 surrogates (\ud800, kept as their text; a
// broken pair becomes U+FFFD): each would be stored as something else
// than the source holds. In valid JSON a backslash only starts an escape
// in a string, so the escapes are found without tracking strings.
func textProblem(b []byte) (int, string) {
	if !utf8.Valid(b) {
		i := 0
		for i < len(b) {
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return i, fmt.Sprintf("bytes that are not UTF-8 (%q)", b[i:min(i+4, len(b))])
	}
	for i := bytes.IndexByte(b, '\\'); i >= 0; {
		if i+1 >= len(b) {
			return i, "a backslash at the end"
		}
		n := 2
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		case 'u':
			r, ok := hex4(b, i+2)
			if !ok {
				return i, fmt.Sprintf("the escape %q, which JSON does not have", b[i:min(i+6, len(b))])
			}
			n = 6
			if utf16.IsSurrogate(r) {
				var lo rune
				ok = false
				if r < 0xdc00 && i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
					lo, ok = hex4(b, i+8)
				}
				if !ok || lo < 0xdc00 || lo > 0xdfff {
					return i, fmt.Sprintf("the escape %q, a lone UTF-16 surrogate (not a Unicode character)", b[i:i+6])
				}
				n = 12
			}
		default:
			return i, fmt.Sprintf("the escape %q, which JSON does not have", b[i:i+2])
		}
		j := bytes.IndexByte(b[i+n:], '\\')
		if j < 0 {
			break
		}
		i += n + j
	}
	return 0, ""
}

// hex4 is the 4 hex digits of b at i as a rune.
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// addValue adds key k with v's compact JSON text to o.
func addValue(o *loaders.JSONObject, k string, v *fastjson.Value) { o.AddRaw(k, compactJSON(v)) }

// compactJSON is v's JSON text, compact, with Python's Infinity tokens
// restored. Strings are written by appender.AppendJSONString: fastjson's
// own writer escapes a string it has unescaped in Go's syntax (\x01),
// which is not JSON.
func compactJSON(v *fastjson.Value) []byte { return unInf(appendCompact(nil, v)) }

func appendCompact(b []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		b = append(b, '{')
		first := true
		o.Visit(func(k []byte, x *fastjson.Value) {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appender.AppendJSONString(b, string(k))
			b = append(b, ':')
			b = appendCompact(b, x)
		})
		return append(b, '}')
	case fastjson.TypeArray:
		b = append(b, '[')
		for i, x := range v.GetArray() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCompact(b, x)
		}
		return append(b, ']')
	case fastjson.TypeString:
		return appender.AppendJSONString(b, string(v.GetStringBytes()))
	}
	return v.MarshalTo(b) // a number as written, true, false, null
}

// pyInf rewrites Python's bare Infinity and -Infinity tokens, outside
// strings, as fastjson's Inf (padded with spaces, so offsets stay);
// unInf puts them back. NaN fastjson reads as it is.
func pyInf(b []byte) []byte {
	if !strings.Contains(string(b), "Infinity") {
		return b
	}
	out := append([]byte(nil), b...)
	loaders.ScanTokens(out, func(i int) int {
		if strings.HasPrefix(string(out[i:]), "Infinity") && !wordByte(out, i-1) && !loaders.IdentByte(out, i+8) {
			copy(out[i:], "Inf     ")
			return 8
		}
		return 1
	})
	return out
}

func unInf(b []byte) []byte {
	if !strings.Contains(string(b), "Inf") {
		return b
	}
	var out []byte
	last := 0
	loaders.ScanTokens(b, func(i int) int {
		if strings.HasPrefix(string(b[i:]), "Inf") && !wordByte(b, i-1) && !loaders.IdentByte(b, i+3) {
			out = append(append(out, b[last:i]...), "Infinity"...)
			last = i + 3
			return 3
		}
		return 1
	})
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// wordByte is a byte of a word or number other than a sign (which may
// come before Infinity).
func wordByte(b []byte, i int) bool { return loaders.IdentByte(b, i) && b[i] != '-' && b[i] != '+' }
