package pickle

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nlpodyssey/gopickle/types"
)

// Dtype is a numpy dtype.
type Dtype struct {
	Kind      byte   // f float, i int, u unsigned, b bool, O object, M datetime64, m timedelta64, U str, S bytes
	Size      int    // bytes per element (from the code; U and S from the state's elsize)
	ByteOrder byte   // '<', '>', '|' or '='
	Unit      string // M and m: ns, us, ms, s, D, ...
}

func (d *Dtype) String() string {
	s := fmt.Sprintf("%c%d", d.Kind, d.Size)
	if d.Unit != "" {
		s += "[" + d.Unit + "]"
	}
	return s
}

// newDtype is numpy.dtype(code, align, copy).
func newDtype(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("numpy.dtype() without a type code")
	}
	code, ok := args[0].(string)
	if !ok || code == "" {
		return nil, fmt.Errorf("numpy.dtype(%v): want a type code", args[0])
	}
	d := &Dtype{Kind: code[0], ByteOrder: '='}
	if len(code) > 1 {
		n, err := strconv.Atoi(code[1:])
		if err != nil || n < 0 || n > 1<<20 {
			return nil, fmt.Errorf("numpy.dtype(%q): unknown type code", code)
		}
		d.Size = n
	}
	switch d.Kind {
	case 'f':
		if d.Size != 4 && d.Size != 8 {
			return nil, fmt.Errorf("numpy.dtype(%q): float of %d bytes is not read", code, d.Size)
		}
	case 'i', 'u':
		if d.Size != 1 && d.Size != 2 && d.Size != 4 && d.Size != 8 {
			return nil, fmt.Errorf("numpy.dtype(%q): integer of %d bytes", code, d.Size)
		}
	case 'b':
		d.Size = 1
	case 'O':
	case 'M', 'm':
		d.Size = 8
	case 'U', 'S':
	default:
		return nil, fmt.Errorf("numpy.dtype(%q): kind %q is not read", code, d.Kind)
	}
	return d, nil
}

// PySetState reads the dtype's state: (version, byteorder, subdescr,
// names, fields, elsize, alignment, flags[, metadata]).
func (d *Dtype) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || len(*t) < 8 {
		return fmt.Errorf("numpy dtype state: want a tuple of 8 or more, got %T", state)
	}
	if bo, ok := (*t)[1].(string); ok && len(bo) == 1 {
		d.ByteOrder = bo[0]
	}
	if (*t)[3] != nil || (*t)[4] != nil {
		return fmt.Errorf("numpy dtype %s: structured dtypes are not read", d)
	}
	if n, ok := (*t)[5].(int); ok && n > 0 && (d.Kind == 'U' || d.Kind == 'S') {
		d.Size = n
	}
	if (d.Kind == 'M' || d.Kind == 'm') && len(*t) >= 9 {
		// metadata: ({}, (unit, num, den, events))
		if md, ok := (*t)[8].(*types.Tuple); ok && len(*md) == 2 {
			if u, ok := (*md)[1].(*types.Tuple); ok && len(*u) >= 2 {
				unit, _ := u.Get(0).([]byte)
				num, _ := u.Get(1).(int)
				d.Unit = string(unit)
				if num != 1 {
					d.Unit = strconv.Itoa(num) + d.Unit
				}
			}
		}
	}
	return nil
}

// NaT is numpy's not-a-time value of a datetime64 (the smallest int64).
const NaT = math.MinInt64

// Array is a numpy ndarray.
type Array struct {
	Dtype   *Dtype
	Shape   []int
	Fortran bool // column-major data
	// Data holds the elements in the array's memory order: []float64
	// (f), []int64 (i, and M/m as counts of Dtype.Unit, NaT for not a
	// time), []uint64 (u), []bool (b), []string (U, S) or []any (O).
	Data    any
	pending bool // made by _reconstruct, not yet given its state
}

// Len is the number of elements.
func (a *Array) Len() int {
	n := 1
	for _, s := range a.Shape {
		n *= s
	}
	return n
}

// At returns the element at the given indexes (as many as dimensions).
func (a *Array) At(idx ...int) any {
	off := 0
	if a.Fortran {
		mul := 1
		for i := range a.Shape {
			off += idx[i] * mul
			mul *= a.Shape[i]
		}
	} else {
		mul := 1
		for i := len(a.Shape) - 1; i >= 0; i-- {
			off += idx[i] * mul
			mul *= a.Shape[i]
		}
	}
	switch x := a.Data.(type) {
	case []float64:
		return x[off]
	case []int64:
		return x[off]
	case []uint64:
		return x[off]
	case []bool:
		return x[off]
	case []string:
		return x[off]
	case []any:
		return x[off]
	}
	return nil
}

// Time returns a datetime64 value as a time (UTC); ok is false for NaT.
func (d *Dtype) Time(v int64) (time.Time, bool) {
	if v == NaT {
		return time.Time{}, false
	}
	switch d.Unit {
	case "ns":
		return time.Unix(0, v).UTC(), true
	case "us":
		return time.UnixMicro(v).UTC(), true
	case "ms":
		return time.UnixMilli(v).UTC(), true
	case "s":
		return time.Unix(v, 0).UTC(), true
	case "D":
		return time.Unix(v*86400, 0).UTC(), true
	}
	return time.Time{}, false
}

// reconstruct is numpy's _reconstruct(ndarray, (0,), b'b'): an empty
// array that BUILD fills.
func reconstruct(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("numpy _reconstruct takes 3 arguments, got %d", len(args))
	}
	if c, ok := args[0].(*class); !ok || c.name != "ndarray" {
		return nil, fmt.Errorf("numpy _reconstruct of %v: only ndarray is read", args[0])
	}
	return &Array{pending: true}, nil
}

// maxElements bounds an array's element count (the data must be there
// too, but an object array's count is checked against its list).
const maxElements = 1 << 31

// PySetState is BUILD: (version, shape, dtype, is_fortran, data).
func (a *Array) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || len(*t) != 5 {
		return fmt.Errorf("numpy array state: want a 5-tuple, got %T", state)
	}
	shape, ok := (*t)[1].(*types.Tuple)
	if !ok {
		return fmt.Errorf("numpy array shape: %T", (*t)[1])
	}
	n := 1
	for _, s := range *shape {
		k, ok := s.(int)
		if !ok || k < 0 || (k > 0 && n > maxElements/k) {
			return fmt.Errorf("numpy array shape %v: not a shape this decoder reads", *shape)
		}
		n *= k
		a.Shape = append(a.Shape, k)
	}
	d, ok := (*t)[2].(*Dtype)
	if !ok {
		return fmt.Errorf("numpy array dtype: %T", (*t)[2])
	}
	a.Dtype = d
	a.Fortran, _ = (*t)[3].(bool)
	a.pending = false
	if d.Kind == 'O' {
		l, ok := (*t)[4].(*types.List)
		if !ok || len(*l) != n {
			return fmt.Errorf("numpy object array of %d elements: data is %T of another length", n, (*t)[4])
		}
		out := make([]any, n)
		for i, e := range *l {
			c, err := convert(e)
			if err != nil {
				return err
			}
			out[i] = c
		}
		a.Data = out
		return nil
	}
	raw, err := rawBytes((*t)[4])
	if err != nil {
		return err
	}
	if d.Size == 0 || len(raw) != n*d.Size {
		return fmt.Errorf("numpy array %v of %s: %d bytes of data, want %d", a.Shape, d, len(raw), n*d.Size)
	}
	a.Data, err = elements(d, raw, n)
	return err
}

func rawBytes(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string: // protocol 0/1 may carry bytes as a latin1 str
		return bytesArg(x)
	}
	return nil, fmt.Errorf("numpy array data: %T", v)
}

func order(d *Dtype) binary.ByteOrder {
	if d.ByteOrder == '>' {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// elements decodes n elements of d from raw.
func elements(d *Dtype, raw []byte, n int) (any, error) {
	bo := order(d)
	switch d.Kind {
	case 'f':
		out := make([]float64, n)
		for i := range out {
			if d.Size == 4 {
				out[i] = float64(math.Float32frombits(bo.Uint32(raw[i*4:])))
			} else {
				out[i] = math.Float64frombits(bo.Uint64(raw[i*8:]))
			}
		}
		return out, nil
	case 'i', 'M', 'm':
		out := make([]int64, n)
		for i := range out {
			b := raw[i*d.Size:]
			switch d.Size {
			case 1:
				out[i] = int64(int8(b[0]))
			case 2:
				out[i] = int64(int16(bo.Uint16(b)))
			case 4:
				out[i] = int64(int32(bo.Uint32(b)))
			case 8:
				out[i] = int64(bo.Uint64(b))
			}
		}
		return out, nil
	case 'u':
		out := make([]uint64, n)
		for i := range out {
			b := raw[i*d.Size:]
			switch d.Size {
			case 1:
				out[i] = uint64(b[0])
			case 2:
				out[i] = uint64(bo.Uint16(b))
			case 4:
				out[i] = uint64(bo.Uint32(b))
			case 8:
				out[i] = bo.Uint64(b)
			}
		}
		return out, nil
	case 'b':
		out := make([]bool, n)
		for i := range out {
			out[i] = raw[i] != 0
		}
		return out, nil
	case 'U':
		if d.Size%4 != 0 {
			return nil, fmt.Errorf("numpy str dtype of %d bytes", d.Size)
		}
		out := make([]string, n)
		for i := range out {
			var b strings.Builder
			for j := 0; j < d.Size; j += 4 {
				r := rune(bo.Uint32(raw[i*d.Size+j:]))
				if r == 0 {
					break
				}
				if !utf8.ValidRune(r) {
					return nil, fmt.Errorf("numpy str element %d holds code point %#x", i, r)
				}
				b.WriteRune(r)
			}
			out[i] = b.String()
		}
		return out, nil
	case 'S':
		out := make([]string, n)
		for i := range out {
			out[i] = strings.TrimRight(string(raw[i*d.Size:(i+1)*d.Size]), "\x00")
		}
		return out, nil
	}
	return nil, fmt.Errorf("numpy dtype %s is not read", d)
}

// frombuffer is numpy's _frombuffer(buffer, dtype, shape, order), the
// protocol 5 form of an array.
func frombuffer(args ...any) (any, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("numpy _frombuffer takes 4 arguments, got %d", len(args))
	}
	order, _ := args[3].(string)
	if order != "C" && order != "F" {
		return nil, fmt.Errorf("numpy _frombuffer order %v", args[3])
	}
	buf := args[0]
	if b, ok := buf.(*types.ByteArray); ok {
		buf = []byte(*b)
	}
	a := &Array{pending: true}
	state := types.Tuple{1, args[2], args[1], order == "F", buf}
	if err := a.PySetState(&state); err != nil {
		return nil, err
	}
	return a, nil
}

// scalar is numpy's scalar(dtype, data): one element.
func scalar(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("numpy scalar takes 2 arguments, got %d", len(args))
	}
	d, ok := args[0].(*Dtype)
	if !ok {
		return nil, fmt.Errorf("numpy scalar of %T", args[0])
	}
	if d.Kind == 'O' {
		return args[1], nil
	}
	raw, err := rawBytes(args[1])
	if err != nil {
		return nil, err
	}
	if d.Size == 0 || len(raw) != d.Size {
		return nil, fmt.Errorf("numpy scalar %s: %d bytes", d, len(raw))
	}
	els, err := elements(d, raw, 1)
	if err != nil {
		return nil, err
	}
	switch x := els.(type) {
	case []float64:
		return x[0], nil
	case []int64:
		if d.Kind == 'M' {
			if t, ok := d.Time(x[0]); ok {
				return t, nil
			}
			return nil, nil // NaT
		}
		return x[0], nil
	case []uint64:
		if x[0] > math.MaxInt64 {
			return new(big.Int).SetUint64(x[0]), nil
		}
		return int64(x[0]), nil
	case []bool:
		return x[0], nil
	case []string:
		return x[0], nil
	}
	return nil, fmt.Errorf("numpy scalar %s", d)
}
