package pickle

import (
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
)

// TestText: protocol 0 and Python 2 text opcodes decode as CPython 3.11's
// pickle.loads decodes them (every want below is what it returned), and
// what it refuses is refused. Two differences, refused here: a lone
// surrogate (Python keeps it, a Go string cannot), and "I010", which the C
// unpickler reads as octal 8 and pickle.py refuses.
func TestText(t *testing.T) {
	big5000 := strings.Repeat("1", 5000)
	bigInt, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	for _, c := range []struct {
		name string
		data string
		want any    // when err is ""
		err  string // a part of the error
	}{
		// UNICODE: raw-unicode-escape
		{"V snowman", "V\\u2603\n.", "☃", ""},
		{"V latin-1 byte", "V\xe9\n.", "é", ""},
		{"V backslashes are literal", "Va\\b\\nc\n.", `a\b\nc`, ""},
		{"V escaped backslash before u", "V\\\\u0041\n.", `\\u0041`, ""},
		{"V odd backslashes", "V\\\\\\u0041\n.", `\\A`, ""},
		{"V trailing backslash", "Vab\\u00e9\\\n.", `abé\`, ""},
		{"V astral", "V\\U0001f600\n.", "😀", ""},
		{"V as pickle writes", "Va\\u005cb\\u000ac\\u000d\\u0000\\u001a\\u2603\xe9\n.", "a\\b\nc\r\x00\x1a☃é", ""},
		{"V x escape is literal", "V\\x41\n.", `\x41`, ""},
		{"V truncated", "V\\u00\n.", nil, "truncated \\u escape"},
		{"V out of range", "V\\U00110000\n.", nil, "out of range"},
		{"V lone surrogate", "V\\ud800\n.", nil, "lone surrogate"},
		// STRING: repr-quoted, escape_decode, then ASCII
		{"S escapes", `S'a\\b\nc'` + "\n.", "a\\b\nc", ""},
		{"S double quotes", "S\"x\"\n.", "x", ""},
		{"S hex and octal", `S'\x41\101\q'` + "\n.", `AA\q`, ""},
		{"S quotes", `S'\'\"\\'` + "\n.", `'"\`, ""},
		{"S octal past a byte", `S'\777'` + "\n.", nil, "not ASCII"},
		{"S not ASCII", `S'a\xe9'` + "\n.", nil, "not ASCII"},
		{"S raw byte not ASCII", "S'a\xe9'\n.", nil, "not ASCII"},
		{"S trailing backslash", `S'abc\'` + "\n.", nil, "trailing \\"},
		{"S bad hex", `S'\x4'` + "\n.", nil, "invalid \\x escape"},
		{"S unquoted", "Sabc\n.", nil, "must be quoted"},
		{"S mismatched quotes", "S'abc\"\n.", nil, "must be quoted"},
		{"S one quote", "S'\n.", nil, "must be quoted"},
		// BINSTRING, SHORT_BINSTRING: a Python 2 str, ASCII
		{"U ascii", "U\x02ab.", "ab", ""},
		{"T ascii", "T\x02\x00\x00\x00ab.", "ab", ""},
		{"U not ASCII", "U\x01\xff.", nil, "not ASCII"},
		{"T negative", "T\xff\xff\xff\xffab.", nil, "negative byte count"},
		// BINUNICODE: UTF-8
		{"X utf-8", "X\x03\x00\x00\x00\xe2\x98\x83.", "☃", ""},
		{"X invalid", "X\x02\x00\x00\x00\xc3\x28.", nil, "invalid UTF-8"},
		{"X encoded surrogate", "X\x03\x00\x00\x00\xed\xa0\x80.", nil, "lone surrogate"},
		// INT and LONG: int(text, 0); 00 and 01 are bools
		{"I", "I10\n.", int64(10), ""},
		{"I false", "I00\n.", false, ""},
		{"I true", "I01\n.", true, ""},
		{"I underscores and spaces", "I 1_0 \n.", int64(10), ""},
		{"I negative", "I-7\n.", int64(-7), ""},
		{"I hex", "I0x10\n.", int64(16), ""},
		{"I big", "I123456789012345678901234567890\n.", bigInt, ""},
		{"I leading zero", "I010\n.", nil, "leading zero"},
		{"I 5000 digits", "I" + big5000 + "\n.", nil, "4300"},
		{"I empty", "I\n.", nil, "invalid literal"},
		{"L suffix", "L12L\n.", int64(12), ""},
		{"L big", "L123456789012345678901234567890L\n.", bigInt, ""},
		{"L leading zero", "L-0012\n.", nil, "leading zero"},
		// FLOAT: as the C unpickler reads it
		{"F", "F2.5\n.", 2.5, ""},
		{"F inf", "Finf\n.", math.Inf(1), ""},
		{"F -InFiNiTy", "F-InFiNiTy\n.", math.Inf(-1), ""},
		{"F exponent", "F-1.5e-3\n.", -1.5e-3, ""},
		{"F beyond range", "F1e999\n.", nil, "beyond the float range"},
		{"F underscores", "F1_0.5\n.", nil, "could not convert"},
		{"F hex", "F0x1p-2\n.", nil, "could not convert"},
		{"F spaces", "F 1.5\n.", nil, "could not convert"},
		// LONG1, LONG4
		{"LONG1 -1", "\x80\x02\x8a\x01\xff.", int64(-1), ""},
		{"LONG1 2**63", "\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00.", new(big.Int).Lsh(big.NewInt(1), 63), ""},
		{"LONG1 -2**63", "\x80\x02\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80.", int64(math.MinInt64), ""},
		{"LONG1 empty", "\x80\x02\x8a\x00.", int64(0), ""},
		{"LONG4 negative", "\x80\x02\x8b\xff\xff\xff\xff.", nil, "negative byte count"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := Decode([]byte(c.data))
			if c.err != "" {
				pe := (*Error)(nil)
				if err == nil || !strings.Contains(err.Error(), c.err) || !errors.As(err, &pe) {
					t.Errorf("Decode(%q) = %#v, %v; want an error with %q", c.data, v, err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(v, c.want) {
				t.Errorf("Decode(%q) = %#v, %v; want %#v", c.data, v, err, c.want)
			}
		})
	}
	if v, err := Decode([]byte("Fnan\n.")); err != nil || !math.IsNaN(v.(float64)) {
		t.Errorf("Decode(Fnan) = %v, %v", v, err)
	}
}
