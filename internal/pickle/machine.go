package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
)

// The machine runs a pickle's opcodes as CPython's Unpickler does
// (Lib/pickle.py). It replaces github.com/nlpodyssey/gopickle, whose
// machine cannot be bounded or corrected from outside (its stack and memo
// are unexported): a MARK there allocates a 16-value slice, a GET of an
// empty memo slot gives nil (Python refuses it), STRING and UNICODE are
// not unescaped, no opcode offset is kept, and copy_reg,
// __builtin__.object and collections.OrderedDict are answered before its
// FindClass hook. The differences from CPython: a class comes from the
// allowlist, never from an import; every length is checked against the
// input before anything is read or allocated; the stack, the MARK depth
// and the memory the values take are bounded (MaxStack, MaxDepth,
// MemoryPerByte).

// opNames names the opcodes, for messages.
var opNames = map[byte]string{
	'(': "MARK", '.': "STOP", '0': "POP", '1': "POP_MARK", '2': "DUP", 'F': "FLOAT", 'I': "INT", 'J': "BININT",
	'K': "BININT1", 'L': "LONG", 'M': "BININT2", 'N': "NONE", 'P': "PERSID", 'Q': "BINPERSID", 'R': "REDUCE",
	'S': "STRING", 'T': "BINSTRING", 'U': "SHORT_BINSTRING", 'V': "UNICODE", 'X': "BINUNICODE", 'a': "APPEND",
	'b': "BUILD", 'c': "GLOBAL", 'd': "DICT", '}': "EMPTY_DICT", 'e': "APPENDS", 'g': "GET", 'h': "BINGET",
	'i': "INST", 'j': "LONG_BINGET", 'l': "LIST", ']': "EMPTY_LIST", 'o': "OBJ", 'p': "PUT", 'q': "BINPUT",
	'r': "LONG_BINPUT", 's': "SETITEM", 't': "TUPLE", ')': "EMPTY_TUPLE", 'u': "SETITEMS", 'G': "BINFLOAT",
	0x80: "PROTO", 0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x85: "TUPLE1", 0x86: "TUPLE2",
	0x87: "TUPLE3", 0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x8a: "LONG1", 0x8b: "LONG4", 'B': "BINBYTES",
	'C': "SHORT_BINBYTES", 0x8c: "SHORT_BINUNICODE", 0x8d: "BINUNICODE8", 0x8e: "BINBYTES8", 0x8f: "EMPTY_SET",
	0x90: "ADDITEMS", 0x91: "FROZENSET", 0x92: "NEWOBJ_EX", 0x93: "STACK_GLOBAL", 0x94: "MEMOIZE", 0x95: "FRAME",
	0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
}

// Estimated memory of the values the machine makes, charged against the
// budget before they are made.
const (
	costObject = 64 // a container, an array header, a class instance
	costSlot   = 16 // an element of a list, tuple, dict or set (an interface)
	costMemo   = 48 // a memo entry
)

type machine struct {
	data     []byte
	pos      int
	at       int64 // offset of the opcode being run, or of the object being converted
	op       byte
	frameEnd int // end of the current frame, or -1
	proto    int
	stack    []any
	marks    []int // stack lengths at each open MARK
	memo     map[uint64]any

	mem, memLimit       int64 // estimated bytes of decoded values, and its bound
	values, valuesLimit int64 // values a walk of the result visits, and its bound

	keyIDs map[string]int // interned hash keys (see key)
	done   map[any]*converted
}

func newMachine(data []byte) *machine {
	n := int64(len(data))
	return &machine{
		data: data, frameEnd: -1, memo: map[uint64]any{},
		memLimit: MemoryBase + MemoryPerByte*n, valuesLimit: ValuesBase + ValuesPerByte*n,
		keyIDs: map[string]int{}, done: map[any]*converted{},
	}
}

func (m *machine) fail(format string, a ...any) error {
	return &Error{Offset: m.at, Msg: fmt.Sprintf(format, a...)}
}

// charge counts n more bytes of decoded values against the budget.
func (m *machine) charge(n int64) error {
	if n < 0 || n > m.memLimit-m.mem {
		return &Error{Offset: m.at, Err: ErrLimit, Msg: fmt.Sprintf("the decoded values would take more than %d bytes of memory (%d bytes plus %d per byte of this %d-byte input): refused",
			m.memLimit, int64(MemoryBase), MemoryPerByte, len(m.data))}
	}
	m.mem += n
	return nil
}

// chargeN charges count items of size bytes each, without overflow.
func (m *machine) chargeN(count, size int64) error {
	if count < 0 || size < 0 || (size > 0 && count > math.MaxInt64/size) {
		return m.charge(-1)
	}
	return m.charge(count * size)
}

func (m *machine) name() string {
	if n, ok := opNames[m.op]; ok {
		return n
	}
	return fmt.Sprintf("opcode 0x%02x", m.op)
}

// read returns the next n bytes. Like CPython's unframer, an argument may
// not run past the end of its frame.
func (m *machine) read(n int) ([]byte, error) {
	if m.frameEnd >= 0 && m.pos == m.frameEnd {
		m.frameEnd = -1
	}
	if m.frameEnd >= 0 && n > m.frameEnd-m.pos {
		return nil, m.fail("%s: needs %d bytes, but its frame ends after %d", m.name(), n, m.frameEnd-m.pos)
	}
	if n > len(m.data)-m.pos {
		return nil, m.fail("%s: truncated (needs %d bytes, %d left)", m.name(), n, len(m.data)-m.pos)
	}
	b := m.data[m.pos : m.pos+n]
	m.pos += n
	return b, nil
}

// readLine returns the bytes up to the next newline, without it.
func (m *machine) readLine() ([]byte, error) {
	if m.frameEnd >= 0 && m.pos == m.frameEnd {
		m.frameEnd = -1
	}
	end := len(m.data)
	if m.frameEnd >= 0 {
		end = m.frameEnd
	}
	i := bytes.IndexByte(m.data[m.pos:end], '\n')
	if i < 0 {
		if m.frameEnd >= 0 {
			return nil, m.fail("%s: line not terminated before the end of its frame", m.name())
		}
		return nil, m.fail("%s: line not terminated: the pickle ends first", m.name())
	}
	b := m.data[m.pos : m.pos+i]
	m.pos += i + 1
	return b, nil
}

// readLen reads a w-byte little-endian length and then that many bytes.
func (m *machine) readLen(w int) ([]byte, error) {
	b, err := m.read(w)
	if err != nil {
		return nil, err
	}
	var n uint64
	switch w {
	case 1:
		n = uint64(b[0])
	case 4:
		n = uint64(binary.LittleEndian.Uint32(b))
	case 8:
		n = binary.LittleEndian.Uint64(b)
	}
	left := len(m.data) - m.pos
	if m.frameEnd >= 0 && m.pos < m.frameEnd {
		left = m.frameEnd - m.pos
	}
	if n > uint64(left) {
		return nil, m.fail("%s: length %d, but only %d bytes are left", m.name(), n, left)
	}
	return m.read(int(n))
}

// base is the stack length at the innermost open MARK: the values below it
// belong to the enclosing mark, as in Python's metastack.
func (m *machine) base() int {
	if len(m.marks) == 0 {
		return 0
	}
	return m.marks[len(m.marks)-1]
}

func (m *machine) push(v any) error {
	if len(m.stack) >= MaxStack {
		return &Error{Offset: m.at, Err: ErrLimit, Msg: fmt.Sprintf("%s: more than %d values on the unpickling stack: refused", m.name(), MaxStack)}
	}
	m.stack = append(m.stack, v)
	return nil
}

func (m *machine) pop() (any, error) {
	if len(m.stack) <= m.base() {
		return nil, m.fail("%s: unpickling stack underflow", m.name())
	}
	v := m.stack[len(m.stack)-1]
	m.stack[len(m.stack)-1] = nil
	m.stack = m.stack[:len(m.stack)-1]
	return v, nil
}

func (m *machine) top() (any, error) {
	if len(m.stack) <= m.base() {
		return nil, m.fail("%s: unpickling stack underflow", m.name())
	}
	return m.stack[len(m.stack)-1], nil
}

// popMark returns (a copy of) the values pushed since the innermost MARK,
// and closes it.
func (m *machine) popMark() ([]any, error) {
	if len(m.marks) == 0 {
		return nil, m.fail("%s: no MARK to close", m.name())
	}
	k := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	items := append([]any(nil), m.stack[k:]...)
	clear(m.stack[k:])
	m.stack = m.stack[:k]
	return items, nil
}

// run runs the opcodes to STOP and returns the value it pops.
func (m *machine) run() (any, error) {
	for {
		m.at = int64(m.pos)
		if m.pos >= len(m.data) {
			return nil, m.fail("truncated: the pickle ends without STOP")
		}
		b, err := m.read(1)
		if err != nil {
			return nil, err
		}
		m.op = b[0]
		v, stop, err := m.step()
		if err != nil {
			return nil, err
		}
		if stop {
			if m.pos != len(m.data) {
				return nil, &Error{Offset: int64(m.pos), Msg: fmt.Sprintf("%d bytes after the end of the pickle", len(m.data)-m.pos)}
			}
			return v, nil
		}
	}
}

// step runs one opcode (m.op); stop is set by STOP, with its value.
// Long because it is the opcode table: one case per opcode of protocols 0
// to 5, grouped as control, stack, scalars, strings and bytes, containers,
// memo, then classes and objects; splitting it would scatter the table.
func (m *machine) step() (v any, stop bool, err error) {
	switch m.op {
	case 0x80: // PROTO
		b, err := m.read(1)
		if err != nil {
			return nil, false, err
		}
		if b[0] > 5 {
			return nil, false, m.fail("protocol %d: this decoder reads protocols up to 5", b[0])
		}
		m.proto = int(b[0])
	case 0x95: // FRAME
		b, err := m.read(8)
		if err != nil {
			return nil, false, err
		}
		if m.frameEnd >= 0 && m.pos < m.frameEnd {
			return nil, false, m.fail("FRAME: a new frame begins before the end of the current one")
		}
		n := binary.LittleEndian.Uint64(b)
		if n > uint64(len(m.data)-m.pos) {
			return nil, false, m.fail("FRAME: length %d, but only %d bytes are left", n, len(m.data)-m.pos)
		}
		m.frameEnd = m.pos + int(n)
	case '.': // STOP
		v, err := m.pop()
		return v, err == nil, err
	case '(': // MARK
		if len(m.marks) >= MaxDepth {
			return nil, false, &Error{Offset: m.at, Err: ErrLimit, Msg: fmt.Sprintf("MARK: more than %d marks open at once: refused", MaxDepth)}
		}
		m.marks = append(m.marks, len(m.stack))
	case '0': // POP
		if len(m.stack) > m.base() {
			_, err = m.pop()
		} else {
			_, err = m.popMark()
		}
	case '1': // POP_MARK
		_, err = m.popMark()
	case '2': // DUP
		v, err := m.top()
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.push(v)
	case 'N':
		return nil, false, m.push(nil)
	case 0x88:
		return nil, false, m.push(true)
	case 0x89:
		return nil, false, m.push(false)
	case 'I', 'L', 'F':
		line, err := m.readLine()
		if err != nil {
			return nil, false, err
		}
		var v any
		switch {
		case m.op == 'I' && string(line) == "00":
			v = false
		case m.op == 'I' && string(line) == "01":
			v = true
		case m.op == 'F':
			v, err = parseFloat(line)
		default:
			if m.op == 'L' && len(line) > 0 && line[len(line)-1] == 'L' {
				line = line[:len(line)-1]
			}
			v, err = parseInt(line)
		}
		if err != nil {
			return nil, false, m.fail("%s: %v", m.name(), err)
		}
		return nil, false, m.push(v)
	case 'J':
		b, err := m.read(4)
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.push(int64(int32(binary.LittleEndian.Uint32(b))))
	case 'K':
		b, err := m.read(1)
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.push(int64(b[0]))
	case 'M':
		b, err := m.read(2)
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.push(int64(binary.LittleEndian.Uint16(b)))
	case 0x8a, 0x8b: // LONG1, LONG4
		w := 1
		if m.op == 0x8b {
			w = 4
			if b := m.data[m.pos:min(m.pos+4, len(m.data))]; len(b) == 4 && b[3]&0x80 != 0 {
				return nil, false, m.fail("LONG4: negative byte count")
			}
		}
		b, err := m.readLen(w)
		if err != nil {
			return nil, false, err
		}
		if err := m.charge(int64(len(b))); err != nil {
			return nil, false, err
		}
		return nil, false, m.push(decodeLong(b))
	case 'G':
		b, err := m.read(8)
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case 'S': // STRING: a repr-quoted Python 2 str
		line, err := m.readLine()
		if err != nil {
			return nil, false, err
		}
		if len(line) < 2 || line[0] != line[len(line)-1] || (line[0] != '\'' && line[0] != '"') {
			return nil, false, m.fail("STRING: the argument must be quoted")
		}
		raw, err := escapeDecode(line[1 : len(line)-1])
		if err != nil {
			return nil, false, m.fail("STRING: %v", err)
		}
		return m.pushStr2(raw)
	case 'T', 'U': // BINSTRING, SHORT_BINSTRING: a Python 2 str
		w := 1
		if m.op == 'T' {
			w = 4
			if b := m.data[m.pos:min(m.pos+4, len(m.data))]; len(b) == 4 && b[3]&0x80 != 0 {
				return nil, false, m.fail("BINSTRING: negative byte count")
			}
		}
		b, err := m.readLen(w)
		if err != nil {
			return nil, false, err
		}
		return m.pushStr2(b)
	case 'V': // UNICODE: raw-unicode-escape
		line, err := m.readLine()
		if err != nil {
			return nil, false, err
		}
		s, err := rawUnicodeEscape(line)
		if err != nil {
			return nil, false, m.fail("UNICODE: %v", err)
		}
		if err := m.charge(int64(len(s))); err != nil {
			return nil, false, err
		}
		return nil, false, m.push(s)
	case 'X', 0x8c, 0x8d: // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
		w := map[byte]int{'X': 4, 0x8c: 1, 0x8d: 8}[m.op]
		b, err := m.readLen(w)
		if err != nil {
			return nil, false, err
		}
		s, err := decodeUTF8(b)
		if err != nil {
			return nil, false, m.fail("%s: %v", m.name(), err)
		}
		if err := m.charge(int64(len(s))); err != nil {
			return nil, false, err
		}
		return nil, false, m.push(s)
	case 'B', 'C', 0x8e, 0x96: // BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
		w := map[byte]int{'B': 4, 'C': 1, 0x8e: 8, 0x96: 8}[m.op]
		b, err := m.readLen(w)
		if err != nil {
			return nil, false, err
		}
		if err := m.charge(int64(len(b))); err != nil {
			return nil, false, err
		}
		return nil, false, m.push(bytes.Clone(b))
	case 0x97: // NEXT_BUFFER
		return nil, false, m.fail("NEXT_BUFFER: the pickle refers to out-of-band data, which this decoder is not given")
	case 0x98: // READONLY_BUFFER
		v, err := m.top()
		if err != nil {
			return nil, false, err
		}
		if _, ok := v.([]byte); !ok {
			return nil, false, m.fail("READONLY_BUFFER of a %s", TypeName(v))
		}
	case ')':
		if err := m.charge(costObject); err != nil {
			return nil, false, err
		}
		return nil, false, m.push(&pyTuple{off: m.at})
	case 't', 0x85, 0x86, 0x87: // TUPLE, TUPLE1..3
		var items []any
		if m.op == 't' {
			if items, err = m.popMark(); err != nil {
				return nil, false, err
			}
		} else {
			n := int(m.op - 0x84)
			if len(m.stack)-m.base() < n {
				return nil, false, m.fail("%s: unpickling stack underflow", m.name())
			}
			items = append([]any(nil), m.stack[len(m.stack)-n:]...)
			clear(m.stack[len(m.stack)-n:])
			m.stack = m.stack[:len(m.stack)-n]
		}
		if err := m.chargeN(int64(len(items)), costSlot); err != nil {
			return nil, false, err
		}
		if err := m.charge(costObject); err != nil {
			return nil, false, err
		}
		return nil, false, m.push(&pyTuple{items: items, off: m.at})
	case ']':
		if err := m.charge(costObject); err != nil {
			return nil, false, err
		}
		return nil, false, m.push(&pyList{off: m.at})
	case 'l': // LIST
		items, err := m.popMark()
		if err != nil {
			return nil, false, err
		}
		if err := m.chargeN(int64(len(items)), costSlot); err != nil {
			return nil, false, err
		}
		if err := m.charge(costObject); err != nil {
			return nil, false, err
		}
		return nil, false, m.push(&pyList{items: items, off: m.at})
	case '}':
		if err := m.charge(costObject); err != nil {
			return nil, false, err
		}
		return nil, false, m.push(&pyDict{off: m.at})
	case 'd': // DICT
		items, err := m.popMark()
		if err != nil {
			return nil, false, err
		}
		if err := m.charge(costObject); err != nil {
			return nil, false, err
		}
		d := &pyDict{off: m.at}
		if err := m.setItems(d, items); err != nil {
			return nil, false, err
		}
		return nil, false, m.push(d)
	case 0x8f: // EMPTY_SET
		if err := m.charge(costObject); err != nil {
			return nil, false, err
		}
		return nil, false, m.push(&pySet{off: m.at})
	case 0x91: // FROZENSET
		items, err := m.popMark()
		if err != nil {
			return nil, false, err
		}
		if err := m.charge(costObject); err != nil {
			return nil, false, err
		}
		s := &pySet{frozen: true, off: m.at}
		if err := m.addItems(s, items); err != nil {
			return nil, false, err
		}
		return nil, false, m.push(s)
	case 'a': // APPEND
		v, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.appendItems([]any{v})
	case 'e': // APPENDS
		items, err := m.popMark()
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.appendItems(items)
	case 's': // SETITEM
		v, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		k, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.setItemsTop([]any{k, v})
	case 'u': // SETITEMS
		items, err := m.popMark()
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.setItemsTop(items)
	case 0x90: // ADDITEMS
		items, err := m.popMark()
		if err != nil {
			return nil, false, err
		}
		t, err := m.top()
		if err != nil {
			return nil, false, err
		}
		s, ok := t.(*pySet)
		if !ok || s.frozen {
			return nil, false, m.fail("ADDITEMS to a %s, not a set", TypeName(t))
		}
		return nil, false, m.addItems(s, items)
	case 'g', 'h', 'j': // GET, BINGET, LONG_BINGET
		i, err := m.memoIndex()
		if err != nil {
			return nil, false, err
		}
		v, ok := m.memo[i]
		if !ok {
			return nil, false, m.fail("%s %d: memo value not found (the slot was never stored)", m.name(), i)
		}
		return nil, false, m.push(v)
	case 'p', 'q', 'r', 0x94: // PUT, BINPUT, LONG_BINPUT, MEMOIZE
		var i uint64
		if m.op == 0x94 {
			i = uint64(len(m.memo))
		} else if i, err = m.memoIndex(); err != nil {
			return nil, false, err
		}
		v, err := m.top()
		if err != nil {
			return nil, false, err
		}
		if _, ok := m.memo[i]; !ok {
			if err := m.charge(costMemo); err != nil {
				return nil, false, err
			}
		}
		m.memo[i] = v
	case 'c', 'i': // GLOBAL, INST
		module, err := m.readLine()
		if err != nil {
			return nil, false, err
		}
		name, err := m.readLine()
		if err != nil {
			return nil, false, err
		}
		c, err := m.global(string(module), string(name))
		if err != nil {
			return nil, false, err
		}
		if m.op == 'c' {
			return nil, false, m.push(c)
		}
		args, err := m.popMark()
		if err != nil {
			return nil, false, err
		}
		v, err := m.instantiate(c, args)
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.push(v)
	case 0x93: // STACK_GLOBAL
		name, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		module, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		ms, ok1 := module.(string)
		ns, ok2 := name.(string)
		if !ok1 || !ok2 {
			return nil, false, m.fail("STACK_GLOBAL of %s and %s: wants two str", TypeName(module), TypeName(name))
		}
		c, err := m.global(ms, ns)
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.push(c)
	case 'o': // OBJ
		items, err := m.popMark()
		if err != nil {
			return nil, false, err
		}
		if len(items) == 0 {
			return nil, false, m.fail("OBJ without a class")
		}
		v, err := m.instantiate(items[0], items[1:])
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.push(v)
	case 0x81, 0x92: // NEWOBJ, NEWOBJ_EX
		if m.op == 0x92 {
			kw, err := m.pop()
			if err != nil {
				return nil, false, err
			}
			if d, ok := kw.(*pyDict); !ok || len(d.entries) > 0 {
				return nil, false, m.fail("NEWOBJ_EX with keyword arguments (%s): not read", TypeName(kw))
			}
		}
		args, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		t, ok := args.(*pyTuple)
		if !ok {
			return nil, false, m.fail("%s: arguments are a %s, not a tuple", m.name(), TypeName(args))
		}
		cls, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		c, ok := cls.(*class)
		if !ok || c.new == nil {
			return nil, false, m.fail("%s of a %s: not a class this decoder makes", m.name(), TypeName(cls))
		}
		v, err := m.callClass(c, c.new, t.items)
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.push(v)
	case 'R': // REDUCE
		args, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		t, ok := args.(*pyTuple)
		if !ok {
			return nil, false, m.fail("REDUCE: arguments are a %s, not a tuple", TypeName(args))
		}
		fn, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		c, ok := fn.(*class)
		if !ok || c.call == nil {
			return nil, false, m.fail("REDUCE: a %s is not callable here", TypeName(fn))
		}
		v, err := m.callClass(c, c.call, t.items)
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.push(v)
	case 'b': // BUILD
		state, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		inst, err := m.top()
		if err != nil {
			return nil, false, err
		}
		b, ok := inst.(builder)
		if !ok {
			return nil, false, m.fail("BUILD on a %s: not an object this decoder gives a state", TypeName(inst))
		}
		if err := b.build(m, state); err != nil {
			return nil, false, m.wrap("BUILD of "+TypeName(inst), err)
		}
	case 'P', 'Q': // PERSID, BINPERSID
		return nil, false, m.fail("%s: persistent IDs refer to objects outside the pickle; not read", m.name())
	case 0x82, 0x83, 0x84: // EXT1, EXT2, EXT4
		return nil, false, m.fail("%s: extension registry codes are not read", m.name())
	default:
		return nil, false, m.fail("unknown opcode 0x%02x: not a pickle, or corrupt", m.op)
	}
	return nil, false, err
}

// pushStr2 pushes a Python 2 str as Python 3 reads it by default
// (pickle.load(encoding="ASCII")): ASCII text, or an error.
func (m *machine) pushStr2(b []byte) (any, bool, error) {
	for i, c := range b {
		if c >= 0x80 {
			return nil, false, m.fail("%s: a Python 2 str with byte 0x%02x at %d, not ASCII: Python's pickle.load refuses it too (it needs encoding=\"latin1\" or \"bytes\")", m.name(), c, i)
		}
	}
	if err := m.charge(int64(len(b))); err != nil {
		return nil, false, err
	}
	return nil, false, m.push(string(b))
}

// memoIndex reads the memo index of GET, PUT and their binary forms.
func (m *machine) memoIndex() (uint64, error) {
	switch m.op {
	case 'h', 'q':
		b, err := m.read(1)
		if err != nil {
			return 0, err
		}
		return uint64(b[0]), nil
	case 'j', 'r':
		b, err := m.read(4)
		if err != nil {
			return 0, err
		}
		return uint64(binary.LittleEndian.Uint32(b)), nil
	}
	line, err := m.readLine()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(line), 10, 64)
	if err != nil || n < 0 {
		return 0, m.fail("%s: memo index %s", m.name(), repr(string(line)))
	}
	return uint64(n), nil
}

// global answers GLOBAL, INST and STACK_GLOBAL from the allowlist. Like
// CPython (fix_imports), protocols 0 to 2 name builtins and copyreg by
// their Python 2 names.
func (m *machine) global(module, name string) (any, error) {
	mod := module
	if m.proto < 3 {
		switch module {
		case "__builtin__":
			mod = "builtins"
		case "copy_reg":
			mod = "copyreg"
		}
	}
	if v, ok := allowed(mod, name); ok {
		return v, nil
	}
	return nil, &RefusedError{Module: module, Name: name, Offset: m.at}
}

// instantiate is INST and OBJ: cls(*args), or cls.__new__(cls) when there
// are no arguments and the class has one.
func (m *machine) instantiate(cls any, args []any) (any, error) {
	c, ok := cls.(*class)
	if !ok {
		return nil, m.fail("%s of a %s: not a class", m.name(), TypeName(cls))
	}
	if len(args) == 0 && c.new != nil {
		return m.callClass(c, c.new, nil)
	}
	if c.call == nil {
		return nil, m.fail("%s: %s.%s is not callable here", m.name(), c.module, c.name)
	}
	return m.callClass(c, c.call, args)
}

func (m *machine) callClass(c *class, f func(*machine, []any) (any, error), args []any) (any, error) {
	if err := m.charge(costObject); err != nil {
		return nil, err
	}
	v, err := f(m, args)
	if err != nil {
		return nil, m.wrap(c.module+"."+c.name, err)
	}
	return v, nil
}

// wrap places an error of a call or BUILD at the current opcode, unless it
// already has a place.
func (m *machine) wrap(what string, err error) error {
	var pe *Error
	var re *RefusedError
	if errors.As(err, &pe) || errors.As(err, &re) {
		return err
	}
	return &Error{Offset: m.at, Msg: what + ": " + err.Error(), Err: err}
}

// appendItems is APPEND and APPENDS: the list is below the items.
func (m *machine) appendItems(items []any) error {
	t, err := m.top()
	if err != nil {
		return err
	}
	l, ok := t.(*pyList)
	if !ok {
		return m.fail("%s to a %s, not a list", m.name(), TypeName(t))
	}
	if err := m.chargeN(int64(len(items)), costSlot); err != nil {
		return err
	}
	l.items = append(l.items, items...)
	return nil
}

// setItemsTop is SETITEM and SETITEMS: the dict is below the pairs.
func (m *machine) setItemsTop(items []any) error {
	t, err := m.top()
	if err != nil {
		return err
	}
	d, ok := t.(*pyDict)
	if !ok {
		return m.fail("%s on a %s, not a dict", m.name(), TypeName(t))
	}
	return m.setItems(d, items)
}

func (m *machine) setItems(d *pyDict, items []any) error {
	if len(items)%2 != 0 {
		return m.fail("%s: %d items, not key-value pairs", m.name(), len(items))
	}
	for i := 0; i < len(items); i += 2 {
		if err := m.dictSet(d, items[i], items[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// decodeLong is a LONG1/LONG4 two's complement little-endian integer.
func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var u uint64
		for i := len(b) - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		if shift := uint(64 - 8*len(b)); shift > 0 {
			return int64(u<<shift) >> shift // sign-extend
		}
		return int64(u)
	}
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	n := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return normInt(n)
}

// normInt returns a Python int as int64 when it fits.
func normInt(n *big.Int) any {
	if n.IsInt64() {
		return n.Int64()
	}
	return n
}
