package qa

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/appender"
	"github.com/dschema/dschema/internal/loaders"
)

// qaRows is the table function DuckDB's INSERT into qa_question_outputs
// reads the staged question rows from: each call of FillChunk (on any of
// DuckDB's threads) takes the next batch and writes its rows into DuckDB's
// vectors, so the rows are not staged in a query appender and copied
// again, and the INSERT runs while the walk reads on. A batch of inputs
// (an OLMES -requests.jsonl or -recorded-inputs.jsonl) ends the statement:
// it is held for the load to append between two INSERTs, since one
// connection runs one statement at a time.
type qaRows struct {
	root   string // the source, for errors
	loadID int64
	in     <-chan *qaBatch
	done   <-chan struct{} // closed when the load stops
	infos  []duckdb.ColumnInfo

	mu     sync.Mutex
	held   []*qaBatch // batches of inputs that ended the statement
	ended  bool       // the statement is ending: every call returns no rows
	closed bool       // the batches ended
	err    error      // a row the vectors refused

	rows    atomic.Int64
	longest atomic.Int64          // the longest line of the rows written
	last    atomic.Pointer[qaRef] // the last row handed to DuckDB
}

// qaRef is a row's place: its member and line.
type qaRef struct {
	m  string
	at qaAt
}

// newQARows is the table function on in, ending when done closes, and
// the INSERT that reads it once registered as name; its rows are load
// loadID's.
func newQARows(root string, loadID int64, in <-chan *qaBatch, done <-chan struct{}, name string) (*qaRows, string, error) {
	infos, names, insert, err := appender.StagedInsert(gen.QAQuestionOutputTable, gen.QAQuestionOutputColumns, gen.QAQuestionOutputStages, name+"()")
	if err != nil {
		return nil, "", err
	}
	s := &qaRows{root: root, loadID: loadID, in: in, done: done}
	for i, info := range infos {
		s.infos = append(s.infos, duckdb.ColumnInfo{Name: names[i], T: info})
	}
	return s, insert, nil
}

func (s *qaRows) ColumnInfos() []duckdb.ColumnInfo     { return s.infos }
func (s *qaRows) Cardinality() *duckdb.CardinalityInfo { return nil }
func (s *qaRows) Init() duckdb.ParallelTableSourceInfo {
	return duckdb.ParallelTableSourceInfo{MaxThreads: runtime.NumCPU()}
}
func (s *qaRows) NewLocalState() any { return new(int) }

// FillChunk implements duckdb.ParallelChunkTableSource: a batch (at most
// qaBatchRows rows, less than DuckDB's vector size) a call.
func (s *qaRows) FillChunk(_ any, ch duckdb.DataChunk) error {
	s.mu.Lock()
	ended := s.ended
	s.mu.Unlock()
	if ended {
		return ch.SetSize(0)
	}
	var b *qaBatch
	select {
	case x, ok := <-s.in:
		if !ok {
			s.end(nil, true)
			return ch.SetSize(0)
		}
		b = x
	case <-s.done:
		return ch.SetSize(0) // the load's context ended: the INSERT returns its error
	}
	if len(b.qs) == 0 {
		s.end(b, false)
		return ch.SetSize(0)
	}
	for n := range b.qs {
		if err := s.setRow(ch, n, b, &b.qs[n]); err != nil {
			err = &loaders.FileError{Path: s.root, Place: b.lines[n].place(b.m), Msg: err.Error(), Err: err}
			s.mu.Lock()
			if s.err == nil {
				s.err = err
			}
			s.mu.Unlock()
			return err
		}
	}
	s.rows.Add(int64(len(b.qs)))
	for l := s.longest.Load(); int64(b.long) > l && !s.longest.CompareAndSwap(l, int64(b.long)); l = s.longest.Load() {
	}
	s.last.Store(&qaRef{b.m.Path, b.lines[len(b.lines)-1]})
	n := len(b.qs)
	putBatch(b) // DuckDB's vectors hold copies of its values
	return ch.SetSize(n)
}

// end ends the statement, holding b (a batch of inputs) when not nil;
// closed says the batches ended.
func (s *qaRows) end(b *qaBatch, closed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	s.closed = s.closed || closed
	if b != nil {
		s.held = append(s.held, b)
	}
}

// next takes what ended the statement: the batches of inputs held, and
// whether the batches ended; the next statement may run.
func (s *qaRows) next() (held []*qaBatch, closed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	held, closed, s.held, s.ended = s.held, s.closed, nil, false
	return held, closed
}

// rowErr is the error a row's values gave, if any.
func (s *qaRows) rowErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// setRow writes the staged row r of batch b into row n of ch, in
// gen.QAQuestionOutputColumns' order.
func (s *qaRows) setRow(ch duckdb.DataChunk, n int, b *qaBatch, r *qaStaged) error {
	var label error
	if r.hasLabel {
		label = duckdb.SetChunkValue(ch, 4, n, r.label)
	} else {
		label = ch.SetValue(4, n, nil) // a NULL set first would stay: its value does not clear it
	}
	for c, err := range [...]error{
		duckdb.SetChunkValue(ch, 0, n, b.ref),
		duckdb.SetChunkValue(ch, 1, n, b.task),
		duckdb.SetChunkValue(ch, 2, n, r.docID),
		setText(ch, 3, n, b.text, r.nativeID),
		label,
		setText(ch, 5, n, b.text, r.metrics),
		setText(ch, 6, n, b.text, r.answers),
		duckdb.SetChunkValue(ch, 7, n, s.loadID),
		setText(ch, 8, n, b.text, r.extra),
	} {
		if err != nil {
			return fmt.Errorf("column %s: %w", gen.QAQuestionOutputColumns[c], err)
		}
	}
	return nil
}

// setText writes t, a text of a batch's text (or NULL), into row n of
// column c; DuckDB copies it.
func setText(ch duckdb.DataChunk, c, n int, text []byte, t qaText) error {
	if t.null() {
		return ch.SetValue(c, n, nil)
	}
	return duckdb.SetChunkValue(ch, c, n, text[t.from:t.to])
}

// qaRowsFuncs numbers the table functions, one a load.
var qaRowsFuncs atomic.Int64
