package pickle

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The text arguments of protocol 0, decoded as CPython decodes them
// (Lib/pickle.py): UNICODE is raw-unicode-escape, STRING a repr-quoted
// Python 2 str (codecs.escape_decode, then the unpickler's encoding,
// ASCII by default), INT and LONG Python int literals, FLOAT a float.

// rawUnicodeEscape decodes Python's raw-unicode-escape codec: \uXXXX and
// \UXXXXXXXX are escapes; every other byte is a latin-1 character (so a
// backslash before anything else is itself, and 0x80-0xff are U+0080 to
// U+00FF). A backslash and the byte after it are taken as a pair, as
// CPython does: `\\u0041` is three characters and "u0041".
func rawUnicodeEscape(b []byte) (string, error) {
	var out strings.Builder
	out.Grow(len(b))
	for i := 0; i < len(b); {
		c := b[i]
		i++
		if c != '\\' {
			out.WriteRune(rune(c))
			continue
		}
		if i >= len(b) {
			out.WriteByte('\\')
			break
		}
		c = b[i]
		i++
		n := 0
		switch c {
		case 'u':
			n = 4
		case 'U':
			n = 8
		default:
			out.WriteByte('\\')
			out.WriteRune(rune(c))
			continue
		}
		if len(b)-i < n {
			return "", fmt.Errorf("truncated \\%c escape at %d", c, i-2)
		}
		var r uint32
		for _, h := range b[i : i+n] {
			d, ok := hexDigit(h)
			if !ok {
				return "", fmt.Errorf("truncated \\%c escape at %d", c, i-2)
			}
			r = r<<4 | uint32(d)
		}
		if r > utf8.MaxRune {
			return "", fmt.Errorf("\\U%08x at %d is out of range", r, i-2)
		}
		if r >= 0xd800 && r <= 0xdfff {
			return "", fmt.Errorf("\\%c%0*x at %d is a lone surrogate, which Python keeps but a Go string cannot hold", c, n, r, i-2)
		}
		i += n
		out.WriteRune(rune(r))
	}
	return out.String(), nil
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// escapeDecode is codecs.escape_decode (CPython's _PyBytes_DecodeEscape):
// the escapes of a bytes literal; an unknown escape keeps its backslash.
func escapeDecode(b []byte) ([]byte, error) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		i++
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i >= len(b) {
			return nil, errors.New("trailing \\ in string")
		}
		c = b[i]
		i++
		switch c {
		case '\n':
		case '\\', '\'', '"':
			out = append(out, c)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 't':
			out = append(out, '\t')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 'v':
			out = append(out, '\v')
		case 'a':
			out = append(out, 7)
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i < len(b) && b[i] >= '0' && b[i] <= '7'; k++ {
				v = v*8 + int(b[i]-'0')
				i++
			}
			out = append(out, byte(v)) // CPython keeps the low byte of \400 to \777
		case 'x':
			if len(b)-i >= 2 {
				hi, ok1 := hexDigit(b[i])
				lo, ok2 := hexDigit(b[i+1])
				if ok1 && ok2 {
					out = append(out, hi<<4|lo)
					i += 2
					continue
				}
			}
			return nil, fmt.Errorf("invalid \\x escape at position %d", i-2)
		default:
			out = append(out, '\\')
			i-- // the byte after the backslash is read again, as itself
		}
	}
	return out, nil
}

// decodeUTF8 decodes BINUNICODE's UTF-8. CPython reads it with
// "surrogatepass", so an encoded lone surrogate is a str there; a Go
// string cannot hold one, and it is refused with anything else invalid.
func decodeUTF8(b []byte) (string, error) {
	if utf8.Valid(b) {
		return string(b), nil
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			if len(b)-i >= 3 && b[i] == 0xed && b[i+1] >= 0xa0 && b[i+1] <= 0xbf && b[i+2]&0xc0 == 0x80 {
				return "", fmt.Errorf("an encoded lone surrogate at byte %d, which Python keeps but a Go string cannot hold", i)
			}
			return "", fmt.Errorf("invalid UTF-8 at byte %d", i)
		}
		i += n
	}
	return string(b), nil
}

// maxIntDigits is CPython's limit on the digits of an int read from text
// (sys.int_info.default_max_str_digits, Python 3.11 and later).
const maxIntDigits = 4300

// parseInt reads INT and LONG's argument as Python's int(text, 0) does
// (pickle.py's load_int and load_long): an optional sign, a 0x, 0o or 0b
// prefix, underscores between digits, surrounding whitespace; a decimal
// with a leading zero is an error. CPython's C unpickler also reads some
// forms pickle.py refuses (it tries C strtol first); no pickler writes
// them, and they are refused here.
func parseInt(line []byte) (any, error) {
	s := strings.Trim(string(line), " \t\n\r\v\f")
	orig := s
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	if len(s) >= 2 && s[0] == '0' {
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 10 {
			s = s[2:]
			s = strings.TrimPrefix(s, "_")
		}
	}
	digits := strings.Builder{}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			if i == 0 || i == len(s)-1 || s[i-1] == '_' {
				return nil, fmt.Errorf("invalid literal for int(): %s", repr(orig))
			}
			continue
		}
		if d, ok := hexDigit(c); !ok || int(d) >= base {
			return nil, fmt.Errorf("invalid literal for int(): %s", repr(orig))
		}
		digits.WriteByte(c)
	}
	ds := digits.String()
	if ds == "" {
		return nil, fmt.Errorf("invalid literal for int(): %s", repr(orig))
	}
	if base == 10 && len(ds) > 1 && ds[0] == '0' && strings.Trim(ds, "0") != "" {
		return nil, fmt.Errorf("invalid literal for int(): %s (a leading zero)", repr(orig))
	}
	if base == 10 && len(ds) > maxIntDigits {
		return nil, fmt.Errorf("an int of %d digits: Python refuses more than %d", len(ds), maxIntDigits)
	}
	if neg {
		ds = "-" + ds
	}
	if v, err := strconv.ParseInt(ds, base, 64); err == nil {
		return v, nil
	}
	n, ok := new(big.Int).SetString(ds, base)
	if !ok {
		return nil, fmt.Errorf("invalid literal for int(): %s", repr(orig))
	}
	return normInt(n), nil
}

// parseFloat reads FLOAT's argument as CPython's C unpickler does
// (PyOS_string_to_double): a decimal float, inf, infinity or nan, with no
// whitespace or underscores; beyond the float range is an error.
func parseFloat(line []byte) (float64, error) {
	s := string(line)
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, fmt.Errorf("could not convert %s to float", repr(s))
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		if strings.HasPrefix(s, "-") {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	case "nan":
		return math.NaN(), nil
	}
	digits, dot, exp := 0, false, false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && !exp:
			dot = true
		case (c == 'e' || c == 'E') && !exp && digits > 0:
			exp = true
			if i+1 < len(body) && (body[i+1] == '+' || body[i+1] == '-') {
				i++
			}
			if i+1 >= len(body) {
				return 0, fmt.Errorf("could not convert %s to float", repr(s))
			}
		default:
			return 0, fmt.Errorf("could not convert %s to float", repr(s))
		}
	}
	if digits == 0 {
		return 0, fmt.Errorf("could not convert %s to float", repr(s))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) && math.IsInf(f, 0) {
			return 0, fmt.Errorf("%s is beyond the float range", repr(s))
		}
		if !errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("could not convert %s to float", repr(s))
		}
	}
	return f, nil
}
