package pickle

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Dtype is a numpy dtype.
type Dtype struct {
	Kind      byte   // f float, i int, u unsigned, b bool, O object, M datetime64, m timedelta64, U str, S bytes
	Size      int    // bytes per element (from the code; U and S from the state's elsize)
	ByteOrder byte   // '<', '>', '|' or '='
	Unit      string // M and m: ns, us, ms, s, m, h, D, W, M, Y, with a multiple ("10s") when not 1; empty for numpy's generic unit (NaT only)
	built     bool
}

func (d *Dtype) String() string {
	s := fmt.Sprintf("%c%d", d.Kind, d.Size)
	if d.Unit != "" {
		s += "[" + d.Unit + "]"
	}
	return s
}

// maxItemSize bounds an element's size (numpy's own bound is lower).
const maxItemSize = 1 << 31

// newDtype is numpy.dtype(code, align, copy).
func newDtype(m *machine, args []any) (any, error) {
	if len(args) < 1 || len(args) > 3 {
		return nil, fmt.Errorf("dtype() takes 1 to 3 arguments, got %d", len(args))
	}
	code, ok := args[0].(string)
	if !ok || code == "" {
		return nil, fmt.Errorf("dtype(%s): want a type code", TypeName(args[0]))
	}
	d := &Dtype{Kind: code[0], ByteOrder: '='}
	if len(code) > 1 {
		n, err := strconv.Atoi(code[1:])
		if err != nil || n < 0 || n > maxItemSize {
			return nil, fmt.Errorf("dtype(%s): unknown type code", repr(code))
		}
		d.Size = n
	}
	switch d.Kind {
	case 'f':
		if d.Size != 4 && d.Size != 8 {
			return nil, fmt.Errorf("dtype(%s): a float of %d bytes is not read", repr(code), d.Size)
		}
	case 'i', 'u':
		if d.Size != 1 && d.Size != 2 && d.Size != 4 && d.Size != 8 {
			return nil, fmt.Errorf("dtype(%s): an integer of %d bytes is not read", repr(code), d.Size)
		}
	case 'b':
		d.Size = 1
	case 'O':
		d.Size = 8
	case 'M', 'm':
		d.Size = 8
	case 'U', 'S':
	default:
		return nil, fmt.Errorf("dtype(%s): kind %q is not read", repr(code), d.Kind)
	}
	return d, nil
}

// build reads the dtype's state: (version, byteorder, subdescr, names,
// fields, elsize, alignment, flags[, metadata]).
func (d *Dtype) build(m *machine, state any) error {
	if d.built {
		return fmt.Errorf("a dtype's state may be set once")
	}
	t, ok := state.(*pyTuple)
	if !ok || len(t.items) < 8 || len(t.items) > 9 {
		return fmt.Errorf("numpy dtype state: want a tuple of 8 or 9, got a %s", TypeName(state))
	}
	it := t.items
	bo, ok := it[1].(string)
	if !ok || len(bo) != 1 || !strings.Contains("<>|=", bo) {
		return fmt.Errorf("numpy dtype byte order %s", repr(it[1]))
	}
	d.ByteOrder = bo[0]
	if it[2] != nil || it[3] != nil || it[4] != nil {
		return fmt.Errorf("numpy dtype %s: structured and subarray dtypes are not read", d)
	}
	if d.Kind == 'U' || d.Kind == 'S' {
		n, ok := it[5].(int64)
		if !ok || n <= 0 || n > maxItemSize || (d.Kind == 'U' && n%4 != 0) {
			return fmt.Errorf("numpy dtype %c of element size %s: not read", d.Kind, repr(it[5]))
		}
		d.Size = int(n)
	}
	if d.Kind == 'M' || d.Kind == 'm' {
		if len(it) < 9 {
			return fmt.Errorf("numpy dtype %c without a unit", d.Kind)
		}
		// metadata: (dict, (unit, num, den, events))
		md, ok := it[8].(*pyTuple)
		if !ok || len(md.items) != 2 {
			return fmt.Errorf("numpy dtype %c metadata: a %s", d.Kind, TypeName(it[8]))
		}
		u, ok := md.items[1].(*pyTuple)
		if !ok || len(u.items) < 2 {
			return fmt.Errorf("numpy dtype %c unit: a %s", d.Kind, TypeName(md.items[1]))
		}
		var unit string
		switch x := u.items[0].(type) {
		case []byte:
			unit = string(x)
		case string:
			unit = x
		}
		num, ok := u.items[1].(int64)
		if unit == "generic" && ok && num == 1 { // no unit: numpy's datetime64('NaT')
			d.built = true
			return nil
		}
		if _, known := unitNanos[unit]; !known || !ok || num < 1 || num > 1<<30 {
			return fmt.Errorf("numpy datetime unit %s×%s is not read: only ns, us, ms, s, m, h, D, W, M and Y, times 1 to 2^30", repr(u.items[0]), repr(u.items[1]))
		}
		d.Unit = unit
		if num != 1 {
			d.Unit = strconv.FormatInt(num, 10) + unit
		}
	}
	d.built = true
	return nil
}

// unitNanos are numpy's datetime units, in nanoseconds (0: months and
// years, which have no fixed length).
var unitNanos = map[string]int64{
	"ns": 1, "us": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9, "D": 86400e9, "W": 7 * 86400e9, "M": 0, "Y": 0,
}

// unit splits a Unit into its multiple and base.
func (d *Dtype) unit() (int64, string) {
	i := strings.IndexFunc(d.Unit, func(r rune) bool { return r < '0' || r > '9' })
	if i <= 0 {
		return 1, d.Unit
	}
	n, _ := strconv.ParseInt(d.Unit[:i], 10, 64)
	return n, d.Unit[i:]
}

// NaT is numpy's not-a-time value of a datetime64 (the smallest int64).
const NaT = math.MinInt64

// maxUnixSeconds bounds the times this decoder makes: ±2^62 seconds from
// 1970, some 146 billion years, where time.Time's arithmetic is still
// exact (it holds about twice that).
const maxUnixSeconds = 1 << 62

// Value returns an element of an array of d as a Go value, as a column's
// cells are: a datetime64 as a time.Time (UTC), a timedelta64 as a
// time.Duration, NaT as NaTv; any other element as it is. A datetime64 or
// timedelta64 it cannot give exactly (a unit it does not read, a value
// beyond time.Time or time.Duration) is an error naming the value and the
// unit, never NaT.
func (d *Dtype) Value(v any) (any, error) { return cell(d, v) }

// Time returns a datetime64 value of d as a time (UTC). NaT is ErrNaT; a
// value it cannot give exactly is an error naming the value and the unit.
func (d *Dtype) Time(v int64) (time.Time, error) {
	if v == NaT {
		return time.Time{}, ErrNaT
	}
	return d.timeOf(v)
}

// timeOf is a datetime64 value (not NaT) as a time, exactly: every unit
// numpy's datetime64 has from ns to Y, with any multiple; a value beyond
// ±2^62 seconds from 1970 is an error.
func (d *Dtype) timeOf(v int64) (time.Time, error) {
	num, base := d.unit()
	ns, ok := unitNanos[base]
	if !ok {
		if base == "" {
			return time.Time{}, fmt.Errorf("datetime64 %d without a unit: numpy gives none but NaT", v)
		}
		return time.Time{}, fmt.Errorf("datetime64 unit %q is not read", d.Unit)
	}
	if ns == 0 { // months or years since 1970
		n, ok := mul(v, num)
		if base == "Y" {
			n, ok = mul(n, 12)
		}
		if !ok || n > 1<<40 || n < -(1<<40) {
			return time.Time{}, fmt.Errorf("datetime64 %d[%s] is beyond the times this decoder reads (±2^40 months from 1970)", v, d.Unit)
		}
		return time.Date(1970, time.Month(1+n), 1, 0, 0, 0, 0, time.UTC), nil
	}
	if step, ok := mul(num, ns); ok {
		if n, ok := mul(v, step); ok {
			return time.Unix(0, n).UTC(), nil
		}
	}
	// past int64 nanoseconds (after 2262, or a large multiple): seconds
	// and nanoseconds of v×num×ns, in exact integers
	n := new(big.Int).Mul(big.NewInt(v), big.NewInt(num))
	n.Mul(n, big.NewInt(ns))
	sec, nsec := new(big.Int).DivMod(n, big.NewInt(1e9), new(big.Int)) // 0 <= nsec < 1e9
	if !sec.IsInt64() || sec.Int64() > maxUnixSeconds || sec.Int64() < -maxUnixSeconds {
		return time.Time{}, fmt.Errorf("datetime64 %d[%s] is beyond the times this decoder reads (±2^62 seconds from 1970)", v, d.Unit)
	}
	return time.Unix(sec.Int64(), nsec.Int64()).UTC(), nil
}

// durationOf is a timedelta64 value (not NaT) as a time.Duration.
func (d *Dtype) durationOf(v int64) (time.Duration, error) {
	num, base := d.unit()
	ns, ok := unitNanos[base]
	switch {
	case !ok && base == "":
		return 0, fmt.Errorf("timedelta64 %d without a unit: numpy gives none but NaT", v)
	case !ok:
		return 0, fmt.Errorf("timedelta64 unit %q is not read", d.Unit)
	case ns == 0:
		return 0, fmt.Errorf("timedelta64 %d[%s]: a unit of no fixed length has no time.Duration", v, d.Unit)
	}
	step, ok := mul(num, ns)
	n, ok2 := mul(v, step)
	if !ok || !ok2 {
		return 0, fmt.Errorf("timedelta64 %d[%s] is beyond time.Duration's ±292 years", v, d.Unit)
	}
	return time.Duration(n), nil
}

// mul is a*b, and whether it did not overflow.
func mul(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return c, true
}

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
	off     int64
}

// Len is the number of elements.
func (a *Array) Len() int {
	n := 1
	for _, s := range a.Shape {
		n *= s
	}
	return n
}

// dataLen is the length of Data, or -1.
func (a *Array) dataLen() int {
	switch x := a.Data.(type) {
	case []float64:
		return len(x)
	case []int64:
		return len(x)
	case []uint64:
		return len(x)
	case []bool:
		return len(x)
	case []string:
		return len(x)
	case []any:
		return len(x)
	}
	return -1
}

// At returns the element at the given indexes (as many as dimensions), or
// nil when they are not of the array (or the array is inconsistent).
func (a *Array) At(idx ...int) any {
	if len(idx) != len(a.Shape) {
		return nil
	}
	off, mul := 0, 1
	for k := range a.Shape {
		i := len(a.Shape) - 1 - k // C order: the last index varies fastest
		if a.Fortran {
			i = k
		}
		if idx[i] < 0 || idx[i] >= a.Shape[i] {
			return nil
		}
		off += idx[i] * mul
		mul *= a.Shape[i]
	}
	if off >= a.dataLen() {
		return nil
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

// reconstruct is numpy's _reconstruct(ndarray, (0,), b'b'): an empty
// array that BUILD fills.
func reconstruct(m *machine, args []any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("_reconstruct takes 3 arguments, got %d", len(args))
	}
	if c, ok := args[0].(*class); !ok || c.module != "numpy" || c.name != "ndarray" {
		return nil, fmt.Errorf("_reconstruct of a %s: only numpy.ndarray is read", TypeName(args[0]))
	}
	return &Array{pending: true, off: m.at}, nil
}

// maxElements bounds an array's element count.
const maxElements = 1 << 40

// build is BUILD of an array: (version, shape, dtype, is_fortran, data).
// Its state may be set once; the shape, the dtype and the data must agree
// exactly, so that At and every reader can trust them.
func (a *Array) build(m *machine, state any) error {
	if !a.pending {
		return fmt.Errorf("an array's state may be set once")
	}
	t, ok := state.(*pyTuple)
	if !ok || len(t.items) != 5 {
		return fmt.Errorf("numpy array state: want a 5-tuple, got a %s", TypeName(state))
	}
	fortran, ok := t.items[3].(bool)
	if !ok {
		return fmt.Errorf("numpy array order: a %s", TypeName(t.items[3]))
	}
	return a.set(m, t.items[1], t.items[2], fortran, t.items[4])
}

func (a *Array) set(m *machine, shapeArg, dtypeArg any, fortran bool, data any) error {
	shape, ok := shapeArg.(*pyTuple)
	if !ok {
		return fmt.Errorf("numpy array shape: a %s", TypeName(shapeArg))
	}
	if len(shape.items) > 64 {
		return fmt.Errorf("numpy array of %d dimensions", len(shape.items))
	}
	n := int64(1)
	dims := make([]int, 0, len(shape.items))
	for _, s := range shape.items {
		k, ok := s.(int64)
		if !ok || k < 0 || (k > 0 && n > maxElements/k) {
			return fmt.Errorf("numpy array shape: %s is not a dimension this decoder reads", repr(s))
		}
		n *= k
		dims = append(dims, int(k))
	}
	d, ok := dtypeArg.(*Dtype)
	if !ok {
		return fmt.Errorf("numpy array dtype: a %s", TypeName(dtypeArg))
	}
	if d.Size == 0 {
		return fmt.Errorf("numpy array of %s: elements of 0 bytes are not read", d)
	}
	if d.Kind == 'O' {
		l, ok := data.(*pyList)
		if !ok || int64(len(l.items)) != n {
			return fmt.Errorf("numpy object array of %d elements: its data is a %s of another length", n, TypeName(data))
		}
		if err := m.chargeN(n, costSlot); err != nil {
			return err
		}
		a.Data = append([]any(nil), l.items...)
	} else {
		raw, err := rawBytes(data)
		if err != nil {
			return err
		}
		hi, want := bits.Mul64(uint64(n), uint64(d.Size))
		if hi != 0 || want != uint64(len(raw)) {
			return fmt.Errorf("numpy array %s of %s: %d bytes of data, want %s", shapeText(dims), d, len(raw), product(n, d.Size))
		}
		if err := chargeElements(m, d, n); err != nil {
			return err
		}
		if a.Data, err = elements(d, raw, int(n)); err != nil {
			return err
		}
	}
	a.Shape, a.Dtype, a.Fortran, a.pending = dims, d, fortran, false
	return nil
}

// product is n×size in words, exact.
func product(n int64, size int) string {
	return new(big.Int).Mul(big.NewInt(n), big.NewInt(int64(size))).String()
}

// chargeElements charges the memory of n decoded elements of d.
func chargeElements(m *machine, d *Dtype, n int64) error {
	switch d.Kind {
	case 'b':
		return m.chargeN(n, 1)
	case 'U':
		return m.chargeN(n, costSlot+int64(d.Size)) // up to 4 bytes of UTF-8 per 4-byte code point
	case 'S':
		return m.chargeN(n, costSlot+int64(d.Size))
	}
	return m.chargeN(n, 8)
}

func rawBytes(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case string: // a Python 2 str, read as latin-1 by numpy
		return latin1(x)
	}
	return nil, fmt.Errorf("numpy array data: a %s, not bytes", TypeName(v))
}

func order(d *Dtype) binary.ByteOrder {
	if d.ByteOrder == '>' {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// elements decodes n elements of d from raw, which holds exactly n×Size
// bytes.
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
	case 'U': // UTF-32; numpy drops trailing NULs only
		out := make([]string, n)
		var b strings.Builder
		for i := range out {
			el := raw[i*d.Size : (i+1)*d.Size]
			end := len(el)
			for end >= 4 && bo.Uint32(el[end-4:]) == 0 {
				end -= 4
			}
			b.Reset()
			for j := 0; j < end; j += 4 {
				r := rune(bo.Uint32(el[j:]))
				if !utf8.ValidRune(r) {
					return nil, fmt.Errorf("numpy str element %d holds code point %#x", i, uint32(r))
				}
				b.WriteRune(r)
			}
			out[i] = b.String()
		}
		return out, nil
	case 'S': // numpy drops trailing NULs
		all := string(raw)
		out := make([]string, n)
		for i := range out {
			out[i] = strings.TrimRight(all[i*d.Size:(i+1)*d.Size], "\x00")
		}
		return out, nil
	}
	return nil, fmt.Errorf("numpy dtype %s is not read", d)
}

// frombuffer is numpy's _frombuffer(buffer, dtype, shape, order), the
// protocol 5 form of an array.
func frombuffer(m *machine, args []any) (any, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("_frombuffer takes 4 arguments, got %d", len(args))
	}
	order, _ := args[3].(string)
	if order != "C" && order != "F" {
		return nil, fmt.Errorf("_frombuffer order %s", repr(args[3]))
	}
	a := &Array{pending: true, off: m.at}
	if d, ok := args[1].(*Dtype); ok && d.Kind == 'O' {
		return nil, fmt.Errorf("_frombuffer of an object dtype")
	}
	if err := a.set(m, args[2], args[1], order == "F", args[0]); err != nil {
		return nil, err
	}
	return a, nil
}

// scalar is numpy's scalar(dtype, data): one element.
func scalar(m *machine, args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("scalar takes 2 arguments, got %d", len(args))
	}
	d, ok := args[0].(*Dtype)
	if !ok {
		return nil, fmt.Errorf("scalar of a %s", TypeName(args[0]))
	}
	if d.Kind == 'O' {
		return args[1], nil
	}
	raw, err := rawBytes(args[1])
	if err != nil {
		return nil, err
	}
	if d.Size == 0 || len(raw) != d.Size {
		return nil, fmt.Errorf("scalar %s: %d bytes", d, len(raw))
	}
	els, err := elements(d, raw, 1)
	if err != nil {
		return nil, err
	}
	switch x := els.(type) {
	case []float64:
		return x[0], nil
	case []int64:
		switch d.Kind {
		case 'M':
			if x[0] == NaT {
				return NaTv, nil
			}
			return d.timeOf(x[0])
		case 'm':
			if x[0] == NaT {
				return NaTv, nil
			}
			return d.durationOf(x[0])
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
	return nil, fmt.Errorf("scalar %s", d)
}
