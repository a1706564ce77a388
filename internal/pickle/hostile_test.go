package pickle

import (
	"errors"
	"math/big"
	"runtime"
	"strings"
	"testing"
	"time"
)

// decodeError decodes data, which must fail with an *Error; it returns it.
func decodeError(t *testing.T, data []byte) *Error {
	t.Helper()
	v, err := Decode(data)
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("Decode = %v, %v; want an *Error", TypeName(v), err)
	}
	return pe
}

// allocated is the memory f allocates (all of it, garbage included).
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestCycles: a list or dict that contains itself, directly or through
// others, is refused naming the offset of the object that closes the
// cycle (it used to overflow Go's stack).
func TestCycles(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		at   int64
	}{
		// l = []; l.append(l)
		{"list contains itself", newPW(2).op(']').put(0).get(0).op('a').stop(), 2},
		// d = {}; d[1] = d
		{"dict contains itself", newPW(2).op('}').put(0).int(1).get(0).op('s').stop(), 2},
		// l = []; l.append((l,))
		{"list in a tuple in itself", newPW(2).op(']').put(0).get(0).op(0x85, 'a').stop(), 2},
		// a = []; b = [a]; a.append(b)
		{"two lists in a loop", newPW(2).op(']').put(0).op(']').put(1).get(0).op('a', '0').get(1).op('a').stop(), 2},
		// protocol 0: (lp0\ng0\na.
		{"protocol 0", []byte("(lp0\ng0\na."), 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			pe := decodeError(t, c.data)
			if pe.Offset != c.at || !strings.Contains(pe.Msg, "contains itself") || errors.Is(pe, ErrLimit) {
				t.Errorf("Decode = %v (offset %d), want a cycle at byte %d", pe, pe.Offset, c.at)
			}
		})
	}
}

// TestDepth: nesting is bounded (MaxDepth), and so is the stack
// (MaxStack): 2 MB of nested tuples and 6 MB of nested lists are refused
// at an exact offset instead of overflowing Go's stack; nesting up to the
// bound decodes.
func TestDepth(t *testing.T) {
	const k = 3 * MaxDepth
	memoLists := func(levels int) []byte {
		// l = []; then levels times: l = [l] (through memo 0), 7 bytes
		// a level from byte 6, so the stack stays small however deep
		// the lists go
		p := newPW(2).op(']').put(0).op('0')
		for i := 0; i < levels; i++ {
			p.op(']').get(0).op('a').put(0).op('0')
		}
		return p.get(0).stop()
	}
	for _, c := range []struct {
		name string
		data []byte
		at   int64
		msg  string
	}{
		{"2 MB of nested tuples by MARK", newPW(2).rep(2<<20, '(').stop(), 2 + MaxDepth, "marks open"},
		{"nested tuples by TUPLE1", newPW(2).op('N').rep(k, 0x85).stop(), int64(3 + k - 2 - MaxDepth), "nested deeper"},
		{"6 MB of nested lists", newPW(2).rep(6<<20, ']').stop(), 2 + MaxStack, "unpickling stack"},
		{"nested lists through the memo", memoLists(k), int64(6 + 7*(k-MaxDepth-2)), "nested deeper"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pe := decodeError(t, c.data)
			if pe.Offset != c.at || !errors.Is(pe, ErrLimit) || !strings.Contains(pe.Msg, c.msg) {
				t.Errorf("Decode = %v (offset %d), want %q at byte %d", pe, pe.Offset, c.msg, c.at)
			}
		})
	}
	t.Run("up to the bound", func(t *testing.T) {
		v, err := Decode(memoLists(MaxDepth))
		if err != nil {
			t.Fatal(err)
		}
		depth := 0
		for l, ok := v.([]any); ok && len(l) == 1; l, ok = l[0].([]any) {
			depth++
		}
		if depth != MaxDepth {
			t.Errorf("depth %d, want %d", depth, MaxDepth)
		}
	})
}

// laughs is a "billion laughs": L0 = [], Li = [Li-1, Li-1] through the
// memo, levels times; made[i] is the offset of the opcode that made Li.
func laughs(levels int, tuple bool) (data []byte, made []int64) {
	p := newPW(2)
	made = make([]int64, levels+1)
	p.mark(&made[0]).op(']').put(0).op('0')
	for i := 1; i <= levels; i++ {
		if tuple {
			p.get(i - 1).get(i - 1).mark(&made[i]).op(0x86)
		} else {
			p.op('(').get(i - 1).get(i - 1).mark(&made[i]).op('l')
		}
		p.put(i).op('0')
	}
	return p.get(levels).stop(), made
}

// TestBillionLaughs: 60 levels of [L, L] through the memo (2^61 values
// for a walker) are refused by the values bound, at the first level past
// it, with next to no memory: the memo shares, it does not copy.
func TestBillionLaughs(t *testing.T) {
	for _, tuple := range []bool{false, true} {
		data, made := laughs(60, tuple)
		limit := int64(ValuesBase + ValuesPerByte*len(data))
		level := 0
		for int64(1)<<(level+1)-1 <= limit {
			level++
		}
		var pe *Error
		mem := allocated(func() { pe = decodeError(t, data) })
		if !errors.Is(pe, ErrLimit) || pe.Offset != made[level] || !strings.Contains(pe.Msg, "values") {
			t.Errorf("%d bytes, tuples %v: Decode = %v, want the values bound at level %d (byte %d)", len(data), tuple, pe, level, made[level])
		}
		if mem > 16<<20 {
			t.Errorf("decoding allocated %d bytes", mem)
		}
	}
	// below the bound it decodes, sharing: 2^16 leaves from 16 lists
	data, _ := laughs(15, false)
	v, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	l := v.([]any)
	if len(l) != 2 || len(l[0].([]any)) != 2 {
		t.Fatalf("laughs(15) = %v", TypeName(v))
	}
}

// TestMemoShared: a value the memo names twice is one value in the result
// (the same list, dict, array), not a copy each time it is used.
func TestMemoShared(t *testing.T) {
	dt, data := f8(1.5, 2.5)
	for _, c := range []struct {
		name  string
		inner func(*pw)
		same  func(a, b any) bool
	}{
		{"list", func(p *pw) { p.op(']').int(1).op('a') }, func(a, b any) bool { return &a.([]any)[0] == &b.([]any)[0] }},
		{"dict", func(p *pw) { p.dict("k", vInt(1)) }, func(a, b any) bool { return a.(*Dict) == b.(*Dict) }},
		{"tuple", func(p *pw) { p.tuple(vInt(1)) }, func(a, b any) bool { return &a.(Tuple)[0] == &b.(Tuple)[0] }},
		{"ndarray", func(p *pw) { p.ndarray([]int64{2}, dt, data) }, func(a, b any) bool { return a.(*Array) == b.(*Array) }},
		{"object ndarray", func(p *pw) {
			p.ndarray([]int64{1}, func(p *pw) { p.dtype("O8", -1) }, func(p *pw) { p.op(']').int(7).op('a') })
		}, func(a, b any) bool { return a.(*Array) == b.(*Array) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPW(2)
			c.inner(p)
			p.put(0).op('0', '(').get(0).get(0).op('l')
			v, err := Decode(p.stop())
			if err != nil {
				t.Fatal(err)
			}
			l := v.([]any)
			if !c.same(l[0], l[1]) {
				t.Errorf("the two references are two values, want one shared")
			}
		})
	}
}

// TestDeclaredSizes: lengths declared in the pickle are computed without
// overflow and checked against the data present and the frame's rows
// before anything is made of them.
func TestDeclaredSizes(t *testing.T) {
	const big31 = 1<<31 - 1
	dt, data := f8(1.5, 2.5)
	oneCol := func(p *pw) { p.ndarray([]int64{1, 2}, dt, data) }
	p62 := new(big.Int).Lsh(big.NewInt(1), 62)
	for _, c := range []struct {
		name  string
		build func(p *pw, at *int64)
		msg   string
	}{
		{"RangeIndex of 2**31-1 rows for blocks of 2", func(p *pw, at *int64) {
			p.frame([]func(*pw){func(p *pw) { p.block(oneCol, sliceOf(vInt(0), vInt(1), vInt(1))) }},
				func(p *pw) { p.strIndex("a") }, func(p *pw) { p.rangeIndex(vInt(0), vInt(big31), vInt(1)) }, at)
		}, "a pandas block of 2 rows in a frame of 2147483647"},
		{"RangeIndex(-2**62, 2**62): the length overflows int64", func(p *pw, at *int64) {
			p.rangeIndex(vBig(new(big.Int).Neg(p62)), vBig(p62), vInt(1))
			*at = p.at() - 1
		}, "RangeIndex(-4611686018427387904, 4611686018427387904, 1) of more than"},
		{"RangeIndex past int64", func(p *pw, at *int64) {
			p.rangeIndex(vInt(0), vBig(new(big.Int).Lsh(p62, 2)), vInt(1))
			*at = p.at() - 1
		}, "RangeIndex(0, 18446744073709551616, 1): not read"},
		{"placement slice(0, 2**31-1) for one column", func(p *pw, at *int64) {
			p.block(oneCol, sliceOf(vInt(0), vInt(big31), vInt(1)))
			*at = p.at() - 1
		}, "places 2147483647 columns, its values hold 1"},
		{"placement of a block of 2**31 columns and 0 rows", func(p *pw, at *int64) {
			p.block(func(p *pw) { p.ndarray([]int64{1 << 31, 0}, dt, vBytes(nil)) }, sliceOf(vInt(0), vInt(1<<31), vInt(1)))
			*at = p.at() - 1
		}, "memory"},
		{"no columns, RangeIndex of 2**31-1 rows", func(p *pw, at *int64) {
			p.frame(nil, func(p *pw) { p.strIndex() }, func(p *pw) { p.rangeIndex(vInt(0), vInt(big31), vInt(1)) }, at)
		}, "memory"},
		{"U1 of element size 2**33, shape (2**31,), no data", func(p *pw, at *int64) {
			p.ndarray([]int64{1 << 31}, func(p *pw) { p.dtype("U1", 1<<33); *at = p.at() - 1 }, vBytes(nil))
		}, "element size 8589934592: not read"},
		{"S1 of element size 2**33, shape (2**31,), no data", func(p *pw, at *int64) {
			p.ndarray([]int64{1 << 31}, func(p *pw) { p.dtype("S1", 1<<33); *at = p.at() - 1 }, vBytes(nil))
		}, "element size 8589934592: not read"},
		{"U of 2**31 bytes, shape (2**33,): the size wraps to 0", func(p *pw, at *int64) {
			p.ndarray([]int64{1 << 33}, func(p *pw) { p.dtype("U4", 1<<31) }, vBytes(nil))
			*at = p.at() - 1
		}, "0 bytes of data, want 18446744073709551616"},
		{"shape past 2**40 elements", func(p *pw, at *int64) {
			p.ndarray([]int64{1 << 21, 1 << 21}, dt, vBytes(nil))
			*at = p.at() - 1
		}, "is not a dimension"},
		{"object array of 2**31 elements, 1 given", func(p *pw, at *int64) {
			p.ndarray([]int64{1 << 31}, func(p *pw) { p.dtype("O8", -1) }, func(p *pw) { p.op(']').int(1).op('a') })
			*at = p.at() - 1
		}, "object array of 2147483648 elements"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPW(4)
			var at int64
			c.build(p, &at)
			var pe *Error
			mem := allocated(func() { pe = decodeError(t, p.stop()) })
			if pe.Offset != at || !strings.Contains(pe.Msg, c.msg) {
				t.Errorf("Decode = %v, want %q at byte %d", pe, c.msg, at)
			}
			if mem > 64<<20 {
				t.Errorf("decoding allocated %d bytes", mem)
			}
		})
	}
}

// TestArrayDataLength: an array's data must be exactly its shape times its
// element size: a byte short or a byte over is refused.
func TestArrayDataLength(t *testing.T) {
	ok := []byte{0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40} // 1.5, 2.0
	f8dt := func(p *pw) { p.dtype("f8", -1) }
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"exact", ok, ""},
		{"a byte short", ok[:15], "15 bytes of data, want 16"},
		{"a byte over", append(append([]byte{}, ok...), 0), "17 bytes of data, want 16"},
		{"empty", nil, "0 bytes of data, want 16"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := Decode(newPW(2).ndarray([]int64{2}, f8dt, vBytes(c.data)).stop())
			if c.want == "" {
				a, isArr := v.(*Array)
				if err != nil || !isArr || a.At(1) != 2.0 {
					t.Errorf("Decode = %v, %v", v, err)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) || !strings.Contains(pe.Msg, c.want) {
				t.Errorf("Decode = %v, want %q", err, c.want)
			}
		})
	}
}

// TestStateOnce: BUILD sets an object's state once; a second BUILD (the
// array inside a DataFrame re-shaped to 0-d used to panic in At) is
// refused at its offset.
func TestStateOnce(t *testing.T) {
	dt, data := f8(1.5, 2.5)
	zeroD := func(p *pw) { p.tuple(vInt(1), vTuple(), vOf8(), vBool(false), vBytes(make([]byte, 8))) }
	for _, c := range []struct {
		name  string
		build func(p *pw, at *int64)
	}{
		{"ndarray", func(p *pw, at *int64) {
			p.ndarray([]int64{1, 2}, dt, data)
			zeroD(p)
			p.mark(at).op('b')
		}},
		{"ndarray in a DataFrame", func(p *pw, at *int64) {
			var build int64
			p.op('(') // the frame, and then the array again
			p.frame([]func(*pw){func(p *pw) {
				p.block(func(p *pw) { p.ndarray([]int64{1, 2}, dt, data).put(9) }, sliceOf(vInt(0), vInt(1), vInt(1)))
			}}, func(p *pw) { p.strIndex("a") }, func(p *pw) { p.rangeIndex(vInt(0), vInt(2), vInt(1)) }, &build)
			p.get(9)
			zeroD(p)
			p.mark(at).op('b', 'l')
		}},
		{"dtype", func(p *pw, at *int64) {
			p.dtype("f8", -1).tuple(vInt(3), vStr(">"), vNone(), vNone(), vNone(), vInt(-1), vInt(-1), vInt(0)).mark(at).op('b')
		}},
		{"DataFrame", func(p *pw, at *int64) {
			var build int64
			p.frame([]func(*pw){func(p *pw) {
				p.block(func(p *pw) { p.ndarray([]int64{1, 2}, dt, data) }, sliceOf(vInt(0), vInt(1), vInt(1)))
			}},
				func(p *pw) { p.strIndex("a") }, func(p *pw) { p.rangeIndex(vInt(0), vInt(2), vInt(1)) }, &build)
			p.dict().mark(at).op('b')
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPW(4)
			var at int64
			c.build(p, &at)
			pe := decodeError(t, p.stop())
			if pe.Offset != at || !strings.Contains(pe.Msg, "may be set once") {
				t.Errorf("Decode = %v, want a second state refused at byte %d", pe, at)
			}
		})
	}
}

func vOf8() func(*pw) { return func(p *pw) { p.dtype("f8", -1) } }

// TestArrayAtNeverPanics: At answers nil for indexes that are not of the
// array, and for an array whose shape and data disagree.
func TestArrayAtNeverPanics(t *testing.T) {
	f := &Dtype{Kind: 'f', Size: 8}
	for _, c := range []struct {
		name string
		a    *Array
		idx  []int
		want any
	}{
		{"in range", &Array{Dtype: f, Shape: []int{2, 2}, Data: []float64{1, 2, 3, 4}}, []int{1, 0}, 3.0},
		{"fortran", &Array{Dtype: f, Shape: []int{2, 2}, Fortran: true, Data: []float64{1, 2, 3, 4}}, []int{1, 0}, 2.0},
		{"0-d", &Array{Dtype: f, Shape: []int{}, Data: []float64{7}}, nil, 7.0},
		{"short data", &Array{Dtype: f, Shape: []int{2, 2}, Data: []float64{1}}, []int{1, 1}, nil},
		{"0-d indexed as 2-d", &Array{Dtype: f, Shape: []int{}, Data: []float64{7}}, []int{0, 1}, nil},
		{"too few indexes", &Array{Dtype: f, Shape: []int{2, 2}, Data: []float64{1, 2, 3, 4}}, []int{1}, nil},
		{"negative", &Array{Dtype: f, Shape: []int{2}, Data: []float64{1, 2}}, []int{-1}, nil},
		{"past the end", &Array{Dtype: f, Shape: []int{2}, Data: []float64{1, 2}}, []int{2}, nil},
		{"no data", &Array{Dtype: f, Shape: []int{2}}, []int{0}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.a.At(c.idx...); got != c.want {
				t.Errorf("At(%v) = %v, want %v", c.idx, got, c.want)
			}
		})
	}
}

// TestMemoMissing: a GET of a memo slot never stored is refused at its
// byte, as Python refuses it ("Memo value not found").
func TestMemoMissing(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		at   int64
	}{
		{"BINGET 250", newPW(2).op('h', 250).stop(), 2},
		{"LONG_BINGET 70000", newPW(2).int(1).put(0).op('0').get(70000).stop(), 7},
		{"GET 7", []byte("I1\np0\n0g7\n."), 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			pe := decodeError(t, c.data)
			if pe.Offset != c.at || !strings.Contains(pe.Msg, "memo value not found") {
				t.Errorf("Decode = %v, want memo value not found at byte %d", pe, c.at)
			}
		})
	}
}

// TestFloods: floods of cheap opcodes are refused by the bounds, at an
// exact offset where the bound is a count, with memory bounded relative
// to the input (8 MB of MARK used to take 1.85 GB, of EMPTY_DICT 1.3 GB).
func TestFloods(t *testing.T) {
	batched := newPW(2).op(']')
	for i := 0; i < 1000; i++ {
		batched.op('(').rep(1000, '}').op('e')
	}
	for _, c := range []struct {
		name string
		data []byte
		at   int64 // -1: anywhere
	}{
		{"8 MB of MARK", newPW(2).rep(8<<20, '(').stop(), 2 + MaxDepth},
		{"8 MB of EMPTY_DICT", newPW(2).rep(8<<20, '}').stop(), 2 + MaxStack},
		{"1 MB of EMPTY_DICT in lists", batched.stop(), -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var pe *Error
			mem := allocated(func() { pe = decodeError(t, c.data) })
			if !errors.Is(pe, ErrLimit) || (c.at >= 0 && pe.Offset != c.at) || pe.Offset < 0 || pe.Offset > int64(len(c.data)) {
				t.Errorf("Decode = %v, want a bound refused at byte %d", pe, c.at)
			}
			if bound := uint64(3 * (MemoryBase + MemoryPerByte*len(c.data))); mem > bound {
				t.Errorf("decoding allocated %d bytes, more than %d", mem, bound)
			}
		})
	}
}

// TestSetDict: dict keys and set items follow Python's equality (1, 1.0
// and True are one key) and unhashable keys are refused.
func TestSetDict(t *testing.T) {
	v, err := Decode([]byte("(I1\nS'a'\nF1.0\nS'b'\nI01\nS'c'\nd."))
	if err != nil {
		t.Fatal(err)
	}
	if d := v.(*Dict); len(d.Keys) != 1 || d.Keys[0] != int64(1) || d.Values[0] != "c" {
		t.Errorf("{1: a, 1.0: b, True: c} = %v %v, want {1: c}", d.Keys, d.Values)
	}
	pe := decodeError(t, newPW(2).op('}', ']', 'N', 's').stop())
	if pe.Offset != 5 || !strings.Contains(pe.Msg, "unhashable type: 'list'") {
		t.Errorf("Decode = %v", pe)
	}
	v, err = Decode(newPW(4).op(0x8f, '(').int(2).int(1).int(2).op(0x90).stop())
	if err != nil {
		t.Fatal(err)
	}
	if s := v.(*Set); len(s.Items) != 2 {
		t.Errorf("set = %v, want 2 items", s.Items)
	}
}

// TestHugeInt: an int of 4 MB (LONG4) as a set item and a dict
// key decodes in linear time: keys and the set's order do not go through
// Go's decimal conversion, which is superlinear.
func TestHugeInt(t *testing.T) {
	digits := make([]byte, 4<<20)
	for i := range digits {
		digits[i] = byte(i*7 + 1)
	}
	digits[len(digits)-1] = 0x7f
	long4 := func(p *pw) { p.op(0x8b).u32(uint32(len(digits))).op(digits...) }
	p := newPW(4).op(0x8f, '(')
	long4(p)
	p.int(1).op(0x90, '}')
	long4(p)
	p.int(2).op('s', 0x86)
	start := time.Now()
	v, err := Decode(p.stop())
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Decode took %v", d)
	}
	tup := v.(Tuple)
	if s := tup[0].(*Set); len(s.Items) != 2 {
		t.Errorf("set of %d items", len(s.Items))
	}
	if d := tup[1].(*Dict); len(d.Keys) != 1 || d.Keys[0].(*big.Int).BitLen() != 32<<20-1 {
		t.Errorf("dict = %v keys", len(d.Keys))
	}
}
