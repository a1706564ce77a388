package wandb

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dschema/dschema/internal/loaders"
)

// checkRowKeys refuses JSON lines with a top-level key the reader is not
// told of (h.rowKeys): read_json would leave it out without a word. It is
// one sequential pass in Go over the file's bytes, cheap enough to run
// while DuckDB inserts (see History.Load). A line the scan cannot follow
// (an unterminated string, unbalanced brackets) is left to DuckDB's
// reader, which refuses the file naming the first malformed line; a file
// with a malformed line before the one with the key is refused for that
// line, as DuckDB would have.
func checkRowKeys(ctx context.Context, path string, h *histSource) error {
	if len(h.rowKeys) == 0 {
		return nil
	}
	known := map[string]bool{}
	for _, k := range h.rowKeys {
		known[k] = true
	}
	n, key, err := firstUnknownKey(ctx, path, known)
	if err != nil || n == 0 {
		return err
	}
	if m, why, ok := malformedLine(path); ok && m < n {
		return &loaders.FileError{Path: path, Place: fmt.Sprintf("line %d", m), Msg: "malformed JSON: " + why}
	}
	return &loaders.FileError{Path: path, Place: fmt.Sprintf("line %d", n),
		Msg: fmt.Sprintf("key %q is not one of %s (this layout has no place for it)", key, strings.Join(h.rowKeys, ", "))}
}

// firstUnknownKey is the first line of a JSONL file (numbered from 1,
// blank lines counted) whose object has a top-level key not in known, and
// that key; 0 when there is none. It stops at the first line it cannot
// follow (see topKeys).
func firstUnknownKey(ctx context.Context, path string, known map[string]bool) (int, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var found string
	unknown := func(k string) bool {
		if known[k] {
			return false
		}
		found = k
		return true
	}
	for n := 1; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return 0, "", ctx.Err()
		}
		b, err := loaders.ReadLine(r)
		if err != nil && err != io.EOF {
			return 0, "", &loaders.FileError{Path: path, Place: fmt.Sprintf("line %d", n), Msg: err.Error(), Err: err}
		}
		stop, ok := topKeys(b, unknown)
		switch {
		case stop:
			return n, found, nil
		case !ok:
			return 0, "", nil
		case err == io.EOF:
			return 0, "", nil
		}
	}
}

// topKeys calls f with each top-level key of the JSON object on line b
// (unescaped), until f returns true (stop). Nested objects' keys and
// string values are skipped. ok is false when the line is not a JSON
// object it can follow: a line that does not start with {, an
// unterminated string, unbalanced brackets or text after the object. It
// does not check the rest of JSON's grammar: DuckDB's reader does.
func topKeys(b []byte, f func(key string) bool) (stop, ok bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return false, true
	}
	if b[0] != '{' {
		return false, false
	}
	depth, expectKey := 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			end := stringEnd(b, i+1)
			if end < 0 {
				return false, false
			}
			if depth == 1 && expectKey {
				expectKey = false
				if f(keyText(b[i : end+1])) {
					return true, true
				}
			}
			i = end
		case '{', '[':
			depth++
			expectKey = depth == 1
		case '}', ']':
			depth--
			if depth < 0 {
				return false, false
			}
			if depth == 0 && len(bytes.TrimSpace(b[i+1:])) > 0 {
				return false, false
			}
		case ',':
			expectKey = depth == 1
		}
	}
	return false, depth == 0
}

// stringEnd is the index of the quote that closes the string whose text
// starts at b[from], -1 when the line ends first.
func stringEnd(b []byte, from int) int {
	for j := from; j < len(b); {
		k := bytes.IndexAny(b[j:], `"\`)
		if k < 0 {
			return -1
		}
		if b[j+k] == '"' {
			return j + k
		}
		j += k + 2 // a backslash and the character it escapes
	}
	return -1
}

// keyText is a quoted key's text, its escapes undone as JSON's (a key
// with an escape that is not JSON's is kept as written).
func keyText(q []byte) string {
	if bytes.IndexByte(q, '\\') < 0 {
		return string(q[1 : len(q)-1])
	}
	var s string
	if json.Unmarshal(q, &s) != nil {
		return string(q[1 : len(q)-1])
	}
	return s
}
