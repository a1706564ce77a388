package qa

import (
	"math"
	"strconv"
	"strings"

	"github.com/dschema/dschema/internal/appender"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/jsonexact"

	"github.com/valyala/fastjson"
)

// exactInt is a JSON number that is an integer, written as one.
func exactInt(v *fastjson.Value) (int64, bool) {
	if v == nil || v.Type() != fastjson.TypeNumber {
		return 0, false
	}
	n, err := v.Int64()
	return n, err == nil
}

// exactFloat is a JSON number as a double: NaN and ±Infinity included, a
// finite text that overflows a double not.
func exactFloat(v *fastjson.Value) (float64, bool) {
	var buf []byte
	return exactFloatBuf(v, &buf)
}

// exactFloatBuf is exactFloat reading the number's text into *buf, kept
// by the caller from number to number: a question has a few dozen
// numbers, and a text allocated for each was a tenth of the decoding.
func exactFloatBuf(v *fastjson.Value, buf *[]byte) (float64, bool) {
	if v == nil || v.Type() != fastjson.TypeNumber {
		return 0, false
	}
	t := v.MarshalTo((*buf)[:0])
	*buf = t
	f, err := jsonexact.Float(t)
	if err != nil {
		return 0, false
	}
	if jsonexact.PlainInteger(t) {
		// An integer: exact only if a double holds it (|n| ≤ 2^53, or a
		// wider one that happens to be a double). v.Int64 reads digits
		// after an optional minus without allocating; strconv.ParseInt
		// decides what it refuses (a leading +).
		n, err := v.Int64()
		if err != nil {
			n, err = strconv.ParseInt(string(t), 10, 64)
		}
		if err != nil || int64(float64(n)) != n || (n != 0 && float64(n) != f) {
			return 0, false
		}
	}
	if jsonexact.Underflows(t, f) {
		return 0, false // too small for a double (1e-400): 0 would not be the number written
	}
	if math.IsInf(f, 0) {
		s := strings.TrimLeft(string(t), "+-")
		if s != "Inf" && s != "inf" && s != "Infinity" {
			return 0, false
		}
	}
	return f, true
}

// appendExactFloat appends the number v as JSON text a double column's
// cast reads as the double v is (exactFloatBuf's rule; numText is its
// buffer): v's own text when plainNumber says any correctly rounding
// reader gets that double from it, else the double's shortest text
// (appender.AppendJSONScalar). ok is false, and b unchanged, when v is
// not such a number.
func appendExactFloat(b []byte, v *fastjson.Value, numText *[]byte) ([]byte, bool) {
	if v == nil || v.Type() != fastjson.TypeNumber {
		return b, false
	}
	if t := v.MarshalTo((*numText)[:0]); plainNumber(t) {
		*numText = t
		return append(b, t...), true
	}
	f, ok := exactFloatBuf(v, numText)
	if !ok {
		return b, false
	}
	return appender.AppendJSONScalar(b, f), true
}

// plainNumber reports whether t, the text of a number JSON allows, is
// one whose double every correctly rounding reader (strconv, DuckDB's
// JSON) gets alike, with nothing for exactFloatBuf to refuse: at most 17
// digits (as Python writes a double) and an exponent of at most 280 (so
// neither too large nor too small for a double); an integer of at most
// 15 digits (a double holds it), not -0 (read as the integer 0, where
// exactFloatBuf's double is -0.0). NaN and the infinities are not plain.
// TestPlainNumberReadsAlike holds DuckDB's reading to strconv's.
func plainNumber(t []byte) bool {
	i, digits, integer := 0, 0, true
	if i < len(t) && t[i] == '-' {
		i++
	}
	start := i
	for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
		digits++
	}
	if i == start || (t[start] == '0' && i-start > 1) {
		return false // no digits, or a leading zero JSON does not allow
	}
	if i < len(t) && t[i] == '.' {
		integer = false
		i++
		f := i
		for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
			digits++
		}
		if i == f {
			return false
		}
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		integer = false
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		e, n := 0, 0
		for ; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
			if e = e*10 + int(t[i]-'0'); e > 280 {
				return false
			}
			n++
		}
		if n == 0 {
			return false
		}
	}
	if i != len(t) {
		return false
	}
	if integer {
		return digits <= 15 && !(t[0] == '-' && digits == 1 && t[1] == '0')
	}
	return digits <= 17
}

// addValue adds key k with v's compact JSON text to o.
func addValue(o *loaders.JSONObject, k string, v *fastjson.Value) { o.AddRaw(k, jsonexact.Compact(v)) }
