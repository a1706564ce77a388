package loaders

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"

	"github.com/dschema/dschema/internal/appender"
)

// PyJSON returns b with every bare NaN, Infinity and -Infinity token outside
// strings replaced by 0, so encoding/json can check or decode it.
func PyJSON(b []byte) []byte {
	var out []byte // nil until a token is replaced
	ScanTokens(b, func(i int) int {
		for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
			if bytes.HasPrefix(b[i:], []byte(tok)) && !IdentByte(b, i-1) && !IdentByte(b, i+len(tok)) {
				if out == nil {
					out = append([]byte{}, b...)
				}
				// Same length keeps offsets: "0" then spaces.
				out[i] = '0'
				for j := i + 1; j < i+len(tok); j++ {
					out[j] = ' '
				}
				return len(tok)
			}
		}
		return 1
	})
	if out == nil {
		return b
	}
	return out
}

// ScanTokens calls f at every byte offset of b outside JSON strings; f
// returns how many bytes to move on (1, or a token's length).
func ScanTokens(b []byte, f func(i int) int) {
	inStr, esc := false, false
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case inStr && esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case inStr && c == '"':
			inStr = false
		case inStr:
		case c == '"':
			inStr = true
		default:
			i += f(i)
			continue
		}
		i++
	}
}

func IdentByte(b []byte, i int) bool {
	if i < 0 || i >= len(b) {
		return false
	}
	c := b[i]
	return c == '_' || c == '.' || c == '-' || c == '+' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// MaxJSONLine bounds one line read by Go (a run's history as one array
// can be large; DuckDB is told the same bound).
const MaxJSONLine = 1 << 30

// ReadLine reads one line without its newline, however long (up to maxJSONLine).
func ReadLine(r *bufio.Reader) ([]byte, error) { return ReadLineMax(r, MaxJSONLine) }

// ReadLineMax reads one line without its newline, up to limit bytes. A
// line that fits the reader's buffer is returned without a copy: it is
// valid until the next read.
func ReadLineMax(r *bufio.Reader, limit int) ([]byte, error) {
	chunk, err := r.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return bytes.TrimRight(chunk, "\r\n"), err
	}
	line := append([]byte(nil), chunk...)
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > limit {
			return nil, fmt.Errorf("line longer than %d bytes", limit)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(line, "\r\n"), err
	}
}

// JSONObject builds a JSON object's text key by key.
type JSONObject struct{ b []byte }

// AddRaw adds key k with raw JSON text as its value.
func (o *JSONObject) AddRaw(k string, raw []byte) {
	if o.b == nil {
		o.b = []byte{'{'}
	} else {
		o.b = append(o.b, ',')
	}
	o.b = appender.AppendJSONString(o.b, k)
	o.b = append(o.b, ':')
	o.b = append(o.b, raw...)
}

// Empty reports whether no key was added.
func (o *JSONObject) Empty() bool { return o.b == nil }

// Bytes is the object's JSON text ({} when empty).
func (o *JSONObject) Bytes() []byte {
	if o.b == nil {
		return []byte("{}")
	}
	return append(o.b, '}')
}
