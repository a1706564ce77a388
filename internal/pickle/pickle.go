// Package pickle decodes Python pickles without running any of their code.
//
// The opcode machine is github.com/nlpodyssey/gopickle's. Every class a
// pickle names goes through its FindClass hook, where this package answers
// from an allowlist: Python builtins and datetime, and numpy arrays, dtypes
// and scalars under both the numpy 1 (numpy.core) and numpy 2 (numpy._core)
// names. Anything else is refused with an error naming the module, the
// class and the byte offset of the opcode that asked for it; nothing is
// called, nothing is imported. Before gopickle sees the bytes, a scan of
// the opcodes checks every length against what the input holds, so a
// crafted length cannot make the decoder allocate more than the file.
//
// Decoded values are plain Go: nil, bool, int64 or *big.Int, float64,
// string, []byte, []any (list), Tuple, *Dict (keys in order), *Set,
// Slice, time.Time (datetime, date), *Array and *Dtype (numpy), and numpy
// scalars as their Go values.
package pickle

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	gp "github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// Error is a pickle that cannot be decoded, with the byte offset of the
// place (0 when unknown).
type Error struct {
	Offset int64
	Msg    string
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("byte %d: %s", e.Offset, e.Msg) }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrRefused is wrapped by the error for a class off the allowlist.
var ErrRefused = errors.New("class not allowed")

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

// add appends a key and its value, converted.
func (d *Dict) add(key, value any) error {
	k, err := convert(key)
	if err != nil {
		return err
	}
	v, err := convert(value)
	if err != nil {
		return err
	}
	d.Keys, d.Values = append(d.Keys, k), append(d.Values, v)
	return nil
}

// Set is a Python set or frozenset; its items sorted by their text, since
// Python keeps no order.
type Set struct {
	Items  []any
	Frozen bool
}

// Slice is a Python slice.
type Slice struct{ Start, Stop, Step any }

// Decode decodes one pickle.
func Decode(data []byte) (v any, err error) {
	globals, err := scan(data)
	if err != nil {
		return nil, err
	}
	d := &decoder{globals: globals}
	u := gp.NewUnpickler(bytes.NewReader(data))
	u.FindClass = d.findClass
	defer func() {
		// gopickle keeps sets and OrderedDicts in Go maps: an unhashable
		// key (a list) panics there. A crafted pickle must not crash us.
		if r := recover(); r != nil {
			v, err = nil, &Error{Msg: fmt.Sprintf("malformed pickle: %v", r)}
		}
	}()
	raw, err := u.Load()
	if err != nil {
		var re *RefusedError
		if errors.As(err, &re) {
			return nil, re
		}
		var pe *Error
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, &Error{Msg: "malformed pickle: " + err.Error(), Err: err}
	}
	return convert(raw)
}

// decoder answers gopickle's FindClass from the allowlist.
type decoder struct {
	globals []global
	next    int
}

// offsetOf finds the opcode that named module.name: the next global of the
// scan with that name (or one the scan could not name).
func (d *decoder) offsetOf(module, name string) int64 {
	for i := d.next; i < len(d.globals); i++ {
		g := d.globals[i]
		if (g.module == module && g.name == name) || g.module == "" {
			d.next = i + 1
			return g.offset
		}
	}
	return 0
}

func (d *decoder) findClass(module, name string) (any, error) {
	off := d.offsetOf(module, name)
	if c, ok := allowed(module, name); ok {
		return c, nil
	}
	return nil, &RefusedError{Module: module, Name: name, Offset: off}
}

// callable adapts a function to gopickle's Callable (REDUCE).
type callable func(args ...any) (any, error)

func (f callable) Call(args ...any) (any, error) { return f(args...) }

// class is a marker for a class passed as an argument (numpy.ndarray).
type class struct{ module, name string }

func allowed(module, name string) (any, bool) {
	switch module {
	case "builtins", "__builtin__":
		switch name {
		case "set", "frozenset":
			frozen := name == "frozenset"
			return callable(func(args ...any) (any, error) {
				s := &Set{Frozen: frozen}
				if len(args) == 1 {
					l, ok := args[0].(*types.List)
					if !ok {
						return nil, fmt.Errorf("%s() of %T", name, args[0])
					}
					s.Items = append(s.Items, (*l)...)
				}
				return s, nil
			}), true
		case "slice":
			return callable(func(args ...any) (any, error) {
				if len(args) != 3 {
					return nil, fmt.Errorf("slice() takes 3 arguments, got %d", len(args))
				}
				return &Slice{args[0], args[1], args[2]}, nil
			}), true
		case "bytearray", "bytes":
			return callable(func(args ...any) (any, error) {
				if len(args) == 0 {
					return []byte{}, nil
				}
				return bytesArg(args[0], args[1:]...)
			}), true
		case "complex":
			return nil, false
		}
	case "_codecs":
		if name == "encode" { // protocol 2 writes bytes as _codecs.encode(str, "latin1")
			return callable(func(args ...any) (any, error) { return bytesArg(args[0], args[1:]...) }), true
		}
	case "datetime":
		switch name {
		case "datetime", "date", "timedelta", "timezone":
			return callable(func(args ...any) (any, error) { return datetimeCall(name, args) }), true
		}
	case "numpy.core.numeric", "numpy._core.numeric":
		if name == "_frombuffer" { // protocol 5
			return callable(frombuffer), true
		}
	case "numpy.core.multiarray", "numpy._core.multiarray":
		switch name {
		case "_reconstruct":
			return callable(reconstruct), true
		case "scalar":
			return callable(scalar), true
		}
	case "numpy":
		switch name {
		case "ndarray":
			return &class{module, name}, true
		case "dtype":
			return callable(newDtype), true
		}
	}
	if strings.HasPrefix(module, "pandas.") {
		return pandasClass(module, name)
	}
	return nil, false
}

// bytesArg reads the argument of bytearray() or _codecs.encode(): bytes,
// or a str in latin1.
func bytesArg(v any, rest ...any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return append([]byte{}, x...), nil
	case string:
		if len(rest) > 0 {
			if enc, _ := rest[0].(string); enc != "latin1" && enc != "latin-1" {
				return nil, fmt.Errorf("encoding %q: only latin1 is read", enc)
			}
		}
		out := make([]byte, 0, len(x))
		for _, r := range x {
			if r > 0xff {
				return nil, fmt.Errorf("latin1 string holds U+%04X", r)
			}
			out = append(out, byte(r))
		}
		return out, nil
	case *types.List:
		out := make([]byte, 0, len(*x))
		for _, e := range *x {
			n, ok := e.(int)
			if !ok || n < 0 || n > 255 {
				return nil, fmt.Errorf("bytearray of %v", e)
			}
			out = append(out, byte(n))
		}
		return out, nil
	}
	return nil, fmt.Errorf("bytes from %T", v)
}

// convertAll converts every item of a list or tuple.
func convertAll(items []any) ([]any, error) {
	out := make([]any, len(items))
	for i, e := range items {
		c, err := convert(e)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// convert turns gopickle's values into this package's.
func convert(v any) (any, error) {
	switch x := v.(type) {
	case *Slice:
		for _, p := range []*any{&x.Start, &x.Stop, &x.Step} {
			c, err := convert(*p)
			if err != nil {
				return nil, err
			}
			*p = c
		}
		return x, nil
	case *DataFrame:
		if x.pending {
			return nil, &Error{Msg: "pandas DataFrame never given its state (no BUILD)"}
		}
		return x, nil
	case nil, bool, float64, string, []byte, *big.Int, *Set, *Array, *Dtype, *Index, NaTValue:
		if s, ok := x.(*Set); ok {
			for i, e := range s.Items {
				c, err := convert(e)
				if err != nil {
					return nil, err
				}
				s.Items[i] = c
			}
			sort.Slice(s.Items, func(i, j int) bool { return fmt.Sprint(s.Items[i]) < fmt.Sprint(s.Items[j]) })
		}
		if a, ok := x.(*Array); ok && a.pending {
			return nil, &Error{Msg: "numpy array never given its data (no BUILD)"}
		}
		return x, nil
	case int:
		return int64(x), nil
	case int64, uint64, int32, float32:
		return x, nil
	case *types.List:
		return convertAll(*x)
	case *types.Tuple:
		out, err := convertAll(*x)
		return Tuple(out), err
	case *types.Dict:
		d := &Dict{}
		for _, e := range *x {
			if err := d.add(e.Key, e.Value); err != nil {
				return nil, err
			}
		}
		return d, nil
	case *types.OrderedDict:
		d := &Dict{Ordered: true}
		for e := x.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			if err := d.add(entry.Key, entry.Value); err != nil {
				return nil, err
			}
		}
		return d, nil
	case *types.Set:
		s := &Set{}
		for k := range *x {
			s.Items = append(s.Items, k)
		}
		return convert(s)
	case *types.FrozenSet:
		s := &Set{Frozen: true}
		for k := range *x {
			s.Items = append(s.Items, k)
		}
		return convert(s)
	case *types.ByteArray:
		return []byte(*x), nil
	case time.Time, time.Duration:
		return x, nil
	}
	return nil, &Error{Msg: fmt.Sprintf("decoded a %T, which this decoder does not return", v)}
}
