package pickle

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
)

// pw writes a pickle opcode by opcode, for crafted inputs: deterministic
// bytes built in Go, no Python. Methods return the writer to chain; mark
// records the offset of the next opcode.
type pw struct{ b []byte }

// newPW starts a pickle of the protocol (a PROTO header from 2 on).
func newPW(proto int) *pw {
	p := &pw{}
	if proto >= 2 {
		p.b = append(p.b, 0x80, byte(proto))
	}
	return p
}

// at is the offset of the next opcode.
func (p *pw) at() int64 { return int64(len(p.b)) }

// mark stores the offset of the next opcode in *off.
func (p *pw) mark(off *int64) *pw { *off = p.at(); return p }

// op writes opcodes and raw argument bytes as they are.
func (p *pw) op(b ...byte) *pw { p.b = append(p.b, b...); return p }

// rep writes the same opcode bytes n times.
func (p *pw) rep(n int, b ...byte) *pw {
	for i := 0; i < n; i++ {
		p.b = append(p.b, b...)
	}
	return p
}

// str writes a str: SHORT_BINUNICODE or BINUNICODE.
func (p *pw) str(s string) *pw {
	if len(s) < 256 {
		return p.op(0x8c, byte(len(s))).op([]byte(s)...)
	}
	return p.op('X').u32(uint32(len(s))).op([]byte(s)...)
}

// bytes writes bytes: SHORT_BINBYTES or BINBYTES.
func (p *pw) bytes(b []byte) *pw {
	if len(b) < 256 {
		return p.op('C', byte(len(b))).op(b...)
	}
	return p.op('B').u32(uint32(len(b))).op(b...)
}

func (p *pw) u32(n uint32) *pw {
	p.b = binary.LittleEndian.AppendUint32(p.b, n)
	return p
}

// int writes an int: BININT1, BININT2, BININT or LONG1 as the value needs.
func (p *pw) int(n int64) *pw {
	switch {
	case n >= 0 && n < 256:
		return p.op('K', byte(n))
	case n >= 0 && n < 65536:
		return p.op('M', byte(n), byte(n>>8))
	case n >= -1<<31 && n < 1<<31:
		return p.op('J').u32(uint32(int32(n)))
	}
	return p.bigInt(big.NewInt(n))
}

// bigInt writes LONG1: two's complement, little-endian.
func (p *pw) bigInt(n *big.Int) *pw {
	nb := (n.BitLen() + 8) / 8 // room for the sign bit
	mod := new(big.Int).Lsh(big.NewInt(1), uint(8*nb))
	u := new(big.Int).Set(n)
	if n.Sign() < 0 {
		u.Add(u, mod)
	}
	be := u.FillBytes(make([]byte, nb))
	le := make([]byte, nb)
	for i, c := range be {
		le[nb-1-i] = c
	}
	return p.op(0x8a, byte(nb)).op(le...)
}

// global writes GLOBAL module name.
func (p *pw) global(module, name string) *pw {
	return p.op('c').op([]byte(module + "\n" + name + "\n")...)
}

// stackGlobal writes STACK_GLOBAL of two strs.
func (p *pw) stackGlobal(module, name string) *pw { return p.str(module).str(name).op(0x93) }

// put and get write BINPUT and BINGET (LONG_ forms past 255).
func (p *pw) put(i int) *pw {
	if i < 256 {
		return p.op('q', byte(i))
	}
	return p.op('r').u32(uint32(i))
}

func (p *pw) get(i int) *pw {
	if i < 256 {
		return p.op('h', byte(i))
	}
	return p.op('j').u32(uint32(i))
}

// tuple writes a tuple of what the functions write: MARK ... TUPLE.
func (p *pw) tuple(parts ...func(*pw)) *pw {
	p.op('(')
	for _, f := range parts {
		f(p)
	}
	return p.op('t')
}

// dict writes a dict of str keys: EMPTY_DICT MARK k v ... SETITEMS.
func (p *pw) dict(kv ...any) *pw {
	p.op('}', '(')
	for i := 0; i < len(kv); i += 2 {
		p.str(kv[i].(string))
		kv[i+1].(func(*pw))(p)
	}
	return p.op('u')
}

func (p *pw) stop() []byte { return append(p.op('.').b[:0:0], p.b...) }

// Values for tuple and dict.

func vInt(n int64) func(*pw)              { return func(p *pw) { p.int(n) } }
func vBig(n *big.Int) func(*pw)           { return func(p *pw) { p.bigInt(n) } }
func vStr(s string) func(*pw)             { return func(p *pw) { p.str(s) } }
func vBytes(b []byte) func(*pw)           { return func(p *pw) { p.bytes(b) } }
func vNone() func(*pw)                    { return func(p *pw) { p.op('N') } }
func vBool(b bool) func(*pw)              { return func(p *pw) { p.op(map[bool]byte{true: 0x88, false: 0x89}[b]) } }
func vTuple(parts ...func(*pw)) func(*pw) { return func(p *pw) { p.tuple(parts...) } }

// dtype writes numpy.dtype(code, False, True) and BUILD of its state, with
// elsize for U and S.
func (p *pw) dtype(code string, elsize int64) *pw {
	p.stackGlobal("numpy", "dtype").tuple(vStr(code), vBool(false), vBool(true)).op('R')
	bo := "<"
	if code[0] == 'U' || code[0] == 'S' || code[0] == 'O' || code[0] == 'b' {
		bo = "|"
	}
	return p.tuple(vInt(3), vStr(bo), vNone(), vNone(), vNone(), vInt(elsize), vInt(-1), vInt(0)).op('b')
}

// ndarray writes _reconstruct(ndarray, (0,), b"b") and BUILD of (1, shape,
// dtype, False, data); dtype writes the dtype, data the data.
func (p *pw) ndarray(shape []int64, dtype, data func(*pw)) *pw {
	p.stackGlobal("numpy.core.multiarray", "_reconstruct").
		tuple(func(p *pw) { p.stackGlobal("numpy", "ndarray") }, vTuple(vInt(0)), vBytes([]byte("b"))).op('R')
	dims := make([]func(*pw), len(shape))
	for i, s := range shape {
		dims[i] = vInt(s)
	}
	return p.tuple(vInt(1), vTuple(dims...), dtype, vBool(false), data).op('b')
}

// f8 is a float64 array's dtype and little-endian data.
func f8(vals ...float64) (func(*pw), func(*pw)) {
	b := make([]byte, 0, 8*len(vals))
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return func(p *pw) { p.dtype("f8", -1) }, vBytes(b)
}

// index writes _new_Index(cls, d).
func (p *pw) index(module, cls string, kv ...any) *pw {
	p.stackGlobal("pandas.core.indexes.base", "_new_Index")
	p.op('(').stackGlobal(module, cls).dict(kv...).op('t')
	return p.op('R')
}

// rangeIndex writes RangeIndex(start, stop, step).
func (p *pw) rangeIndex(start, stop, step func(*pw)) *pw {
	return p.index("pandas.core.indexes.range", "RangeIndex", "name", vNone(), "start", start, "stop", stop, "step", step)
}

// strIndex writes an Index of strs (an object array).
func (p *pw) strIndex(labels ...string) *pw {
	return p.index("pandas.core.indexes.base", "Index", "data", func(p *pw) {
		p.ndarray([]int64{int64(len(labels))}, func(p *pw) { p.dtype("O8", -1) }, func(p *pw) {
			p.op(']', '(')
			for _, l := range labels {
				p.str(l)
			}
			p.op('e')
		})
	}, "name", vNone())
}

// block writes _unpickle_block(values, placement, 2).
func (p *pw) block(values, placement func(*pw)) *pw {
	return p.stackGlobal("pandas._libs.internals", "_unpickle_block").tuple(values, placement, vInt(2)).op('R')
}

// slice writes builtins.slice(start, stop, step).
func sliceOf(start, stop, step func(*pw)) func(*pw) {
	return func(p *pw) { p.stackGlobal("builtins", "slice").tuple(start, stop, step).op('R') }
}

// frame writes DataFrame NEWOBJ and BUILD {"_mgr": BlockManager(blocks,
// [columns, rows])}; *build gets the offset of the frame's BUILD.
func (p *pw) frame(blocks []func(*pw), columns, rows func(*pw), build *int64) *pw {
	p.stackGlobal("pandas.core.frame", "DataFrame").op(')', 0x81)
	p.op('}').str("_mgr")
	p.stackGlobal("pandas.core.internals.managers", "BlockManager").op('(')
	p.tuple(blocks...)
	p.op(']', '(')
	columns(p)
	rows(p)
	p.op('e', 't', 'R', 's')
	return p.mark(build).op('b')
}

// intStr is strconv.Itoa for int64, for lines.
func intStr(n int64) string { return strconv.FormatInt(n, 10) }

// dtypeUnit writes numpy.dtype(code) of a datetime64 or timedelta64 ("M8",
// "m8") and BUILD of its state, whose metadata holds the unit and its
// multiple as numpy writes them: ({}, (b"unit", num, 1, 1)).
func (p *pw) dtypeUnit(code, unit string, num int64) *pw {
	p.stackGlobal("numpy", "dtype").tuple(vStr(code), vBool(false), vBool(true)).op('R')
	md := vTuple(func(p *pw) { p.op('}') }, vTuple(vBytes([]byte(unit)), vInt(num), vInt(1), vInt(1)))
	return p.tuple(vInt(4), vStr("<"), vNone(), vNone(), vNone(), vInt(-1), vInt(-1), vInt(0), md).op('b')
}

// i8 is little-endian int64 data.
func i8(vals ...int64) func(*pw) {
	b := make([]byte, 0, 8*len(vals))
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return vBytes(b)
}
