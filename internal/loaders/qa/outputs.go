package qa

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/dschema/dschema/internal/loaders"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/valyala/fastjson"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/appender"
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
// needs little. On the 1 GiB recipe tarball of dschema bench qa-outputs,
// peak RSS 466 to 491 MB under it (1,000,000-byte MB), against 586 to
// 602 MB under 256MB, for 5 to 9% more wall time (docs/benchmarks.md,
// "QA outputs memory"): the goal is under 512 MiB.
const MemoryLimit = "128MB"

// DefaultMemoryLimit implements loaders.MemoryLimiter.
func (qaLoader) DefaultMemoryLimit() string { return MemoryLimit }

// Short implements loaders.Loader.
func (qaLoader) Short() string {
	return "QA per-question eval outputs: DataDecide eval-instance tarballs (per step, per recipe with nested tarballs, extracted folders) and the lab's OLMES dumps (folder or tarball)"
}

// LoadsDirs implements loaders.DirLoader.
func (qaLoader) LoadsDirs() bool { return true }

// maxQALine bounds one JSON line or metrics file of QA outputs; a longer
// one is an error naming it, so memory stays bounded.
const maxQALine = 64 << 20

type qaLoad struct {
	ctx      context.Context
	l        *loaders.Load
	root     string
	tasks    map[string]*qaTask
	models   map[string]*qaModel // by model_ref (checkpoints) or dump folder: one per model
	existing map[string]int64    // model_ref\x00task → load_id of another source
	layouts  map[string]bool
	rep      *loaders.Report
	ins      *gen.QAQuestionInputAppender
	parser   fastjson.Parser
	numText  []byte // exactFloatBuf's buffer, for the walk's goroutine
	// metricKeys are the metric names seen (metricKey), for the walk's goroutine.
	metricKeys map[string]string
	metrics    []qaMetric          // a question's metrics, kept from question to question
	metricText []byte              // their values' texts
	lastKeys   []string            // the metric names of the question before, in its order (metricOrder)
	lastOrder  []int               // their sorted order
	skipped    map[string]*skipped // reason → members passed over
	notes      []string
	kept       map[string]int64
	odd        map[string]*skipped // what the source contradicts or lacks (noteOdd), by what
	memLimit   string              // DuckDB's memory limit during the load, as DuckDB says it
	longest    int                 // the longest line appended so far
	dumpDirs   map[string]bool     // OLMES dumps with task files
	batches    chan *qaBatch       // rows from the walk to the table function and the inputs appender
	pending    int                 // source bytes appended since the last flush
	done       <-chan struct{}     // closed when the load stops
}

// qaBatch is rows of one member, with their lines, on their way to
// DuckDB: question rows staged (for the table function qaRows), or
// input rows (for the inputs appender).
type qaBatch struct {
	m         tarstream.Member
	lines     []qaAt
	bytes     int // the lines' size
	long      int // the longest line's size
	ref, task string
	qs        []qaStaged // question rows
	text      []byte     // their texts
	ins       []*gen.QAQuestionInput
}

// qaBatchRows is the rows a batch holds.
const qaBatchRows = 512

// qaBatchPool keeps batches of question rows that DuckDB has copied, so
// that their rows and text are not grown anew for every batch.
var qaBatchPool sync.Pool

// newBatch is an empty batch of member m.
func newBatch(m tarstream.Member) *qaBatch {
	b, _ := qaBatchPool.Get().(*qaBatch)
	if b == nil {
		return &qaBatch{m: m}
	}
	*b = qaBatch{m: m, lines: b.lines[:0], qs: b.qs[:0], text: b.text[:0]}
	return b
}

// putBatch gives a batch whose rows were written back to newBatch.
func putBatch(b *qaBatch) { qaBatchPool.Put(b) }

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

// writeQuestions runs the INSERT that reads the question rows from src
// until the batches end, appending the batches of inputs that end a
// statement between two.
func (q *qaLoad) writeQuestions(ctx context.Context, conn driver.ExecerContext, src *qaRows, insert string) error {
	for {
		_, err := conn.ExecContext(ctx, insert, nil)
		// The longest line so far, for a later out-of-memory message too.
		q.longest = max(q.longest, int(src.longest.Load()))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if rerr := src.rowErr(); rerr != nil {
				return rerr
			}
			place := "the first rows read"
			if r := src.last.Load(); r != nil {
				place = fmt.Sprintf("the rows read up to member %s line %d", r.m, r.at.line)
			}
			return q.refused(place, err)
		}
		if err := ctx.Err(); err != nil {
			return err // the rows ended early: cancelled, not done
		}
		held, closed := src.next()
		for _, b := range held {
			if err := q.appendInputs(b); err != nil {
				return err
			}
		}
		if closed {
			return nil
		}
	}
}

// appendInputs writes a batch of inputs through the generated appender.
func (q *qaLoad) appendInputs(b *qaBatch) error {
	for i, r := range b.ins {
		if err := q.ins.Append(r); err != nil {
			return q.writeErr(b.m, b.lines[i], err)
		}
	}
	q.longest = max(q.longest, b.long)
	if q.pending += b.bytes; q.pending >= qaFlushBytes {
		q.pending = 0
		if err := q.ins.Flush(); err != nil {
			return q.writeErr(b.m, b.lines[len(b.lines)-1], err)
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
	// Two stages: the walk (decompression, and JSON decoding into staged
	// rows) sends batches of rows, and DuckDB's INSERT pulls the question
	// rows from a table function (qaRows), while this goroutine appends
	// the inputs between two INSERTs.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	q.batches = make(chan *qaBatch, 8)
	q.done = wctx.Done()
	name := fmt.Sprintf("dschema_qa_rows_%d", qaRowsFuncs.Add(1))
	src, insert, err := newQARows(q.root, l.ID, q.batches, wctx.Done(), name)
	if err != nil {
		return nil, err
	}
	if err := duckdb.RegisterTableUDF(l.Conn, name, duckdb.ParallelChunkTableFunction{
		BindArguments: func(map[string]any, ...any) (duckdb.ParallelChunkTableSource, error) { return src, nil },
	}); err != nil {
		return nil, err
	}
	// One DuckDB thread for the INSERTs: with two, the client thread
	// spins while the other waits in FillChunk for the next batch, taking
	// a core from the walk (whole loads at 256MiB: 15-17 s, or 22-29 s
	// and 20 s more CPU when it spins; 16.5-18 s on one thread).
	restore, err := loaders.SetThreads(ctx, l.Conn, 1)
	if err != nil {
		return nil, err
	}
	var walkErr error
	walked := make(chan struct{})
	go func() {
		defer close(walked)
		defer close(q.batches)
		walkErr = tarstream.Walk(wctx, q.root, tarstream.Options{Nested: true, Progress: l.ReadProgress}, q.member)
	}()
	err = l.Conn.Raw(func(dc any) error {
		var err error
		if q.ins, err = gen.NewQAQuestionInputAppender(dc.(driver.Conn)); err != nil {
			return err
		}
		defer q.ins.Close()
		if err := q.writeQuestions(ctx, dc.(driver.ExecerContext), src, insert); err != nil {
			return err
		}
		if walkErr != nil {
			return walkErr
		}
		l.Stage("writing the questions")
		if err := q.ins.Close(); err != nil {
			return q.refused("the last rows read", err)
		}
		q.rep.Rows[gen.QAQuestionOutputTable] = src.rows.Load()
		q.rep.Rows[gen.QAQuestionInputTable] = q.ins.Rows()
		return q.writeTasks(dc.(driver.Conn))
	})
	restore()
	// The walk ends, on the cancelled context, before the load returns.
	cancel()
	<-walked
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

// batched calls f with every line of a member and the batch its row goes
// to, and sends the batches on as they fill.
func (q *qaLoad) batched(m tarstream.Member, r io.Reader, f func(at qaAt, line []byte, b *qaBatch) error) error {
	batch := newBatch(m)
	err := q.eachQALine(m, r, func(at qaAt, line []byte) error {
		batch.bytes += len(line)
		batch.long = max(batch.long, len(line))
		if err := f(at, line, batch); err != nil || len(batch.lines) < qaBatchRows {
			return err
		}
		if err := q.send(batch); err != nil {
			return err
		}
		batch = newBatch(m)
		return nil
	})
	if err != nil {
		return err
	}
	return q.send(batch)
}

func (q *qaLoad) report() {
	var ls []string
	for l := range q.layouts {
		ls = append(ls, l)
	}
	sort.Strings(ls)
	nested := false
	for _, t := range q.tasks {
		if strings.Contains(t.predictions, "!/") || strings.Contains(t.recordMember, "!/") {
			nested = true
		}
	}
	form := "tarball"
	if fi, err := os.Stat(q.root); err == nil && fi.IsDir() {
		form = "folder"
	}
	q.rep.Variant = variantName(ls, nested, form)
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

// variantName names the layout of a source holding the layouts ls
// ("datadecide", "olmes"), sorted, with nested step tarballs or not, in
// form "tarball" or "folder".
func variantName(ls []string, nested bool, form string) string {
	var parts []string
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
	return strings.Join(parts, " + ") + " (" + form + ")"
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
