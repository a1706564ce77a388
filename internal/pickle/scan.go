package pickle

import (
	"encoding/binary"
	"fmt"
)

// The decoding is gopickle's; this file walks the opcodes first, without
// building anything, for two reasons gopickle does not cover: a length in
// the stream must not make anyone allocate more than the input holds (a
// crafted 2^60-byte string), and an error about a class should name the
// byte offset of the opcode that asked for it.

// argKind is how an opcode's argument is laid out.
type argKind int

const (
	argNone   argKind = iota
	argFixed          // n bytes
	argLen1           // 1-byte length, then that many bytes
	argLen4           // 4-byte little-endian length
	argLen8           // 8-byte little-endian length
	argLine           // up to a newline
	argLines2         // two lines (GLOBAL, INST)
)

type opInfo struct {
	name string
	kind argKind
	n    int
}

var ops = map[byte]opInfo{
	'(': {"MARK", argNone, 0}, '.': {"STOP", argNone, 0}, '0': {"POP", argNone, 0}, '1': {"POP_MARK", argNone, 0},
	'2': {"DUP", argNone, 0}, 'F': {"FLOAT", argLine, 0}, 'I': {"INT", argLine, 0}, 'J': {"BININT", argFixed, 4},
	'K': {"BININT1", argFixed, 1}, 'L': {"LONG", argLine, 0}, 'M': {"BININT2", argFixed, 2}, 'N': {"NONE", argNone, 0},
	'P': {"PERSID", argLine, 0}, 'Q': {"BINPERSID", argNone, 0}, 'R': {"REDUCE", argNone, 0}, 'S': {"STRING", argLine, 0},
	'T': {"BINSTRING", argLen4, 0}, 'U': {"SHORT_BINSTRING", argLen1, 0}, 'V': {"UNICODE", argLine, 0},
	'X': {"BINUNICODE", argLen4, 0}, 'a': {"APPEND", argNone, 0}, 'b': {"BUILD", argNone, 0}, 'c': {"GLOBAL", argLines2, 0},
	'd': {"DICT", argNone, 0}, '}': {"EMPTY_DICT", argNone, 0}, 'e': {"APPENDS", argNone, 0}, 'g': {"GET", argLine, 0},
	'h': {"BINGET", argFixed, 1}, 'i': {"INST", argLines2, 0}, 'j': {"LONG_BINGET", argFixed, 4}, 'l': {"LIST", argNone, 0},
	']': {"EMPTY_LIST", argNone, 0}, 'o': {"OBJ", argNone, 0}, 'p': {"PUT", argLine, 0}, 'q': {"BINPUT", argFixed, 1},
	'r': {"LONG_BINPUT", argFixed, 4}, 's': {"SETITEM", argNone, 0}, 't': {"TUPLE", argNone, 0}, ')': {"EMPTY_TUPLE", argNone, 0},
	'u': {"SETITEMS", argNone, 0}, 'G': {"BINFLOAT", argFixed, 8},
	0x80: {"PROTO", argFixed, 1}, 0x81: {"NEWOBJ", argNone, 0}, 0x82: {"EXT1", argFixed, 1}, 0x83: {"EXT2", argFixed, 2},
	0x84: {"EXT4", argFixed, 4}, 0x85: {"TUPLE1", argNone, 0}, 0x86: {"TUPLE2", argNone, 0}, 0x87: {"TUPLE3", argNone, 0},
	0x88: {"NEWTRUE", argNone, 0}, 0x89: {"NEWFALSE", argNone, 0}, 0x8a: {"LONG1", argLen1, 0}, 0x8b: {"LONG4", argLen4, 0},
	'B': {"BINBYTES", argLen4, 0}, 'C': {"SHORT_BINBYTES", argLen1, 0},
	0x8c: {"SHORT_BINUNICODE", argLen1, 0}, 0x8d: {"BINUNICODE8", argLen8, 0}, 0x8e: {"BINBYTES8", argLen8, 0},
	0x8f: {"EMPTY_SET", argNone, 0}, 0x90: {"ADDITEMS", argNone, 0}, 0x91: {"FROZENSET", argNone, 0}, 0x92: {"NEWOBJ_EX", argNone, 0},
	0x93: {"STACK_GLOBAL", argNone, 0}, 0x94: {"MEMOIZE", argNone, 0}, 0x95: {"FRAME", argFixed, 8},
	0x96: {"BYTEARRAY8", argLen8, 0}, 0x97: {"NEXT_BUFFER", argNone, 0}, 0x98: {"READONLY_BUFFER", argNone, 0},
}

// global is an opcode that names a class, with what it names when the
// scan can tell (GLOBAL always; STACK_GLOBAL when its two strings were
// pushed as literals or memo gets, as every pickler writes them).
type global struct {
	offset       int64
	module, name string
}

// maxLine bounds a text-argument opcode's line (INT, FLOAT, GLOBAL, ...).
const maxLine = 1 << 16

// scan checks the opcode stream of data and lists its globals. It stops at
// STOP; bytes after it are an error (a pickle is one value).
func scan(data []byte) ([]global, error) {
	var globals []global
	memo := map[int]string{} // memo index -> string pushed there (strings only)
	var last []string        // the strings most recently pushed, for STACK_GLOBAL
	nextMemo := 0
	pos := 0
	fail := func(at int, format string, a ...any) error {
		return &Error{Offset: int64(at), Msg: fmt.Sprintf(format, a...)}
	}
	push := func(s string, ok bool) {
		if !ok {
			last = nil
			return
		}
		last = append(last, s)
		if len(last) > 2 {
			last = last[len(last)-2:]
		}
	}
	for pos < len(data) {
		at := pos
		op := data[pos]
		info, ok := ops[op]
		if !ok {
			return nil, fail(at, "unknown opcode 0x%02x: not a pickle, or corrupt", op)
		}
		pos++
		var arg []byte
		switch info.kind {
		case argFixed:
			if len(data)-pos < info.n {
				return nil, fail(at, "%s: truncated (needs %d bytes, %d left)", info.name, info.n, len(data)-pos)
			}
			arg = data[pos : pos+info.n]
			pos += info.n
		case argLen1, argLen4, argLen8:
			w := map[argKind]int{argLen1: 1, argLen4: 4, argLen8: 8}[info.kind]
			if len(data)-pos < w {
				return nil, fail(at, "%s: truncated length", info.name)
			}
			var n uint64
			switch w {
			case 1:
				n = uint64(data[pos])
			case 4:
				n = uint64(binary.LittleEndian.Uint32(data[pos:]))
			case 8:
				n = binary.LittleEndian.Uint64(data[pos:])
			}
			pos += w
			if n > uint64(len(data)-pos) {
				return nil, fail(at, "%s: length %d, but only %d bytes are left", info.name, n, len(data)-pos)
			}
			arg = data[pos : pos+int(n)]
			pos += int(n)
		case argLine, argLines2:
			lines := 1
			if info.kind == argLines2 {
				lines = 2
			}
			start := pos
			for l := 0; l < lines; l++ {
				i := pos
				for i < len(data) && data[i] != '\n' && i-pos < maxLine {
					i++
				}
				if i >= len(data) || data[i] != '\n' {
					return nil, fail(at, "%s: line not terminated within %d bytes", info.name, maxLine)
				}
				pos = i + 1
			}
			arg = data[start:pos]
		}
		switch info.name {
		case "FRAME":
			if n := binary.LittleEndian.Uint64(arg); n > uint64(len(data)-pos) {
				return nil, fail(at, "FRAME: length %d, but only %d bytes are left", n, len(data)-pos)
			}
		case "STOP":
			if pos != len(data) {
				return nil, fail(pos, "%d bytes after the end of the pickle", len(data)-pos)
			}
			return globals, nil
		case "GLOBAL", "INST":
			parts := splitLines(arg)
			globals = append(globals, global{offset: int64(at), module: parts[0], name: parts[1]})
			last = nil
		case "STACK_GLOBAL":
			g := global{offset: int64(at)}
			if len(last) == 2 {
				g.module, g.name = last[0], last[1]
			}
			globals = append(globals, g)
			last = nil
		case "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8":
			push(string(arg), true)
		case "MEMOIZE":
			if len(last) > 0 {
				memo[nextMemo] = last[len(last)-1]
			}
			nextMemo++
		case "BINPUT", "LONG_BINPUT":
			if len(last) > 0 {
				memo[int(le(arg))] = last[len(last)-1]
			}
		case "BINGET", "LONG_BINGET":
			s, ok := memo[int(le(arg))]
			push(s, ok)
		case "PROTO":
			if arg[0] > 5 {
				return nil, fail(at, "protocol %d: this decoder reads protocols up to 5", arg[0])
			}
		default:
			last = nil
		}
	}
	return nil, fail(len(data), "truncated: the pickle ends without STOP")
}

func le(b []byte) uint64 {
	var n uint64
	for i := len(b) - 1; i >= 0; i-- {
		n = n<<8 | uint64(b[i])
	}
	return n
}

func splitLines(b []byte) [2]string {
	var out [2]string
	k := 0
	start := 0
	for i, c := range b {
		if c == '\n' {
			if k < 2 {
				out[k] = string(b[start:i])
			}
			k++
			start = i + 1
		}
	}
	return out
}
