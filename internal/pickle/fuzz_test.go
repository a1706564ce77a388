package pickle

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// craftedSeeds are small forms of the hostile inputs of the other tests:
// cycles, nesting, a billion laughs, floods, declared sizes, second
// states, missing memo slots, text escapes, non-pickles.
func craftedSeeds() [][]byte {
	dt, data := f8(1.5, 2.5)
	oneCol := func(p *pw) { p.ndarray([]int64{1, 2}, dt, data) }
	var at int64
	laugh, _ := laughs(24, false)
	laughT, _ := laughs(24, true)
	frame := func(rows func(*pw), placement func(*pw)) []byte {
		return newPW(4).frame([]func(*pw){func(p *pw) { p.block(oneCol, placement) }},
			func(p *pw) { p.strIndex("a") }, rows, &at).stop()
	}
	one := sliceOf(vInt(0), vInt(1), vInt(1))
	seeds := [][]byte{
		newPW(2).op(']').put(0).get(0).op('a').stop(),
		newPW(2).op('}').put(0).int(1).get(0).op('s').stop(),
		newPW(2).op(']').put(0).get(0).op(0x85, 'a').stop(),
		[]byte("(lp0\ng0\na."),
		newPW(2).rep(MaxDepth+2, '(').stop(),
		newPW(2).op('N').rep(MaxDepth+2, 0x85).stop(),
		laugh, laughT,
		newPW(2).op('h', 250).stop(),
		[]byte("I1\np0\n0g7\n."),
		newPW(2).rep(1000, '}').stop(),
		newPW(2).op(']', '(').rep(1000, '}').op('e').stop(),
		newPW(4).op('N').rep(1000, 0x94).stop(),
		frame(func(p *pw) { p.rangeIndex(vInt(0), vInt(1<<31-1), vInt(1)) }, one),
		frame(func(p *pw) { p.rangeIndex(vBig(big.NewInt(-1<<62)), vBig(big.NewInt(1<<62)), vInt(1)) }, one),
		frame(func(p *pw) { p.rangeIndex(vInt(0), vInt(2), vInt(1)) }, sliceOf(vInt(0), vInt(1<<31-1), vInt(1))),
		frame(func(p *pw) { p.rangeIndex(vInt(0), vInt(2), vInt(1)) }, one),
		newPW(4).ndarray([]int64{1 << 31}, func(p *pw) { p.dtype("U1", 1<<33) }, vBytes(nil)).stop(),
		newPW(4).ndarray([]int64{1 << 33}, func(p *pw) { p.dtype("U4", 1<<31) }, vBytes(nil)).stop(),
		newPW(4).ndarray([]int64{1, 2}, dt, data).tuple(vInt(1), vTuple(), vOf8(), vBool(false), vBytes(make([]byte, 8))).op('b').stop(),
		[]byte("V\\u2603\xe9a\\b\\nc\n."),
		[]byte("S'a\\x41\\101\\q'\n."),
		[]byte("(I1\nS'a'\nF1.0\nS'b'\nI01\nS'c'\nd."),
		[]byte("cos\nsystem\n(S'echo'\ntR."),
		[]byte("PAR1 this is parquet"),
	}
	return seeds
}

// FuzzDecode: whatever the bytes, Decode returns a value or an *Error or
// *RefusedError whose offset lies within the input; it never panics
// (a panic it catches is a failure too), it answers the same twice, and
// its result is bounded by the values bound and made only of the
// documented types.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.pkl"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, b := range craftedSeeds() {
		f.Add(b)
	}
	f.Add([]byte{0x80, 4, 0x8f, '(', ']', 0x90, '.'})
	f.Fuzz(func(t *testing.T, data []byte) {
		limit := int64(ValuesBase + ValuesPerByte*len(data))
		describe := func(v any, err error) string {
			if err != nil {
				checkError(t, data, err)
				return "error: " + err.Error()
			}
			var n int64
			h := sha256.New()
			if walk(t, v, &n, limit, 0, h); n > limit {
				t.Fatalf("the result has more than %d values", limit)
			}
			return fmt.Sprintf("%d values, %x", n, h.Sum(nil))
		}
		first := describe(Decode(data))
		if second := describe(Decode(data)); second != first {
			t.Fatalf("Decode twice: %s, then %s", first, second)
		}
	})
}

// checkError checks an error is one of the package's, placed in the input.
func checkError(t *testing.T, data []byte, err error) {
	t.Helper()
	var pe *Error
	var re *RefusedError
	var off int64
	switch {
	case errors.As(err, &re):
		off = re.Offset
	case errors.As(err, &pe):
		off = pe.Offset
		if strings.Contains(pe.Msg, "decoder fault") {
			t.Fatalf("Decode panicked: %v", err)
		}
	default:
		t.Fatalf("Decode error %T %v: want *Error or *RefusedError", err, err)
	}
	if off < 0 || off > int64(len(data)) {
		t.Fatalf("error offset %d outside the %d-byte input: %v", off, len(data), err)
	}
	if msg := err.Error(); strings.Contains(msg, "interface {") || strings.Contains(msg, "*pickle.") {
		t.Fatalf("error names a Go type: %v", err)
	}
}

// walk counts the values a walk of v visits (shared values each time), up
// to limit, writes each to h (a fingerprint, to compare two decodes in
// linear time), and fails on a type Decode does not document.
func walk(t *testing.T, v any, n *int64, limit int64, depth int, h io.Writer) {
	if *n > limit {
		return
	}
	if depth > MaxDepth+1 {
		t.Fatalf("a result nested deeper than %d", MaxDepth)
	}
	*n++
	switch x := v.(type) {
	case time.Time:
		fmt.Fprintf(h, "time %d %s;", x.UnixNano(), x.Location())
		return
	case *Array:
		fmt.Fprintf(h, "array %v %v %v;", x.Dtype, x.Shape, x.Fortran)
	case []any, Tuple, *Dict, *Set, *Slice, *Index, *DataFrame:
		fmt.Fprintf(h, "%T;", v)
	default:
		fmt.Fprintf(h, "%T %v;", v, v)
	}
	switch x := v.(type) {
	case nil, bool, int64, uint64, *big.Int, float64, string, []byte, time.Time, time.Duration, *time.Location, NaTValue, *Dtype:
	case []any:
		for _, e := range x {
			walk(t, e, n, limit, depth+1, h)
		}
	case Tuple:
		for _, e := range x {
			walk(t, e, n, limit, depth+1, h)
		}
	case *Dict:
		if len(x.Keys) != len(x.Values) {
			t.Fatalf("dict of %d keys and %d values", len(x.Keys), len(x.Values))
		}
		for i := range x.Keys {
			walk(t, x.Keys[i], n, limit, depth+1, h)
			walk(t, x.Values[i], n, limit, depth+1, h)
		}
	case *Set:
		for _, e := range x.Items {
			walk(t, e, n, limit, depth+1, h)
		}
	case *Slice:
		walk(t, x.Start, n, limit, depth+1, h)
		walk(t, x.Stop, n, limit, depth+1, h)
		walk(t, x.Step, n, limit, depth+1, h)
	case *Array:
		if x.dataLen() != x.Len() {
			t.Fatalf("array of shape %v holds %d elements", x.Shape, x.dataLen())
		}
		*n += int64(x.Len())
		if els, ok := x.Data.([]any); !ok {
			fmt.Fprintf(h, "%v;", x.Data)
		} else {
			for _, e := range els {
				walk(t, e, n, limit, depth+1, h)
			}
		}
	case *Index:
		walk(t, x.Name, n, limit, depth+1, h)
		for _, e := range x.Values {
			walk(t, e, n, limit, depth+1, h)
		}
	case *DataFrame:
		walk(t, x.Index, n, limit, depth+1, h)
		for _, c := range x.Columns {
			walk(t, c, n, limit, depth+1, h)
		}
		for j := range x.Columns {
			x.Column(j) // may refuse a value (a datetime beyond time.Time), never panic
		}
		for _, b := range x.Blocks {
			walk(t, b.Values, n, limit, depth+1, h)
		}
	default:
		t.Fatalf("Decode returned a %T, which it does not document", v)
	}
}
