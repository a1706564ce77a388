package wandb

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/valyala/fastjson"

	"github.com/dschema/dschema/internal/appender"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/jsonexact"
)

// The Go reader of history JSON lines of row objects (HistJSONL, HistV3).
//
// Read through DuckDB's JSON reader, each row's metrics are a map of JSON
// values that historySelect types one by one in SQL, and a window sort
// numbers seq. This reader parses each line once in Go, types its values
// by historySelect's rules, numbers seq from the file's order, and DuckDB's
// INSERT reads the typed rows through a table function (histRows). It
// reads a line only where it reads every value exactly as the SQL does; at
// the first line it does not (a run_id that is not a string, a time
// written as a date, a key twice or unknown, a value that is not a whole
// step, a number too small for a double, anything the SQL refuses or reads
// by a rule of its own) it stops, the load deletes what it wrote, and the
// SQL reads the whole file, so such a file loads as before, errors and all.
//
// One difference is on purpose: the JSON text of a value kept in extra has
// its numbers as written (1.50 stays 1.50, 3e-05 stays 3e-05), where the
// SQL writes DuckDB's rendering of the double it read (1.5, 0.00003).
// verify reads a file the way its load did, so each agrees with itself.
//
// seq: the SQL numbers a run's rows by logged time, then step, then
// runtime, then a hash of the metrics. Where a run's rows come in the file
// strictly in that order, seq is their order in the file, the same numbers.
// A run whose rows do not is numbered again after the INSERT: by logged
// time, step and runtime over its rows when no two rows tie in all three,
// and otherwise by the SQL, which reads that run again from the file for
// the hash that breaks the tie.

// goReads reports whether the Go reader takes h's layout.
func goReads(h *histSource) bool { return h.jsonl && (h.variant == HistJSONL || h.variant == HistV3) }

// sqlPath is the Go reader stopping at a line it leaves to the SQL.
type sqlPath struct {
	line int
	why  string
}

func (e *sqlPath) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.why) }

// histRun is what the reader keeps of a run: its rows so far and the
// order key of the last one.
type histRun struct {
	id       string
	n        int64
	taken    bool // another source's rows: not appended
	unsorted bool // not strictly in (time, step, runtime) order
	last     histKey
	// The run's steps, for historyChecks: a run whose steps rise in the
	// file's order has none twice (most runs); the others are counted.
	steps     []int64
	stepsDown bool // a step not above the one before
	noStep    int64
	left      int64 // rows of a run taken, left out
}

// histStats is what historyChecks asks of the rows, counted by the Go
// reader as it numbers them (the SQL path groups the loaded rows).
type histStats struct {
	rows int64
	runs map[string]*histRun
}

// unknownRuns names the runs st loaded rows of that wandb_runs lacks, with
// their rows ("id (n rows)"), in run id order.
func unknownRuns(ctx context.Context, conn *sql.Conn, st *histStats) ([]string, error) {
	var ids []string
	for id, hr := range st.runs {
		if hr.n > 0 { // not a run taken
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	slices.Sort(ids)
	lits := make([]string, len(ids))
	for i, id := range ids {
		lits[i] = "(" + dbschema.Literal(id) + ")"
	}
	known, err := loaders.QueryStrings(ctx, conn, "SELECT r FROM (VALUES "+strings.Join(lits, ", ")+") v(r) WHERE r IN (SELECT run_id FROM wandb_runs)")
	if err != nil {
		return nil, err
	}
	in := map[string]bool{}
	for _, id := range known {
		in[id] = true
	}
	var out []string
	for _, id := range ids {
		if !in[id] {
			out = append(out, fmt.Sprintf("%s (%d rows)", id, st.runs[id].n))
		}
	}
	return out, nil
}

// leftOut names the runs taken that the file has rows of, with their rows
// ("id (n rows)"), in run id order.
func (st *histStats) leftOut() []string {
	var ids []string
	for id, hr := range st.runs {
		if hr.left > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprintf("%s (%d rows)", id, st.runs[id].left)
	}
	return out
}

// steps counts the rows without a step, and the steps logged more than
// once in a run (groups) with their rows (numberSeq counts no rows of a
// run taken).
func (st *histStats) steps() (noStep, groups, rows int64) {
	for _, hr := range st.runs {
		noStep += hr.noStep
		if !hr.stepsDown {
			continue
		}
		slices.Sort(hr.steps)
		for i := 0; i < len(hr.steps); {
			j := i + 1
			for j < len(hr.steps) && hr.steps[j] == hr.steps[i] {
				j++
			}
			if j-i > 1 {
				groups, rows = groups+1, rows+int64(j-i)
			}
			i = j
		}
	}
	return noStep, groups, rows
}

// histKey is a row's order key; has* is false for NULL.
type histKey struct {
	at, step              int64
	rt                    float64
	hasAt, hasStep, hasRT bool
}

// before reports whether k sorts strictly before o under ORDER BY
// logged_at, step, runtime as DuckDB orders them. It is cautious: a NULL
// or NaN where the order is decided, or a tie, is "not before".
func (k histKey) before(o histKey) bool {
	switch {
	case !k.hasAt || !o.hasAt:
		return false
	case k.at != o.at:
		return k.at < o.at
	case !k.hasStep || !o.hasStep:
		return false
	case k.step != o.step:
		return k.step < o.step
	case !k.hasRT || !o.hasRT || math.IsNaN(k.rt) || math.IsNaN(o.rt):
		return false
	}
	return k.rt < o.rt
}

// histRow is one row as it is appended.
type histRow struct {
	id              string
	key             histKey
	typed           []float64 // per metric
	has             []bool    // per metric: typed[i] holds a value
	em              []byte    // extra_metrics as a JSON object, when hasEM
	extra           []byte    // extra, when hasExtra
	hasEM, hasExtra bool
}

// historyReader reads lines into rows; each of the parsing goroutines has its own.
type historyReader struct {
	metrics map[string]int // W&B key -> metric index (shared, read only)
	keys    []string       // metric index -> W&B key (shared, read only)
	nm      int
	ids     map[string]string // run ids seen, to allocate each once
	parser  fastjson.Parser
	num     []byte
	nt      []int  // per metric: its entry in x when it holds something else, or -1
	text    []byte // the JSON texts of x's entries
	lax     bool   // a number on the line that only fastjson reads
	seen    keySet // the keys so far of a row's metrics, then of its extra
	x       []xEntry
}

type xEntry struct {
	key      []byte
	from, to int // its JSON text in historyReader.text
}

func newHistoryReader(metrics []historyMetric) *historyReader {
	r := &historyReader{metrics: map[string]int{}, nm: len(metrics), ids: map[string]string{}, nt: make([]int, len(metrics))}
	for i, m := range metrics {
		r.metrics[m.key] = i
		r.keys = append(r.keys, m.key)
	}
	return r
}

// fork is a reader for another goroutine, sharing r's metrics.
func (r *historyReader) fork() *historyReader {
	return &historyReader{metrics: r.metrics, keys: r.keys, nm: r.nm, ids: map[string]string{}, nt: make([]int, r.nm)}
}

// epochText reports whether t is a time written as epoch seconds in
// text, -?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?, as the SQL's TRY_CAST reads
// it; other text (dates) is left to the SQL.
func epochText(t []byte) bool { return jsonexact.Decimal(t, true) }

// maxEpoch bounds the epoch seconds the reader converts itself (year
// 5138); beyond it, the SQL decides (and refuses what a timestamp cannot hold).
const maxEpoch = 1e11

// row reads one line (number n) into row; a *sqlPath error leaves the
// file to the SQL.
func (r *historyReader) row(n int, line []byte, row *histRow) error {
	leave := func(format string, a ...any) error { return &sqlPath{line: n, why: fmt.Sprintf(format, a...)} }
	if _, why := jsonexact.TextProblem(line); why != "" {
		return leave("%s", why)
	}
	if lit, _ := tinyNumber(line); lit != nil {
		return leave("the number %s is too small for a double", lit) // the SQL's key scan refuses it
	}
	if i := jsonexact.ControlByte(line); i >= 0 {
		return leave("a control character (byte %d)", i) // in a string, DuckDB's reader refuses it
	}
	r.lax = false
	v, err := r.parser.ParseBytes(jsonexact.PyInf(line))
	if err != nil {
		return leave("malformed JSON")
	}
	o, err := v.Object()
	if err != nil {
		return leave("not an object")
	}
	var why string
	var run, step, ts, rt, meta, metrics, extra *fastjson.Value
	o.Visit(func(k []byte, x *fastjson.Value) {
		var slot **fastjson.Value
		switch string(k) {
		case "run_id":
			slot = &run
		case "step":
			slot = &step
		case "timestamp":
			slot = &ts
		case "runtime":
			slot = &rt
		case "wandb_metadata":
			slot = &meta
		case "metrics":
			slot = &metrics
		case "extra":
			slot = &extra
		default:
			why = fmt.Sprintf("key %q", k)
			return
		}
		if *slot != nil {
			why = fmt.Sprintf("key %q twice", k)
		}
		*slot = x
	})
	if why != "" {
		return leave("%s", why)
	}
	// run_id: a string, not empty.
	if run == nil || run.Type() != fastjson.TypeString || len(run.GetStringBytes()) == 0 {
		return leave("run_id is not a string")
	}
	b := run.GetStringBytes()
	id, ok := r.ids[string(b)]
	if !ok {
		id = string(b)
		r.ids[id] = id
	}
	*row = histRow{id: id, typed: row.typed[:0], has: row.has[:0], em: row.em[:0], extra: row.extra[:0]}
	// step: a whole number a double holds; null or NaN is none.
	if step != nil && step.Type() != fastjson.TypeNull {
		if step.Type() != fastjson.TypeNumber {
			return leave("step is not a number")
		}
		t := step.MarshalTo(r.num[:0])
		r.num = t
		if !jsonexact.StrictNumber(t) {
			return leave("step %s", t)
		}
		switch {
		case string(t) == "NaN":
		case jsonexact.PlainInteger(t):
			s, err := strconv.ParseInt(string(t), 10, 64)
			if err != nil || s > 1<<53 || s < -(1<<53) {
				return leave("step %s", t)
			}
			row.key.step, row.key.hasStep = s, true
		default:
			f, err := strconv.ParseFloat(string(t), 64)
			if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 || jsonexact.Underflows(t, f) {
				return leave("step %s", t)
			}
			row.key.step, row.key.hasStep = int64(f), true
		}
	}
	// timestamp: epoch seconds, as a number or as text.
	if ts != nil && ts.Type() != fastjson.TypeNull {
		var t []byte
		switch ts.Type() {
		case fastjson.TypeString:
			t = ts.GetStringBytes()
		case fastjson.TypeNumber:
			t = ts.MarshalTo(r.num[:0])
			r.num = t
			if !jsonexact.StrictNumber(t) {
				return leave("timestamp %s", t)
			}
		}
		if !epochText(t) {
			return leave("timestamp %s", t)
		}
		d, err := strconv.ParseFloat(string(t), 64)
		if err != nil || math.Abs(d) > maxEpoch || jsonexact.Underflows(t, d) {
			return leave("timestamp %s", t)
		}
		// DuckDB's to_timestamp: the seconds times 10^6, rounded half to even.
		row.key.at, row.key.hasAt = int64(math.RoundToEven(d*1e6)), true
	}
	// runtime: a number.
	if rt != nil && rt.Type() != fastjson.TypeNull {
		f, ok := r.number(rt)
		if !ok {
			return leave("runtime is not a number a double holds")
		}
		row.key.rt, row.key.hasRT = f, true
	}
	// metrics: typed keys to their columns, other numbers to
	// extra_metrics, the rest to extra (typed keys holding something else
	// after the others, in the columns' order).
	if metrics == nil || metrics.Type() != fastjson.TypeObject {
		return leave("metrics is not an object")
	}
	for len(row.typed) < r.nm {
		row.typed, row.has = append(row.typed, 0), append(row.has, false)
	}
	for i := range r.nt {
		r.nt[i] = -1
	}
	r.x, r.text = r.x[:0], r.text[:0]
	mo, _ := metrics.Object()
	r.seen.reset()
	em := row.em[:0]
	mo.Visit(func(k []byte, x *fastjson.Value) {
		if r.seen.add(k) {
			why = fmt.Sprintf("metric %q twice", k)
			return
		}
		f, isNum := r.number(x)
		if i, ok := r.metrics[string(k)]; ok {
			if isNum {
				row.typed[i], row.has[i] = f, true
			} else {
				r.nt[i] = len(r.x)
				r.addX(nil, x)
			}
			return
		}
		if isNum {
			if len(em) == 0 {
				em = append(em, '{')
			} else {
				em = append(em, ',')
			}
			em = jsonexact.AppendDuckString(em, string(k))
			em = appender.AppendJSONScalar(append(em, ':'), f)
			return
		}
		r.addX(k, x)
	})
	if why != "" {
		return leave("%s", why)
	}
	row.em = em
	if len(em) > 0 {
		row.em, row.hasEM = append(em, '}'), true
	}
	// Typed keys holding something else come after the other keys, in
	// the columns' order.
	for i, j := range r.nt {
		if j >= 0 {
			e := r.x[j]
			e.key = []byte(r.keys[i])
			r.x = append(r.x, e)
			r.x[j].key = nil // placed here instead
		}
	}
	if meta != nil && meta.Type() != fastjson.TypeNull {
		r.addX(wandbKey, meta)
	}
	if extra != nil && extra.Type() != fastjson.TypeNull {
		eo, err := extra.Object()
		if err != nil {
			return leave("extra is not an object")
		}
		eo.Visit(func(k []byte, x *fastjson.Value) { r.addX(k, x) })
	}
	if r.lax {
		return leave("a number DuckDB's JSON reader does not read (fastjson reads 007, +1, .5, 5. or 1.2.3)")
	}
	x := row.extra[:0]
	r.seen.reset()
	for _, e := range r.x {
		if e.key == nil {
			continue
		}
		if r.seen.add(e.key) {
			return leave("key %q in extra twice", e.key)
		}
		if len(x) == 0 {
			x = append(x, '{')
		} else {
			x = append(x, ',')
		}
		x = jsonexact.AppendDuckString(x, string(e.key))
		x = append(append(x, ':'), r.text[e.from:e.to]...)
	}
	row.extra = x
	if len(x) > 0 {
		row.extra, row.hasExtra = append(x, '}'), true
	}
	return nil
}

var wandbKey = []byte("_wandb")

// keySet tells a key already seen on a line: a scan of the few keys most
// lines have, a map once they are many (a row may log thousands).
type keySet struct {
	small [][]byte
	big   map[string]struct{}
	n     int
}

func (s *keySet) reset() {
	s.small, s.n = s.small[:0], 0
	clear(s.big)
}

// add reports whether k is in the set, and puts it there.
func (s *keySet) add(k []byte) (seen bool) {
	const few = 16
	if s.n < few {
		for _, o := range s.small {
			if string(o) == string(k) {
				return true
			}
		}
		s.small, s.n = append(s.small, k), s.n+1
		return false
	}
	if s.n == few {
		if s.big == nil {
			s.big = map[string]struct{}{}
		}
		for _, o := range s.small {
			s.big[string(o)] = struct{}{}
		}
	}
	if _, ok := s.big[string(k)]; ok {
		return true
	}
	s.big[string(k)] = struct{}{}
	s.n++
	return false
}

// addX adds a value kept in extra under key k (nil: a typed key's, named
// later), its JSON written into r.text.
func (r *historyReader) addX(k []byte, x *fastjson.Value) {
	var ok bool
	if ok, r.num = jsonexact.StrictNumbers(x, r.num); !ok {
		r.lax = true
	}
	from := len(r.text)
	r.text = jsonexact.AppendCompactDuck(r.text, x)
	r.x = append(r.x, xEntry{key: k, from: from, to: len(r.text)})
}

// number is a JSON value as a metric's number by numberOf's rule: a
// number, NaN or ±Infinity; not an integer no double holds exactly (or
// beyond HUGEINT, ±(2^127-1)), not a literal beyond a double's range (1e400), and not
// one too small for a double (1e-400, which the SQL reads as 0).
func (r *historyReader) number(v *fastjson.Value) (float64, bool) {
	if v.Type() != fastjson.TypeNumber {
		return 0, false
	}
	t := v.MarshalTo(r.num[:0])
	r.num = t
	if !jsonexact.StrictNumber(t) {
		r.lax = true
		return 0, false
	}
	if jsonexact.PlainInteger(t) {
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return 0, false
		}
		if len(t) <= 15 {
			return f, true
		}
		n, ok := new(big.Int).SetString(string(t), 10)
		if !ok || n.Cmp(hugeMin) < 0 || n.Cmp(hugeMax) > 0 {
			return 0, false
		}
		if e, _ := new(big.Float).SetFloat64(f).Int(nil); e.Cmp(n) != 0 {
			return 0, false
		}
		return f, true
	}
	f, err := jsonexact.Float(t)
	if err != nil {
		return 0, false
	}
	if jsonexact.Underflows(t, f) {
		return 0, false
	}
	if math.IsInf(f, 0) {
		if s := strings.TrimLeft(string(t), "+-"); s != "Inf" && s != "inf" && s != "Infinity" {
			return 0, false
		}
	}
	return f, true
}

var (
	hugeMax = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 127), big.NewInt(1))
	hugeMin = new(big.Int).Neg(hugeMax) // DuckDB's HUGEINT leaves out -2^127
)

// histChunk is lines of the file, read in order and parsed by one of the
// parsing goroutines into rows.
type histChunk struct {
	data []byte // the lines, back to back
	ends []int  // where each line ends in data
	nums []int  // each line's number in the file
	rows []histRow
	seq  []int64       // each row's seq; -1: left out (numberSeq)
	err  error         // the first line the chunk's parser did not take
	done chan struct{} // closed when rows (or err) are set
}

const (
	histChunkLines = 2048 // DuckDB's vector size: one chunk fills one DataChunk
	histParsers    = 2
)

// readChunks reads the file's non-blank lines into chunks, which it hands
// to the parsers on work and, in the file's order, to numberSeq's goroutine on
// ordered; it closes both at the end. A line it cannot read is the last
// chunk's err.
func readChunks(ctx context.Context, path string, work, ordered chan<- *histChunk, free <-chan *histChunk) {
	defer close(work)
	defer close(ordered)
	var c *histChunk
	next := func() bool {
		select {
		case c = <-free:
		case <-ctx.Done():
			return false
		}
		c.data, c.ends, c.nums, c.err, c.done = c.data[:0], c.ends[:0], c.nums[:0], nil, make(chan struct{})
		return true
	}
	send := func() {
		ordered <- c
		work <- c
	}
	if !next() {
		return
	}
	fail := func(err error) {
		c.err = err
		send()
	}
	f, err := os.Open(path)
	if err != nil {
		fail(err)
		return
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	for n := 1; ; n++ {
		line, rerr := loaders.ReadLine(br)
		if rerr != nil && rerr != io.EOF {
			fail(&sqlPath{line: n, why: rerr.Error()})
			return
		}
		if len(bytes.TrimSpace(line)) > 0 {
			c.data = append(c.data, line...)
			c.ends, c.nums = append(c.ends, len(c.data)), append(c.nums, n)
			if len(c.ends) == histChunkLines {
				send()
				if !next() {
					return
				}
			}
		}
		if rerr == io.EOF {
			break
		}
	}
	if len(c.ends) > 0 {
		send()
	}
}

// parse reads a chunk's lines into its rows, stopping at the first line
// it does not take.
func (r *historyReader) parse(c *histChunk) {
	defer close(c.done)
	if c.err != nil {
		return
	}
	for len(c.rows) < len(c.ends) {
		c.rows = append(c.rows, histRow{})
	}
	c.rows = c.rows[:len(c.ends)]
	start := 0
	for i, end := range c.ends {
		if err := r.row(c.nums[i], c.data[start:end], &c.rows[i]); err != nil {
			c.err = err
			return
		}
		start = end
	}
}

// appendHistoryJSONL reads a file of the Go reader's layouts into table
// (wandb_history, or verify's copy of it), leaving out the runs in taken,
// numbers its rows' seq as the SQL would, and returns what it counted of
// them. ok is false when the reader left the file to the SQL: then nothing
// of it is in the table.
//
// One goroutine reads the lines, two parse them, one numbers seq in the
// file's order, and DuckDB's INSERT pulls the typed rows through a table
// function (histRows), filling its own vectors: no text is parsed twice,
// and DuckDB writes the rows on its own threads.
func appendHistoryJSONL(ctx context.Context, conn *sql.Conn, h *histSource, path, table string, metrics []historyMetric, loadID int64, taken []string) (st *histStats, ok bool, err error) {
	cols := []string{"run_id", "seq", "step", "logged_at", "runtime"}
	types := []duckdb.Type{duckdb.TYPE_VARCHAR, duckdb.TYPE_BIGINT, duckdb.TYPE_BIGINT, duckdb.TYPE_TIMESTAMP_TZ, duckdb.TYPE_DOUBLE}
	for _, m := range metrics {
		cols, types = append(cols, m.column), append(types, duckdb.TYPE_DOUBLE)
	}
	// extra_metrics and extra come as JSON text. extra goes into its JSON
	// column byte for byte; extra_metrics is cast to its MAP (each double
	// as its shortest round-trip text, which DuckDB reads back exactly):
	// duckdb-go writes a MAP value entry by entry through reflection.
	cols, types = append(cols, "extra_metrics", "extra"), append(types, duckdb.TYPE_VARCHAR, duckdb.TYPE_VARCHAR)
	// Which metrics a row holds travels as bits of UBIGINT columns after
	// them, and the SELECT makes the others NULL: a NULL written into a
	// chunk is a cgo call, a bit is not, and most rows lack most metrics.
	src := &histRows{nm: len(metrics), masks: (len(metrics) + 63) / 64}
	for range src.masks {
		types = append(types, duckdb.TYPE_UBIGINT)
	}
	quoted, sel := make([]string, len(cols)), make([]string, len(cols))
	for i := range types {
		t, err := duckdb.NewTypeInfo(types[i])
		if err != nil {
			return nil, false, err
		}
		name := fmt.Sprintf("c%d", i+1)
		src.infos = append(src.infos, duckdb.ColumnInfo{Name: name, T: t})
		if i < len(cols) {
			quoted[i], sel[i] = dbschema.Ident(cols[i]), name
		}
	}
	for j := range metrics {
		sel[5+j] = fmt.Sprintf("CASE WHEN c%d & %d::UBIGINT <> 0 THEN %s END", len(cols)+1+j/64, uint64(1)<<(j%64), sel[5+j])
	}
	sel[len(sel)-2] = appender.FromJSON(sel[len(sel)-2], "MAP(VARCHAR, DOUBLE)")

	// The pipeline stops on its own context: a line left to the SQL ends
	// the rows early, and the INSERT, on the caller's, ends without error.
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work, ordered := make(chan *histChunk, 2*histParsers), make(chan *histChunk, 2*histParsers+2)
	ready := make(chan *histChunk, 4)
	free := make(chan *histChunk, cap(work)+cap(ordered)+cap(ready)+2)
	for range cap(free) {
		free <- &histChunk{}
	}
	src.feed.Store(&histFeed{ready: ready, free: free})
	go readChunks(pctx, path, work, ordered, free)
	r := newHistoryReader(metrics)
	var parsers sync.WaitGroup
	for i := range histParsers {
		p := r
		if i > 0 {
			p = r.fork()
		}
		parsers.Go(func() {
			for c := range work {
				p.parse(c)
			}
		})
	}
	runs := map[string]*histRun{}
	for _, t := range taken {
		runs[t] = &histRun{id: t, taken: true}
	}
	var stop *sqlPath
	var perr error
	numbered := make(chan struct{})
	go func() {
		defer close(numbered)
		defer close(ready)
		for c := range ordered {
			<-c.done
			if c.err != nil {
				if !errors.As(c.err, &stop) {
					perr = c.err
				}
				cancel()
				return
			}
			numberSeq(c, runs)
			select {
			case ready <- c:
			case <-pctx.Done():
				return
			}
		}
	}()
	name := fmt.Sprintf("dschema_history_rows_%d", histRowsFuncs.Add(1))
	err = duckdb.RegisterTableUDF(conn, name, duckdb.ParallelChunkTableFunction{
		BindArguments: func(map[string]any, ...any) (duckdb.ParallelChunkTableSource, error) { return src, nil },
	})
	var res sql.Result
	restore := func() {}
	if err == nil {
		// One DuckDB thread: with two, the client thread spins while the
		// other waits in FillChunk for parsed rows, taking the core the
		// parsers need (whole loads at 1.6M rows, 6 alternating pairs
		// each against the SQL path: 0.91x its wall time with one thread,
		// 1.04x with two).
		var r func()
		if r, err = loaders.SetThreads(ctx, conn, 1); err == nil {
			restore = r
		}
	}
	if err == nil {
		res, err = conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s (%s, load_id) SELECT %s, %d FROM %s()",
			table, strings.Join(quoted, ", "), strings.Join(sel, ", "), loadID, name))
	}
	restore()
	// DuckDB keeps the function registered: it must not keep the chunks.
	src.feed.Store(nil)
	// Let the goroutines finish: a failed INSERT leaves chunks unread.
	cancel()
	<-numbered
	for range ready {
	}
	for c := range ordered {
		<-c.done
	}
	parsers.Wait()
	if err == nil {
		err = ctx.Err() // the rows may have ended early: cancelled, not done
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, false, err
	case err != nil:
		return nil, false, &loaders.FileError{Path: path, Msg: duckMessage(err), Err: err}
	case perr != nil:
		return nil, false, &loaders.FileError{Path: path, Msg: perr.Error(), Err: perr}
	case stop != nil:
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE load_id = ?", table), loadID); err != nil {
			return nil, false, fmt.Errorf("%s: removing the Go reader's rows to read the file with the SQL: %w", path, err)
		}
		return nil, false, nil
	}
	st = &histStats{runs: runs}
	if st.rows, err = res.RowsAffected(); err != nil {
		return nil, false, err
	}
	var unsorted []string
	for _, hr := range runs {
		if hr.unsorted && !hr.taken {
			unsorted = append(unsorted, hr.id)
		}
	}
	slices.Sort(unsorted)
	if err := renumberRuns(ctx, conn, h, table, metrics, loadID, unsorted); err != nil {
		return nil, false, fmt.Errorf("%s: numbering again the runs whose rows are not in logged order: %w", path, err)
	}
	return st, true, nil
}

// numberSeq numbers the rows of c, the next chunk in the file's order,
// in their runs: the file's order while it is the logged order (a run
// where it is not is marked, and numbered again after the INSERT); -1 for
// a row of a run in taken, which is left out.
func numberSeq(c *histChunk, runs map[string]*histRun) {
	c.seq = c.seq[:0]
	for i := range c.rows {
		row := &c.rows[i]
		hr := runs[row.id]
		if hr == nil {
			hr = &histRun{id: row.id}
			runs[row.id] = hr
		}
		if hr.taken {
			c.seq = append(c.seq, -1)
			hr.left++
			continue
		}
		if hr.n > 0 && !hr.unsorted && !hr.last.before(row.key) {
			hr.unsorted = true
		}
		c.seq = append(c.seq, hr.n)
		hr.n++
		hr.last = row.key
		switch {
		case !row.key.hasStep:
			hr.noStep++
		default:
			if len(hr.steps) > 0 && row.key.step <= hr.steps[len(hr.steps)-1] {
				hr.stepsDown = true
			}
			hr.steps = append(hr.steps, row.key.step)
		}
	}
}

// histRowsFuncs names each load's table function: DuckDB keeps a
// registered function for the life of the database.
var histRowsFuncs atomic.Int64

// histRows is the table function DuckDB's INSERT reads the parsed rows
// from. Each call of FillChunk (on either of DuckDB's threads) takes the
// next numbered chunk of lines, writes its rows into DuckDB's vectors and
// hands the chunk back to the reader; the function ends when the chunks do.
type histRows struct {
	feed  atomic.Pointer[histFeed] // nil once the load's INSERT ended
	infos []duckdb.ColumnInfo
	nm    int // metrics with a column
	masks int // UBIGINT columns after extra: bit j%64 of mask j/64 is set when metric j has a value
}

// histFeed is where histRows takes numbered chunks and gives them back.
type histFeed struct {
	ready <-chan *histChunk
	free  chan<- *histChunk
}

func (s *histRows) ColumnInfos() []duckdb.ColumnInfo     { return s.infos }
func (s *histRows) Cardinality() *duckdb.CardinalityInfo { return nil }
func (s *histRows) Init() duckdb.ParallelTableSourceInfo { return duckdb.ParallelTableSourceInfo{} }
func (s *histRows) NewLocalState() any                   { return new(int) }

// errFeedEnded is a call of a load's table function after its INSERT.
var errFeedEnded = errors.New("a history load's rows, read after its load")

// FillChunk implements duckdb.ParallelChunkTableSource. A chunk holds at
// most histChunkLines rows, DuckDB's vector size. An empty DataChunk ends
// the function, so a chunk whose rows are all of runs another source
// loaded is passed over, not returned.
func (s *histRows) FillChunk(_ any, ch duckdb.DataChunk) error {
	f := s.feed.Load()
	if f == nil {
		return errFeedEnded
	}
	for {
		c, ok := <-f.ready
		if !ok {
			return ch.SetSize(0)
		}
		n, err := s.fill(c, ch)
		f.free <- c
		if err != nil {
			return err
		}
		if n > 0 {
			return ch.SetSize(n)
		}
	}
}

// fill writes the rows of c that are loaded into ch and returns how many.
func (s *histRows) fill(c *histChunk, ch duckdb.DataChunk) (int, error) {
	n, nm := 0, s.nm
	null := func(col int) error { return ch.SetValue(col, n, nil) }
	for i := range c.rows {
		if c.seq[i] < 0 {
			continue
		}
		row := &c.rows[i]
		err := errors.Join(duckdb.SetChunkValue(ch, 0, n, row.id), duckdb.SetChunkValue(ch, 1, n, c.seq[i]))
		if row.key.hasStep {
			err = errors.Join(err, duckdb.SetChunkValue(ch, 2, n, row.key.step))
		} else {
			err = errors.Join(err, null(2))
		}
		if row.key.hasAt {
			err = errors.Join(err, duckdb.SetChunkValue(ch, 3, n, time.UnixMicro(row.key.at).UTC()))
		} else {
			err = errors.Join(err, null(3))
		}
		if row.key.hasRT {
			err = errors.Join(err, duckdb.SetChunkValue(ch, 4, n, row.key.rt))
		} else {
			err = errors.Join(err, null(4))
		}
		for k := range s.masks {
			var mask uint64
			for j, t := range row.typed[k*64 : min(nm, k*64+64)] {
				err = errors.Join(err, duckdb.SetChunkValue(ch, 5+k*64+j, n, t))
				if row.has[k*64+j] {
					mask |= 1 << j
				}
			}
			err = errors.Join(err, duckdb.SetChunkValue(ch, 7+nm+k, n, mask))
		}
		if row.hasEM {
			err = errors.Join(err, duckdb.SetChunkValue(ch, 5+nm, n, row.em))
		} else {
			err = errors.Join(err, null(5+nm))
		}
		if row.hasExtra {
			err = errors.Join(err, duckdb.SetChunkValue(ch, 6+nm, n, row.extra))
		} else {
			err = errors.Join(err, null(6+nm))
		}
		if err != nil {
			return 0, fmt.Errorf("line %d: %w", c.nums[i], err)
		}
		n++
	}
	return n, nil
}

// renumberRuns numbers again the seq of runs whose rows were not in the
// file in (time, step, runtime) order: from their appended rows when no
// two of them tie in all three, else by the SQL from the file. It orders
// by runtime + 0.0, as h.order does: DuckDB's sort writes a key column
// back from its sort key, where -0.0 is 0.0.
func renumberRuns(ctx context.Context, conn *sql.Conn, h *histSource, table string, metrics []historyMetric, loadID int64, runs []string) error {
	if len(runs) == 0 {
		return nil
	}
	lits := make([]string, len(runs))
	for i, r := range runs {
		lits[i] = dbschema.Literal(r)
	}
	in := "(" + strings.Join(lits, ", ") + ")"
	tied, err := loaders.QueryStrings(ctx, conn, fmt.Sprintf(`SELECT DISTINCT run_id FROM %s WHERE load_id = ? AND run_id IN %s
		GROUP BY run_id, logged_at, step, runtime HAVING count(*) > 1 ORDER BY run_id`, table, in), loadID)
	if err != nil {
		return err
	}
	const tmp = "_dschema_history_renumber"
	stmts := []string{
		fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s AS SELECT * REPLACE (row_number() OVER (PARTITION BY run_id ORDER BY logged_at, step, runtime + 0.0) - 1 AS seq)
			FROM %s WHERE load_id = %d AND run_id IN %s`, tmp, table, loadID, in),
		fmt.Sprintf("DELETE FROM %s WHERE load_id = %d AND run_id IN %s", table, loadID, in),
	}
	if len(tied) > 0 {
		t := make([]string, len(tied))
		for i, r := range tied {
			t[i] = dbschema.Literal(r)
		}
		stmts = append(stmts, fmt.Sprintf("DELETE FROM %s WHERE run_id IN (%s)", tmp, strings.Join(t, ", ")))
		cols, sel := historySelect(h, metrics, loadID)
		stmts = append(stmts, fmt.Sprintf("INSERT INTO %s (%s) SELECT * FROM (%s) x WHERE run_id IN (%s)", table, strings.Join(cols, ", "), sel, strings.Join(t, ", ")))
	}
	stmts = append(stmts, fmt.Sprintf("INSERT INTO %s SELECT * FROM %s", table, tmp), "DROP TABLE "+tmp)
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}
