package showntell_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// A small pickle writer for crafted test inputs: the opcodes CPython's
// pickler writes at protocol 4 (without frames or memo), and the numpy and
// pandas objects in the shapes pandas writes them (LEGACY-FORMATS.md §4.3),
// so tests build odd records and frames deterministically without Python.

type (
	pyTuple  []any
	pyBytes  []byte
	pyGlobal struct{ module, name string }
	// pyDict is a dict, its items in order.
	pyDict [][2]any
	// pyReduce is fn(*args).
	pyReduce struct {
		fn   any
		args pyTuple
	}
	// pyBuild is obj with BUILD(state).
	pyBuild struct{ obj, state any }
	// pyNewObj is cls.__new__(cls, *args).
	pyNewObj struct {
		cls  any
		args pyTuple
	}
)

type pickleWriter struct{ b []byte }

func (w *pickleWriter) op(b ...byte) { w.b = append(w.b, b...) }

func (w *pickleWriter) u32(n int) { w.b = binary.LittleEndian.AppendUint32(w.b, uint32(n)) }

func (w *pickleWriter) val(v any) {
	switch x := v.(type) {
	case nil:
		w.op('N')
	case bool:
		if x {
			w.op(0x88)
		} else {
			w.op(0x89)
		}
	case int:
		w.val(int64(x))
	case int64:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			w.op('J')
			w.b = binary.LittleEndian.AppendUint32(w.b, uint32(int32(x)))
			return
		}
		w.val(big.NewInt(x))
	case *big.Int:
		// LONG1: little-endian two's complement, as long as CPython makes it.
		n := new(big.Int).Abs(x).BitLen()>>3 + 1
		mod := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
		tc := new(big.Int).Set(x)
		if x.Sign() < 0 {
			tc.Add(tc, mod)
		}
		be := tc.FillBytes(make([]byte, n))
		w.op(0x8a, byte(n))
		for i := n - 1; i >= 0; i-- {
			w.op(be[i])
		}
	case float64:
		w.op('G')
		w.b = binary.BigEndian.AppendUint64(w.b, math.Float64bits(x))
	case string:
		w.op('X')
		w.u32(len(x))
		w.b = append(w.b, x...)
	case pyBytes:
		w.op('B')
		w.u32(len(x))
		w.b = append(w.b, x...)
	case []any:
		w.op(']')
		if len(x) > 0 {
			w.op('(')
			for _, e := range x {
				w.val(e)
			}
			w.op('e')
		}
	case pyTuple:
		if len(x) == 0 {
			w.op(')')
			return
		}
		w.op('(')
		for _, e := range x {
			w.val(e)
		}
		w.op('t')
	case pyDict:
		w.op('}')
		if len(x) > 0 {
			w.op('(')
			for _, kv := range x {
				w.val(kv[0])
				w.val(kv[1])
			}
			w.op('u')
		}
	case pyGlobal:
		w.op('c')
		w.b = append(w.b, x.module+"\n"+x.name+"\n"...)
	case pyReduce:
		w.val(x.fn)
		w.val(x.args)
		w.op('R')
	case pyBuild:
		w.val(x.obj)
		w.val(x.state)
		w.op('b')
	case pyNewObj:
		w.val(x.cls)
		w.val(x.args)
		w.op(0x81)
	default:
		panic("pickle writer: no opcode for a " + typeName(v))
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

// pickleBytes is v as a protocol 4 pickle.
func pickleBytes(v any) []byte {
	w := &pickleWriter{}
	w.op(0x80, 4)
	w.val(v)
	w.op('.')
	return w.b
}

// writePickle writes v as a pickle named name in a temp folder.
func writePickle(t *testing.T, dir, name string, v any) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pickleBytes(v), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// npDtype is numpy.dtype(code) with its state: code is numpy's, e.g. f8,
// i8, u8, u1, b1, O8, M8 and m8 (ns), M8[us], m8[10s]; order "<" or "|".
func npDtype(code, order string) any {
	flags := 0
	if code[0] == 'O' {
		flags = 63
	}
	state := pyTuple{3, order, nil, nil, nil, -1, -1, flags}
	if code[0] == 'M' || code[0] == 'm' { // the unit in the metadata
		unit, num := "ns", 1
		if i := strings.IndexByte(code, '['); i > 0 {
			unit = strings.TrimRight(code[i+1:], "]")
			code = code[:i]
			if j := strings.IndexFunc(unit, func(r rune) bool { return r < '0' || r > '9' }); j > 0 {
				num, _ = strconv.Atoi(unit[:j])
				unit = unit[j:]
			}
		}
		state = pyTuple{4, order, nil, nil, nil, -1, -1, 0, pyTuple{pyDict{}, pyTuple{pyBytes(unit), num, 1, 1}}}
	}
	return pyBuild{pyReduce{pyGlobal{"numpy", "dtype"}, pyTuple{code, false, true}}, state}
}

// npArray is a numpy array of the given shape: data is []float64, []int64,
// []uint64 (the dtype's size says how many bytes each), []bool, or []any
// (an object array).
func npArray(code string, shape []int, data any) any {
	order := "<"
	var raw any
	size := int(code[1] - '0')
	switch x := data.(type) {
	case []float64:
		b := make([]byte, 0, 8*len(x))
		for _, f := range x {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
		}
		raw = pyBytes(b)
	case []int64:
		b := make([]byte, 0, 8*len(x))
		for _, n := range x {
			b = binary.LittleEndian.AppendUint64(b, uint64(n))
		}
		raw = pyBytes(b)
	case []uint64:
		var b []byte
		for _, n := range x {
			switch size {
			case 1:
				b = append(b, byte(n))
				order = "|"
			case 8:
				b = binary.LittleEndian.AppendUint64(b, n)
			}
		}
		raw = pyBytes(b)
	case []bool:
		var b []byte
		for _, v := range x {
			if v {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
		raw, order = pyBytes(b), "|"
	case []any:
		raw, order = x, "|"
	}
	sh := make(pyTuple, len(shape))
	for i, s := range shape {
		sh[i] = s
	}
	return pyBuild{
		pyReduce{pyGlobal{"numpy.core.multiarray", "_reconstruct"}, pyTuple{pyGlobal{"numpy", "ndarray"}, pyTuple{0}, pyBytes("b")}},
		pyTuple{1, sh, npDtype(code, order), false, raw},
	}
}

// npScalar is a numpy scalar: numpy.core.multiarray.scalar(dtype, bytes).
func npScalar(code string, raw []byte) any {
	return pyReduce{pyGlobal{"numpy.core.multiarray", "scalar"}, pyTuple{npDtype(code, "<"), pyBytes(raw)}}
}

// pdTimestamp is a pandas Timestamp of nanoseconds since the epoch.
func pdTimestamp(ns int64) any {
	return pyReduce{pyGlobal{"pandas._libs.tslibs.timestamps", "_unpickle_timestamp"}, pyTuple{ns, nil, nil, 10}}
}

// pyDatetime is datetime.datetime(y, mo, d, h, mi, sec, us, tzinfo=tz)
// (tz nil: naive), in the state CPython pickles.
func pyDatetime(y, mo, d, h, mi, sec, us int, tz any) any {
	state := pyBytes{byte(y >> 8), byte(y), byte(mo), byte(d), byte(h), byte(mi), byte(sec), byte(us >> 16), byte(us >> 8), byte(us)}
	if tz == nil {
		return pyReduce{pyGlobal{"datetime", "datetime"}, pyTuple{state}}
	}
	return pyReduce{pyGlobal{"datetime", "datetime"}, pyTuple{state, tz}}
}

// pyTimezone is datetime.timezone(timedelta(seconds=offset)).
func pyTimezone(offset int) any {
	return pyReduce{pyGlobal{"datetime", "timezone"}, pyTuple{pyReduce{pyGlobal{"datetime", "timedelta"}, pyTuple{0, offset, 0}}}}
}

// pdTimestampTZ is a pandas Timestamp of nanoseconds since the epoch in
// an IANA zone, as pandas pickles one with a pytz zone.
func pdTimestampTZ(ns int64, zone string) any {
	return pyReduce{pyGlobal{"pandas._libs.tslibs.timestamps", "_unpickle_timestamp"}, pyTuple{ns, nil, pyReduce{pyGlobal{"pytz", "_p"}, pyTuple{zone}}, 10}}
}

// pdRangeIndex is RangeIndex(0, n).
func pdRangeIndex(n int) any {
	return pyReduce{pyGlobal{"pandas.core.indexes.base", "_new_Index"}, pyTuple{pyGlobal{"pandas.core.indexes.range", "RangeIndex"},
		pyDict{{"name", nil}, {"start", 0}, {"stop", n}, {"step", 1}}}}
}

// pdIndex is an Index over a 1-D numpy array.
func pdIndex(arr any, name any) any {
	return pyReduce{pyGlobal{"pandas.core.indexes.base", "_new_Index"}, pyTuple{pyGlobal{"pandas.core.indexes.base", "Index"},
		pyDict{{"data", arr}, {"name", name}}}}
}

// frameColumn is one column of a crafted DataFrame, in a block of its own.
type frameColumn struct {
	name string
	code string // numpy dtype code of the column
	data any    // one value per row, as npArray takes it
}

// pdFrame is a DataFrame with one block per column.
func pdFrame(index any, cols ...frameColumn) any {
	names := make([]any, len(cols))
	var blocks pyTuple
	for j, c := range cols {
		names[j] = c.name
		n := dataLen(c.data)
		blocks = append(blocks, pyReduce{pyGlobal{"pandas._libs.internals", "_unpickle_block"}, pyTuple{
			npArray(c.code, []int{1, n}, c.data),
			pyReduce{pyGlobal{"builtins", "slice"}, pyTuple{j, j + 1, 1}},
			2,
		}})
	}
	mgr := pyReduce{pyGlobal{"pandas.core.internals.managers", "BlockManager"}, pyTuple{blocks, []any{
		pdIndex(npArray("O8", []int{len(cols)}, names), nil), index,
	}}}
	return pyBuild{pyNewObj{pyGlobal{"pandas.core.frame", "DataFrame"}, pyTuple{}}, pyDict{{"_mgr", mgr}}}
}

func dataLen(data any) int {
	switch x := data.(type) {
	case []float64:
		return len(x)
	case []int64:
		return len(x)
	case []uint64:
		return len(x)
	case []bool:
		return len(x)
	case []any:
		return len(x)
	}
	panic("pickle writer: column data of a " + typeName(data))
}

// modernizedPickle is a modernized run data dict holding the records (each
// a pyDict), with empty grouped_data and processed_dataframes.
func modernizedPickle(records ...pyDict) any {
	list := make([]any, len(records))
	for i, r := range records {
		list[i] = r
	}
	return pyDict{
		{"processed_runs", list},
		{"grouped_data", pyDict{}},
		{"processed_dataframes", pyDict{}},
		{"metadata", pyDict{{"total_runs", len(records)}}},
	}
}
