package qa

import (
	"math"
	"strconv"
	"strings"

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

// addValue adds key k with v's compact JSON text to o.
func addValue(o *loaders.JSONObject, k string, v *fastjson.Value) { o.AddRaw(k, jsonexact.Compact(v)) }
