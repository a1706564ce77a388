// Package pickle decodes Python pickles without running any of their code.
//
// The opcode machine is this package's own (machine.go), written after
// CPython's Lib/pickle.py: every opcode of protocols 0 to 5, with the byte
// offset of each kept for errors. Every class a pickle names is answered
// from an allowlist (allow.go): Python builtins and datetime, numpy arrays,
// dtypes and scalars under both the numpy 1 (numpy.core) and numpy 2
// (numpy._core) names, and the pandas objects of a DataFrame. Anything
// else is refused with an error naming the module, the class and the byte
// offset of the opcode that asked for it; nothing is called, nothing is
// imported.
//
// A hostile pickle cannot make the decoder crash or allocate without
// bound: every declared length, shape and count is checked against the
// bytes actually present before anything is allocated; the decoded data is
// bounded relative to the input (MemoryPerByte, ValuesPerByte); nesting
// and the unpickling stack are bounded (MaxDepth, MaxStack); a memo
// reference shares the value it names (never a copy), and a structure
// that contains itself is refused. Every refusal is an *Error (wrapping
// ErrLimit for a bound) or a *RefusedError, with a byte offset.
//
// Decoded values are plain Go: nil (None, and pandas.NA), bool, int64 or
// *big.Int, float64, string, []byte (bytes, bytearray), []any (list),
// Tuple, *Dict (keys in order), *Set, *Slice, time.Time (datetime, date;
// naive ones in UTC, aware ones in their zone), time.Duration (timedelta),
// *time.Location (a time zone), *Array and *Dtype (numpy), numpy scalars
// as their Go values (NaT as NaTv), and *DataFrame, *Index, NaTv (pandas;
// DataFrame.Column says what a column's cells are). A value the pickle shares through its
// memo is shared in the result too: the same []any, *Dict or *Array.
package pickle

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Error is a pickle that cannot be decoded, with the byte offset of the
// opcode (or of the object it made) where decoding stopped. Decode always
// sets Offset; -1 means unknown.
type Error struct {
	Offset int64
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	if e.Offset < 0 {
		return "offset unknown: " + e.Msg
	}
	return fmt.Sprintf("byte %d: %s", e.Offset, e.Msg)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrRefused is wrapped by the error for a class off the allowlist.
var ErrRefused = errors.New("class not allowed")

// ErrLimit is wrapped by the error for a pickle that would decode to more
// than Limits allow (a "billion laughs", a flood of objects, too deep a
// nesting).
var ErrLimit = errors.New("decoding limit exceeded")

// ErrNaT is Dtype.Time's answer for numpy's NaT, which is no time.
var ErrNaT = errors.New("NaT is not a time")

// RefusedError names a class the pickle asked for that is not allowed.
type RefusedError struct {
	Module, Name string
	Offset       int64
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("byte %d: refused %s.%s: this decoder reconstructs only builtins, datetime, numpy arrays, dtypes and scalars, and pandas DataFrames, Index, Timestamp and NaT; nothing was run", e.Offset, e.Module, e.Name)
}

// Unwrap makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// Tuple is a Python tuple.
type Tuple []any

// Dict is a Python dict (or OrderedDict), its keys in insertion order.
type Dict struct {
	Keys, Values []any
	Ordered      bool // an OrderedDict
}

// Get returns the value of a string key.
func (d *Dict) Get(key string) (any, bool) {
	for i, k := range d.Keys {
		if s, ok := k.(string); ok && s == key {
			return d.Values[i], true
		}
	}
	return nil, false
}

// Set is a Python set or frozenset; its items sorted by their text, since
// Python keeps no order.
type Set struct {
	Items  []any
	Frozen bool
}

// Slice is a Python slice.
type Slice struct{ Start, Stop, Step any }

// The limits of what one pickle may decode to. Python has no such bounds;
// no pickle a program writes comes near them, and a hostile one is refused
// (an *Error wrapping ErrLimit) before it costs more.
const (
	// MaxDepth bounds the nesting of containers (and of MARKs): CPython's
	// pickler stops at its recursion limit (1000) long before.
	MaxDepth = 10000
	// MaxStack bounds the values on the unpickling stack at once (a tuple
	// is built there, so this is also the longest tuple).
	MaxStack = 1 << 20
	// MemoryBase and MemoryPerByte bound the memory the decoded values
	// take, as estimated while decoding: MemoryBase bytes plus
	// MemoryPerByte for each byte of input.
	MemoryBase    = 64 << 20
	MemoryPerByte = 24
	// ValuesBase and ValuesPerByte bound the values a walk of the result
	// visits (a value shared n times counts n times; an array counts its
	// elements): ValuesBase plus ValuesPerByte for each byte of input.
	ValuesBase    = 1 << 20
	ValuesPerByte = 16
)

// Decode decodes one pickle.
func Decode(data []byte) (v any, err error) {
	if err := looksLikePickle(data); err != nil {
		return nil, err
	}
	m := newMachine(data)
	defer func() {
		// Every input is checked before it is used; a panic here is a
		// bug of this package, and a crafted pickle must still not crash
		// the program that reads it.
		if r := recover(); r != nil {
			v, err = nil, &Error{Offset: m.at, Msg: fmt.Sprintf("malformed pickle: decoder fault: %v", r)}
		}
	}()
	raw, err := m.run()
	if err != nil {
		return nil, err
	}
	return m.convert(raw)
}

// looksLikePickle refuses input that is plainly not a pickle, naming what
// it starts with: a pickle starts with PROTO (0x80, protocols 2 to 5) or
// with one of the opcodes a protocol 0 or 1 pickler writes first.
func looksLikePickle(data []byte) error {
	if len(data) == 0 {
		return &Error{Offset: 0, Msg: "empty input: not a pickle"}
	}
	for _, k := range []struct{ magic, what string }{
		{"PAR1", "a Parquet file"}, {"PK\x03\x04", "a zip archive (torch.save and .npz files are zip archives)"},
		{"\x1f\x8b", "a gzip file: decompress it first"}, {"BZh", "a bzip2 file: decompress it first"},
		{"\xfd7zXZ\x00", "an xz file: decompress it first"}, {"\x28\xb5\x2f\xfd", "a zstd file: decompress it first"},
		{"\x93NUMPY", "a numpy .npy file"}, {"\x89HDF", "an HDF5 file"}, {"ARROW1", "an Arrow file"},
	} {
		if len(data) >= len(k.magic) && string(data[:len(k.magic)]) == k.magic {
			return &Error{Offset: 0, Msg: fmt.Sprintf("not a pickle: it starts with %q, %s", head(data), k.what)}
		}
	}
	if data[0] == 0x80 || firstOpcodes[data[0]] {
		return nil
	}
	return &Error{Offset: 0, Msg: fmt.Sprintf("not a pickle: it starts with %q, and a pickle starts with 0x80 (protocols 2 to 5) or a protocol 0/1 opcode", head(data))}
}

// firstOpcodes are the opcodes a protocol 0 or 1 pickle can start with.
var firstOpcodes = func() [256]bool {
	var t [256]bool
	for _, c := range "(]})NIJKLMFGSTUVXc" {
		t[c] = true
	}
	return t
}()

// head is the start of data, for a message.
func head(data []byte) string {
	if len(data) > 8 {
		return string(data[:8])
	}
	return string(data)
}

// TypeName is the Python name of a decoded (or decoding) value's type, for
// messages: "list", "dict", "numpy.ndarray", "pandas.DataFrame", ...
func TypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64, uint64, *big.Int, int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case []any, *pyList:
		return "list"
	case Tuple, *pyTuple:
		return "tuple"
	case *Dict:
		if x.Ordered {
			return "OrderedDict"
		}
		return "dict"
	case *pyDict:
		if x.ordered {
			return "OrderedDict"
		}
		return "dict"
	case *Set:
		if x.Frozen {
			return "frozenset"
		}
		return "set"
	case *pySet:
		if x.frozen {
			return "frozenset"
		}
		return "set"
	case *Slice, *pySlice:
		return "slice"
	case time.Time:
		return "datetime"
	case time.Duration:
		return "timedelta"
	case *time.Location, *tzInfo:
		return "tzinfo"
	case *Array:
		return "numpy.ndarray"
	case *Dtype:
		return "numpy.dtype"
	case *DataFrame:
		return "pandas.DataFrame"
	case *Index:
		return "pandas.Index"
	case NaTValue:
		return "pandas.NaT"
	case *class:
		return x.module + "." + x.name
	case *blockManager:
		return "pandas.BlockManager"
	case *Block:
		return "pandas block"
	case *ndArrayBacked:
		return "pandas." + x.cls
	case *maskedArray:
		return "pandas." + x.cls
	case *pandasDtype:
		return "pandas." + x.cls
	}
	return fmt.Sprintf("%T", v)
}

// repr is a value of the pickle as a message shows it: Python's repr for
// None, bools, numbers, str and bytes (cut short), <type> for the rest.
func repr(v any) string {
	const max = 40
	cut := func(s string) string {
		if len(s) > max {
			return s[:max] + "..."
		}
		return s
	}
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(x, 10)
	case *big.Int:
		if x.BitLen() > 128 {
			return fmt.Sprintf("<int of %d bits>", x.BitLen())
		}
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return cut(strconv.Quote(x))
	case []byte:
		return "b" + cut(strconv.Quote(string(x)))
	}
	return "<" + TypeName(v) + ">"
}

// shapeText is an array shape as Python writes it: (2, 3), (2,), ().
func shapeText(s []int) string {
	parts := make([]string, len(s))
	for i, n := range s {
		parts[i] = strconv.Itoa(n)
	}
	if len(s) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
