package pickle

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
)

// While the opcodes run, Python's mutable containers are pointers, so that
// a memo reference and an APPEND see the same list, as in Python; each
// keeps the offset of the opcode that made it. When the machine stops, one
// conversion turns them into the package's values: once per object, so
// what the pickle shares stays shared; a cycle, too deep a nesting or a
// result past the values bound is refused.

type pyList struct {
	items []any
	off   int64
}

type pyTuple struct {
	items []any
	off   int64
	key   string // hash key, once computed (tuples are immutable)
}

type pyDict struct {
	entries []dictEntry
	index   map[string]int // built past a few keys
	ordered bool
	off     int64
}

type dictEntry struct {
	k, v any
	h    string // hash key
}

// get is the value of a str key, or nil.
func (d *pyDict) get(key string) any {
	if i, ok := d.find("s" + key); ok {
		return d.entries[i].v
	}
	return nil
}

type pySlice struct {
	start, stop, step any
	off               int64
}

type pySet struct {
	items  []any
	index  map[string]bool
	frozen bool
	off    int64
	key    string
}

// offsetOf is where a live value was made, when it knows.
func offsetOf(v any) (int64, bool) {
	switch x := v.(type) {
	case *pyList:
		return x.off, true
	case *pyTuple:
		return x.off, true
	case *pyDict:
		return x.off, true
	case *pySet:
		return x.off, true
	case *Array:
		return x.off, true
	case *DataFrame:
		return x.off, true
	case *Index:
		return x.off, true
	case *pySlice:
		return x.off, true
	}
	return 0, false
}

// key is the hash key of a dict key or set item, equal for values Python
// finds equal (1 == 1.0 == True); unhashable values (list, dict, set,
// ndarray) are an error, as in Python. The keys of a tuple's items are
// interned to small numbers, so a tuple's key stays as short as the tuple
// however deeply it shares its parts.
func (m *machine) key(v any, depth int) (string, error) {
	if depth > MaxDepth {
		return "", &Error{Offset: m.at, Err: ErrLimit, Msg: fmt.Sprintf("a dict key or set item nested deeper than %d levels: refused", MaxDepth)}
	}
	switch x := v.(type) {
	case nil:
		return "N", nil
	case bool:
		if x {
			return "i1", nil
		}
		return "i0", nil
	case int64:
		return "i" + strconv.FormatInt(x, 10), nil
	case *big.Int: // never in int64's range (normInt); hex, since decimal is superlinear
		return "x" + x.Text(16), nil
	case float64:
		if math.IsNaN(x) {
			return fmt.Sprintf("nan%p", new(byte)), nil // a NaN equals nothing
		}
		if x == math.Trunc(x) && !math.IsInf(x, 0) {
			if x >= -(1<<63) && x < 1<<63 {
				return "i" + strconv.FormatInt(int64(x), 10), nil
			}
			b, _ := big.NewFloat(x).Int(nil)
			return "x" + b.Text(16), nil
		}
		return "f" + strconv.FormatFloat(x, 'g', -1, 64), nil
	case string:
		return "s" + x, nil
	case []byte:
		return "b" + string(x), nil
	case time.Time:
		if x.Location() == time.UTC {
			return "t" + x.Format(time.RFC3339Nano), nil // naive
		}
		return "z" + x.UTC().Format(time.RFC3339Nano), nil
	case time.Duration:
		return "d" + strconv.FormatInt(int64(x), 10), nil
	case *pyTuple:
		if x.key != "" {
			return x.key, nil
		}
		var b strings.Builder
		b.WriteString("(")
		for _, e := range x.items {
			k, err := m.key(e, depth+1)
			if err != nil {
				return "", err
			}
			b.WriteString(strconv.Itoa(m.intern(k)))
			b.WriteByte(',')
		}
		x.key = b.String()
		return x.key, nil
	case *pySet:
		if !x.frozen {
			return "", m.fail("%s: unhashable type: 'set'", m.name())
		}
		if x.key != "" {
			return x.key, nil
		}
		ids := make([]int, 0, len(x.items))
		for _, e := range x.items {
			k, err := m.key(e, depth+1)
			if err != nil {
				return "", err
			}
			ids = append(ids, m.intern(k))
		}
		sort.Ints(ids)
		var b strings.Builder
		b.WriteString("{")
		for _, id := range ids {
			b.WriteString(strconv.Itoa(id))
			b.WriteByte(',')
		}
		x.key = b.String()
		return x.key, nil
	case *pyList, *pyDict, *Array, *DataFrame, *Index:
		return "", m.fail("%s: unhashable type: '%s'", m.name(), TypeName(v))
	}
	return fmt.Sprintf("p%p", v), nil // other objects hash by identity
}

func (m *machine) intern(k string) int {
	id, ok := m.keyIDs[k]
	if !ok {
		id = len(m.keyIDs)
		m.keyIDs[k] = id
	}
	return id
}

// dictSet is d[k] = v: a key already there keeps its place and its first
// key object, and takes the new value, as in Python.
func (m *machine) dictSet(d *pyDict, k, v any) error {
	h, err := m.key(k, 0)
	if err != nil {
		return err
	}
	if i, ok := d.find(h); ok {
		d.entries[i].v = v
		return nil
	}
	if err := m.charge(3*costSlot + int64(len(h))); err != nil {
		return err
	}
	d.entries = append(d.entries, dictEntry{k, v, h})
	if d.index != nil {
		d.index[h] = len(d.entries) - 1
	} else if len(d.entries) > 8 {
		if err := m.chargeN(int64(len(d.entries)), costSlot); err != nil {
			return err
		}
		d.index = make(map[string]int, len(d.entries))
		for i, e := range d.entries {
			d.index[e.h] = i
		}
	}
	return nil
}

func (d *pyDict) find(h string) (int, bool) {
	if d.index != nil {
		i, ok := d.index[h]
		return i, ok
	}
	for i, e := range d.entries {
		if e.h == h {
			return i, true
		}
	}
	return 0, false
}

// addItems adds items to a set, once each.
func (m *machine) addItems(s *pySet, items []any) error {
	for _, e := range items {
		h, err := m.key(e, 0)
		if err != nil {
			return err
		}
		if s.index[h] {
			continue
		}
		if err := m.charge(2*costSlot + int64(len(h))); err != nil {
			return err
		}
		if s.index == nil {
			s.index = map[string]bool{}
		}
		s.index[h] = true
		s.items = append(s.items, e)
	}
	return nil
}

// converted is the result of converting one live object.
type converted struct {
	v    any
	size int64 // values a walk of it visits
	busy bool  // being converted: meeting it again is a cycle
}

// convert turns the machine's result into the package's values.
func (m *machine) convert(v any) (any, error) {
	out, _, err := m.conv(v, 0)
	return out, err
}

// conv converts v, at the given nesting depth, and returns the number of
// values a walk of the result visits (shared parts counted each time).
func (m *machine) conv(v any, depth int) (any, int64, error) {
	switch x := v.(type) {
	case nil, bool, int64, uint64, *big.Int, float64, string, []byte, time.Time, time.Duration, NaTValue, *Dtype:
		return v, 1, nil
	case *tzInfo:
		return x.loc, 1, nil
	}
	if c, ok := m.done[v]; ok {
		if c.busy {
			return nil, 0, m.convErr(v, nil, "the %s made here contains itself (a cycle), which this decoder does not return", TypeName(v))
		}
		return c.v, c.size, nil
	}
	if depth > MaxDepth {
		return nil, 0, m.convErr(v, ErrLimit, "a %s nested deeper than %d levels: refused", TypeName(v), MaxDepth)
	}
	c := &converted{busy: true}
	m.done[v] = c
	out, size, err := m.convObject(v, depth)
	if err != nil {
		return nil, 0, err
	}
	if size > m.valuesLimit {
		return nil, 0, m.convErr(v, ErrLimit, "the %s made here decodes to more than %d values (%d plus %d per byte of this %d-byte input; parts shared through the memo count each time they appear): refused",
			TypeName(v), m.valuesLimit, int64(ValuesBase), ValuesPerByte, len(m.data))
	}
	c.v, c.size, c.busy = out, size, false
	return out, size, nil
}

// convErr is an error about a live object, placed where it was made.
func (m *machine) convErr(v any, wrapped error, format string, a ...any) error {
	off, ok := offsetOf(v)
	if !ok {
		off = -1
	}
	return &Error{Offset: off, Msg: fmt.Sprintf(format, a...), Err: wrapped}
}

// add sums walk sizes, saturating past the bound.
func (m *machine) add(a, b int64) int64 {
	if a > m.valuesLimit || b > m.valuesLimit {
		return m.valuesLimit + 1
	}
	return a + b
}

// convAll converts items into a new slice.
func (m *machine) convAll(owner any, items []any, depth int) ([]any, int64, error) {
	if off, ok := offsetOf(owner); ok {
		m.at = off
	}
	if err := m.chargeN(int64(len(items)), costSlot); err != nil {
		return nil, 0, err
	}
	if err := m.charge(costObject); err != nil {
		return nil, 0, err
	}
	out := make([]any, len(items))
	size := int64(1)
	for i, e := range items {
		c, n, err := m.conv(e, depth+1)
		if err != nil {
			return nil, 0, err
		}
		out[i] = c
		if size = m.add(size, n); size > m.valuesLimit {
			return out, size, nil
		}
	}
	return out, size, nil
}

func (m *machine) convObject(v any, depth int) (any, int64, error) {
	switch x := v.(type) {
	case *pyList:
		return m.convAll(x, x.items, depth)
	case *pyTuple:
		out, n, err := m.convAll(x, x.items, depth)
		return Tuple(out), n, err
	case *pyDict:
		keys := make([]any, len(x.entries))
		vals := make([]any, len(x.entries))
		for i, e := range x.entries {
			keys[i], vals[i] = e.k, e.v
		}
		keys, n1, err := m.convAll(x, keys, depth)
		if err != nil {
			return nil, 0, err
		}
		vals, n2, err := m.convAll(x, vals, depth)
		if err != nil {
			return nil, 0, err
		}
		return &Dict{Keys: keys, Values: vals, Ordered: x.ordered}, m.add(n1, n2), nil
	case *pySet:
		items, n, err := m.convAll(x, x.items, depth)
		if err != nil {
			return nil, 0, err
		}
		if n <= m.valuesLimit {
			text := make([]string, len(items))
			for i, e := range items {
				text[i] = sortText(e)
			}
			sort.Stable(byText{items, text})
		}
		return &Set{Items: items, Frozen: x.frozen}, n, nil
	case *pySlice:
		out := &Slice{}
		size := int64(1)
		for _, p := range [][2]*any{{&x.start, &out.Start}, {&x.stop, &out.Stop}, {&x.step, &out.Step}} {
			c, n, err := m.conv(*p[0], depth+1)
			if err != nil {
				return nil, 0, err
			}
			*p[1] = c
			size = m.add(size, n)
		}
		return out, size, nil
	case *Array:
		return m.convArray(x, depth)
	case *ndArrayBacked:
		if x.arr == nil {
			return nil, 0, m.convErr(v, nil, "a pandas %s never given its state (no BUILD)", x.cls)
		}
		return m.conv(x.arr, depth+1)
	case *maskedArray:
		if x.arr == nil {
			return nil, 0, m.convErr(v, nil, "a pandas %s never given its state (no BUILD)", x.cls)
		}
		return m.conv(x.arr, depth+1)
	case *Index:
		return m.convIndex(x, depth)
	case *DataFrame:
		return m.convFrame(x, depth)
	case *class:
		return nil, 0, &Error{Offset: m.at, Msg: fmt.Sprintf("a class (%s.%s) as a value: not read", x.module, x.name)}
	}
	return nil, 0, &Error{Offset: m.at, Msg: fmt.Sprintf("decoded a %s, which this decoder does not return", TypeName(v))}
}

// convArray converts an object array's elements, in place (the array is
// converted once).
func (m *machine) convArray(a *Array, depth int) (any, int64, error) {
	if a.pending {
		return nil, 0, m.convErr(a, nil, "a numpy array never given its state (no BUILD)")
	}
	size := int64(1 + a.Len())
	if els, ok := a.Data.([]any); ok {
		out, n, err := m.convAll(a, els, depth)
		if err != nil {
			return nil, 0, err
		}
		a.Data = out
		size = n
	}
	return a, size, nil
}

func (m *machine) convIndex(ix *Index, depth int) (any, int64, error) {
	m.at = ix.off
	if err := ix.materialize(m); err != nil {
		return nil, 0, err
	}
	vals, n, err := m.convAll(ix, ix.Values, depth)
	if err != nil {
		return nil, 0, err
	}
	name, n2, err := m.conv(ix.Name, depth+1)
	if err != nil {
		return nil, 0, err
	}
	ix.Values, ix.Name = vals, name
	return ix, m.add(n, n2), nil
}

func (m *machine) convFrame(df *DataFrame, depth int) (any, int64, error) {
	if df.pending {
		return nil, 0, m.convErr(df, nil, "a pandas DataFrame never given its state (no BUILD)")
	}
	cols, size, err := m.convAll(df, df.Columns, depth)
	if err != nil {
		return nil, 0, err
	}
	df.Columns = cols
	if df.Index != nil {
		_, n, err := m.conv(df.Index, depth+1)
		if err != nil {
			return nil, 0, err
		}
		size = m.add(size, n)
	}
	for _, b := range df.Blocks {
		_, n, err := m.conv(b.Values, depth+1)
		if err != nil {
			return nil, 0, err
		}
		size = m.add(size, n)
	}
	return df, size, nil
}

type byText struct {
	items []any
	text  []string
}

func (s byText) Len() int           { return len(s.items) }
func (s byText) Less(i, j int) bool { return s.text[i] < s.text[j] }
func (s byText) Swap(i, j int) {
	s.items[i], s.items[j] = s.items[j], s.items[i]
	s.text[i], s.text[j] = s.text[j], s.text[i]
}

// sortText is a set item's text, as fmt.Sprint writes it, except that an
// int past Python's 4300 digits is written in hex: Go's decimal conversion
// of a huge int is superlinear, and Python refuses it too.
func sortText(v any) string {
	switch x := v.(type) {
	case *big.Int:
		if x.BitLen() > 14000 {
			return "0x" + x.Text(16)
		}
	case Tuple:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = sortText(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case *Set:
		parts := make([]string, len(x.Items))
		for i, e := range x.Items {
			parts[i] = sortText(e)
		}
		return "&{[" + strings.Join(parts, " ") + "] " + strconv.FormatBool(x.Frozen) + "}"
	}
	return fmt.Sprint(v)
}
