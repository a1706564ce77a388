// Package jsonexact holds what the loaders that read JSON in Go share to
// keep values exact: Python's bare Infinity tokens through fastjson, the
// compact text of a value with its numbers as written, the number rules
// (integers a double cannot hold, numbers too small for one), and the
// refusal of text a database cannot store as written.
package jsonexact

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/dschema/dschema/internal/appender"
	"github.com/dschema/dschema/internal/loaders"
)

// Underflows reports whether f, read from the number text t, is 0 though
// t is not: the number is too small for a double (1e-400), and 0 would not
// be the number written.
func Underflows(t []byte, f float64) bool { return f == 0 && nonZeroMantissa(t) }

// nonZeroMantissa reports whether a number's text has a digit other than
// 0 before its exponent.
func nonZeroMantissa(t []byte) bool {
	for _, c := range t {
		switch {
		case c == 'e' || c == 'E':
			return false
		case c >= '1' && c <= '9':
			return true
		}
	}
	return false
}

// PlainInteger reports whether a number's text has no fraction, exponent
// or NaN/Inf letters.
func PlainInteger(t []byte) bool {
	for _, c := range t {
		switch c | 0x20 { // lower case for letters; '.' and digits unchanged
		case '.', 'e', 'n', 'i':
			return false
		}
	}
	return true
}

// TextProblem finds what in a line of JSON text cannot be stored exactly,
// and says what it is and at which byte of b; "" when nothing. The rule,
// for every field alike: text is UTF-8 and every string escape names a
// Unicode character, or the line is refused. fastjson lets through bytes
// that are not UTF-8 (which DuckDB's VARCHAR cannot hold, and a JSON
// writer turns into U+FFFD), escapes JSON does not have (\x41, kept as
// their text), and lone UTF-16 surrogates (\ud800, kept as their text; a
// broken pair becomes U+FFFD): each would be stored as something else
// than the source holds. In valid JSON a backslash only starts an escape
// in a string, so the escapes are found without tracking strings.
func TextProblem(b []byte) (int, string) {
	if !utf8.Valid(b) {
		i := 0
		for i < len(b) {
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return i, fmt.Sprintf("bytes that are not UTF-8 (%q)", b[i:min(i+4, len(b))])
	}
	for i := bytes.IndexByte(b, '\\'); i >= 0; {
		if i+1 >= len(b) {
			return i, "a backslash at the end"
		}
		n := 2
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		case 'u':
			r, ok := hex4(b, i+2)
			if !ok {
				return i, fmt.Sprintf("the escape %q, which JSON does not have", b[i:min(i+6, len(b))])
			}
			n = 6
			if utf16.IsSurrogate(r) {
				var lo rune
				ok = false
				if r < 0xdc00 && i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
					lo, ok = hex4(b, i+8)
				}
				if !ok || lo < 0xdc00 || lo > 0xdfff {
					return i, fmt.Sprintf("the escape %q, a lone UTF-16 surrogate (not a Unicode character)", b[i:i+6])
				}
				n = 12
			}
		default:
			return i, fmt.Sprintf("the escape %q, which JSON does not have", b[i:i+2])
		}
		j := bytes.IndexByte(b[i+n:], '\\')
		if j < 0 {
			break
		}
		i += n + j
	}
	return 0, ""
}

// hex4 is the 4 hex digits of b at i as a rune.
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// Compact is v's JSON text, compact, with Python's Infinity tokens
// restored. Strings are written by appender.AppendJSONString: fastjson's
// own writer escapes a string it has unescaped in Go's syntax (\x01),
// which is not JSON.
func Compact(v *fastjson.Value) []byte {
	return UnInf(appendCompact(nil, v, appender.AppendJSONString))
}

// CompactDuck is Compact with strings (and keys) written as DuckDB's JSON
// writer writes them: \b, \f, \n, \r and \t for those characters, so that
// the text is the one DuckDB gives for the same value.
func CompactDuck(v *fastjson.Value) []byte { return AppendCompactDuck(nil, v) }

// AppendCompactDuck appends CompactDuck(v) to b.
func AppendCompactDuck(b []byte, v *fastjson.Value) []byte {
	n := len(b)
	b = appendCompact(b, v, AppendDuckString)
	if t := b[n:]; bytes.Contains(t, infinity[:3]) {
		return append(b[:n], UnInf(t)...) // UnInf's copy: t is not changed in place
	}
	return b
}

// AppendDuckString appends s as a JSON string as DuckDB's JSON writer
// writes it: \", \\, \b, \f, \n, \r, \t, other control characters as
// \u00XX (upper-case hex), everything else as it is (s is UTF-8: see
// TextProblem).
func AppendDuckString(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func appendCompact(b []byte, v *fastjson.Value, str func([]byte, string) []byte) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		b = append(b, '{')
		first := true
		o.Visit(func(k []byte, x *fastjson.Value) {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = str(b, string(k))
			b = append(b, ':')
			b = appendCompact(b, x, str)
		})
		return append(b, '}')
	case fastjson.TypeArray:
		b = append(b, '[')
		for i, x := range v.GetArray() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCompact(b, x, str)
		}
		return append(b, ']')
	case fastjson.TypeString:
		return str(b, string(v.GetStringBytes()))
	}
	return v.MarshalTo(b) // a number as written, true, false, null
}

// infinity is Python's token for ∞ (and its first three bytes fastjson's).
var infinity = []byte("Infinity")

// PyInf rewrites Python's bare Infinity and -Infinity tokens, outside
// strings, as fastjson's Inf (padded with spaces, so offsets stay);
// UnInf puts them back. NaN fastjson reads as it is.
func PyInf(b []byte) []byte {
	if !bytes.Contains(b, infinity) { // not strings.Contains(string(b), …): that copies b
		return b
	}
	out := append([]byte(nil), b...)
	loaders.ScanTokens(out, func(i int) int {
		if strings.HasPrefix(string(out[i:]), "Infinity") && !wordByte(out, i-1) && !loaders.IdentByte(out, i+8) {
			copy(out[i:], "Inf     ")
			return 8
		}
		return 1
	})
	return out
}

func UnInf(b []byte) []byte {
	if !bytes.Contains(b, infinity[:3]) {
		return b
	}
	var out []byte
	last := 0
	loaders.ScanTokens(b, func(i int) int {
		if strings.HasPrefix(string(b[i:]), "Inf") && !wordByte(b, i-1) && !loaders.IdentByte(b, i+3) {
			out = append(append(out, b[last:i]...), "Infinity"...)
			last = i + 3
			return 3
		}
		return 1
	})
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// wordByte is a byte of a word or number other than a sign (which may
// come before Infinity).
func wordByte(b []byte, i int) bool { return loaders.IdentByte(b, i) && b[i] != '-' && b[i] != '+' }

// Float is the double nearest the number text t (a JSON number as written,
// or NaN, Inf, -Inf), as strconv reads it; a number beyond a double's range
// is ±Inf and one too small for a double is ±0, without an error (see
// Underflows). fastjson's own Float64 is not exact: it multiplies by a
// power of ten that a double does not hold (5e-06 gives
// 4.9999999999999996e-06, 3e-05 gives 3.0000000000000004e-05).
func Float(t []byte) (float64, error) {
	f, err := strconv.ParseFloat(string(t), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, err
	}
	return f, nil
}

// StrictNumber reports whether t, a number as fastjson read it (after
// PyInf), is one DuckDB's JSON reader reads as well: JSON's grammar, or
// NaN, Inf or -Inf (Python's NaN, Infinity, -Infinity). fastjson also
// takes 007, +1, .5, 5., 1.2.3, nan and inf, which DuckDB refuses.
func StrictNumber(t []byte) bool {
	switch string(t) {
	case "NaN", "Inf", "-Inf":
		return true
	}
	return Decimal(t, false)
}

// Decimal reports whether t is -?D(.D)?([eE][+-]?D)?, D one digit or
// more; without leadingZeros, the integer part is 0 or starts with 1 to 9,
// as in JSON's grammar.
func Decimal(t []byte, leadingZeros bool) bool {
	i := 0
	digits := func() bool {
		j := i
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(t) && t[i] == '-' {
		i++
	}
	switch {
	case !leadingZeros && i < len(t) && t[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(t) && t[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(t)
}

// StrictNumbers reports whether every number in v is a StrictNumber;
// buf is scratch space, returned to be used again (holding the first
// number that is not). Keys twice are let through (Strict refuses them).
func StrictNumbers(v *fastjson.Value, buf []byte) (bool, []byte) {
	buf, p := strict(v, buf, false)
	return p == nil, buf
}

// ErrLaxNumber is a number fastjson reads but JSON does not allow (nor
// Python's NaN, Infinity, -Infinity): 007, +1, .5, 5., 1.2.3, nan, inf.
var ErrLaxNumber = errors.New("a number JSON does not allow")

// ErrKeyTwice is an object with a key twice. JSON leaves it to the reader
// which of the two values counts; fastjson's Get takes the first, a map
// filled key by key keeps the last, and either drops the other silently.
var ErrKeyTwice = errors.New("a key twice in one object")

// Strict is nil when every number in v is a StrictNumber and no object in
// it has a key twice; else an error wrapping ErrLaxNumber (with the
// number's text) or ErrKeyTwice (with the key and where it is: the
// top-level object, metrics, model_output[2], "a b"[0].c). buf is
// scratch space, returned to be used again.
func Strict(v *fastjson.Value, buf []byte) ([]byte, error) {
	buf, p := strict(v, buf, true)
	if p == nil {
		return buf, nil
	}
	if p.key == nil {
		return buf, fmt.Errorf("%w: %s", ErrLaxNumber, buf)
	}
	where := "the top-level object"
	if len(p.path) > 0 {
		var b strings.Builder
		for i := len(p.path) - 1; i >= 0; i-- {
			b.WriteString(p.path[i])
		}
		where = strings.TrimPrefix(b.String(), ".")
	}
	return buf, fmt.Errorf("%w: %q in %s", ErrKeyTwice, *p.key, where)
}

// pathKey is k as a step of a path: .k, or ."k" quoted when k is not
// letters, digits and underscores.
func pathKey(k []byte) string {
	for _, c := range k {
		if !(c == '_' || c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z') {
			return "." + strconv.Quote(string(k))
		}
	}
	if len(k) == 0 {
		return `.""`
	}
	return "." + string(k)
}

// strictProblem is what strict found: a lax number (key nil; its text in
// the buffer) or a key twice, with the path to its object, innermost first.
type strictProblem struct {
	key  *string
	path []string
}

// smallObject is the size up to which strict compares an object's keys
// pair by pair rather than through a map.
const smallObject = 24

// strict walks v for the first number that is not a StrictNumber and,
// when keys, the first key twice in an object.
func strict(v *fastjson.Value, buf []byte, keys bool) ([]byte, *strictProblem) {
	var p *strictProblem
	switch v.Type() {
	case fastjson.TypeNumber:
		buf = v.MarshalTo(buf[:0])
		if !StrictNumber(buf) {
			return buf, &strictProblem{}
		}
	case fastjson.TypeObject:
		o, _ := v.Object()
		var small [smallObject][]byte
		var bits uint64
		var seen map[string]bool
		i := 0
		o.Visit(func(k []byte, x *fastjson.Value) {
			if p != nil {
				return
			}
			twice := false
			switch {
			case !keys:
			case i < smallObject:
				// A key is compared with the ones before it only when
				// one of them has its length, first and last byte's
				// bit (most objects: no comparison at all).
				bit := uint64(1)
				if len(k) > 0 {
					bit <<= (uint(len(k)) + uint(k[0]) + 7*uint(k[len(k)-1])) & 63
				}
				if bits&bit != 0 {
					for _, s := range small[:i] {
						if string(s) == string(k) {
							twice = true
							break
						}
					}
				}
				bits |= bit
				small[i] = k
			default:
				if seen == nil {
					seen = make(map[string]bool, 2*smallObject)
					for _, s := range small {
						seen[string(s)] = true
					}
				}
				twice = seen[string(k)]
				seen[string(k)] = true
			}
			i++
			if twice {
				s := string(k)
				p = &strictProblem{key: &s}
				return
			}
			if buf, p = strict(x, buf, keys); p != nil && p.key != nil {
				p.path = append(p.path, pathKey(k))
			}
		})
	case fastjson.TypeArray:
		a, _ := v.Array()
		for j, x := range a {
			if buf, p = strict(x, buf, keys); p != nil {
				if p.key != nil {
					p.path = append(p.path, "["+strconv.Itoa(j)+"]")
				}
				break
			}
		}
	}
	return buf, p
}

// ControlByte is the index of the first byte of b below 0x20 (a control
// character, which JSON allows only escaped in a string), -1 when none.
func ControlByte(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		// A byte below 0x20 borrows in w - 0x20…20 and has its top bit clear in w.
		if (w-0x2020202020202020)&^w&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] < 0x20 {
			return i
		}
	}
	return -1
}
