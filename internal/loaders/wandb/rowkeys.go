package wandb

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/jsonexact"
)

// checkRowKeys refuses JSON lines that read_json would read as something
// else without a word: a top-level key the reader is not told of
// (h.rowKeys), which it leaves out, and a number too small for a double
// (tinyNumber), which it reads as 0. It is one sequential pass in Go over
// the file's bytes, cheap enough to run while DuckDB inserts (see
// History.Load). A line the scan cannot follow (an unterminated string,
// unbalanced brackets) is left to DuckDB's reader, which refuses the file
// naming the first malformed line; a file with a malformed line before the
// one the scan refuses is refused for that line, as DuckDB would have.
func checkRowKeys(ctx context.Context, path string, h *histSource) error {
	if !h.jsonl {
		return nil
	}
	n, place, msg, err := firstRefusedLine(ctx, path, h.rowKeys)
	if err != nil || n == 0 {
		return err
	}
	if m, why, ok := malformedLine(path); ok && m < n {
		return &loaders.FileError{Path: path, Place: fmt.Sprintf("line %d", m), Msg: "malformed JSON: " + why}
	}
	return &loaders.FileError{Path: path, Place: place, Msg: msg}
}

// refuseTinyNumbers refuses a file of JSON lines that holds a number too
// small for a double (see tinyNumber), naming the first: DuckDB's JSON
// reader would store it as 0.
func refuseTinyNumbers(ctx context.Context, path string) error {
	n, place, msg, err := firstRefusedLine(ctx, path, nil)
	if err != nil || n == 0 {
		return err
	}
	return &loaders.FileError{Path: path, Place: place, Msg: msg}
}

// firstRefusedLine is the first line of a JSONL file (numbered from 1,
// blank lines counted) that holds a number too small for a double, or
// whose object has a top-level key not in keys (when keys is not empty),
// where on it and why; 0 when there is none. The key check stops at the
// first line it cannot follow (see topKeys).
func firstRefusedLine(ctx context.Context, path string, keys []string) (n int, place, why string, err error) {
	var known map[string]bool
	if len(keys) > 0 {
		known = map[string]bool{}
		for _, k := range keys {
			known[k] = true
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, "", "", err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var found string
	unknown := func(k []byte) bool {
		if known[string(k)] {
			return false
		}
		found = string(k)
		return true
	}
	for n = 1; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return 0, "", "", ctx.Err()
		}
		b, err := loaders.ReadLine(r)
		if err != nil && err != io.EOF {
			return 0, "", "", &loaders.FileError{Path: path, Place: fmt.Sprintf("line %d", n), Msg: err.Error(), Err: err}
		}
		if lit, at := tinyNumber(b); lit != nil {
			return n, fmt.Sprintf("line %d (byte %d)", n, at), fmt.Sprintf("the number %s is too small for a double: DuckDB's JSON reader would store it as 0 (write 0 if that is what it means)", lit), nil
		}
		if known != nil {
			stop, ok := topKeys(b, unknown)
			switch {
			case stop:
				return n, fmt.Sprintf("line %d", n), fmt.Sprintf("key %q is not one of %s (this layout has no place for it)", found, strings.Join(keys, ", ")), nil
			case !ok:
				known = nil // a line the key check cannot follow: DuckDB's reader refuses the file
			}
		}
		if err == io.EOF {
			return 0, "", "", nil
		}
	}
}

// tinyNumber finds a number on a JSON line that is too small for a double
// (its mantissa is not 0 but it reads as 0: 1e-400), which DuckDB's JSON
// reader stores as 0, and returns its text and its byte offset; nil when
// there is none. Only a number with a negative exponent of three digits or
// more, or one written with more than 200 zeros (0.000…1), can be so
// small: a line with neither (found without a parse) is passed at once.
func tinyNumber(b []byte) ([]byte, int) {
	if !mayHoldTiny(b) {
		return nil, 0
	}
	var lit []byte
	at := 0
	loaders.ScanTokens(b, func(i int) int {
		if lit != nil {
			return len(b) - i
		}
		if c := b[i]; c != '-' && (c < '0' || c > '9') || loaders.IdentByte(b, i-1) {
			return 1
		}
		j := i + 1
		for j < len(b) && strings.IndexByte("0123456789.eE+-", b[j]) >= 0 {
			j++
		}
		if t := b[i:j]; len(t) > 1 || t[0] != '-' {
			if f, err := jsonexact.Float(t); err == nil && jsonexact.Underflows(t, f) {
				lit, at = t, i
			}
		}
		return j - i
	})
	return lit, at
}

// mayHoldTiny reports whether b has an exponent of "e-" or "E-" and three
// digits, or 64 zeros in a row: a number too small for a double has one or
// the other (with an exponent above -100 it needs more than 200 zeros).
func mayHoldTiny(b []byte) bool {
	for i := 1; i < len(b); {
		k := bytes.IndexByte(b[i:], '-')
		if k < 0 {
			break
		}
		i += k
		if c := b[i-1]; (c == 'e' || c == 'E') && i+3 < len(b) && isDigit(b[i+1]) && isDigit(b[i+2]) && isDigit(b[i+3]) {
			return true
		}
		i++
	}
	// A run of 64 zeros or more holds 32 of them from a multiple of 32:
	// looking there only is cheaper than bytes.Contains on text full of 0s.
	for i := 0; i+32 <= len(b); i += 32 {
		if b[i] == '0' && bytes.Equal(b[i:i+32], thirtyTwoZeros) {
			return true
		}
	}
	return false
}

var thirtyTwoZeros = bytes.Repeat([]byte("0"), 32)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// topKeys calls f with each top-level key of the JSON object on line b
// (unescaped), until f returns true (stop). Nested objects' keys and
// string values are skipped. ok is false when the line is not a JSON
// object it can follow: a line that does not start with {, an
// unterminated string, unbalanced brackets or text after the object. It
// does not check the rest of JSON's grammar: DuckDB's reader does.
func topKeys(b []byte, f func(key []byte) bool) (stop, ok bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return false, true
	}
	if b[0] != '{' {
		return false, false
	}
	depth, expectKey := 0, false
	for i := 0; i < len(b); i++ {
		for i < len(b) && !structural[b[i]] { // numbers, words, spaces, colons
			i++
		}
		if i == len(b) {
			break
		}
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

// structural marks the bytes topKeys stops at.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true, ',': true}

// stringEnd is the index of the quote that closes the string whose text
// starts at b[from], -1 when the line ends first.
func stringEnd(b []byte, from int) int {
	for j := from; j < len(b); {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		// A backslash before the quote may escape it.
		if e := bytes.IndexByte(b[j:j+k], '\\'); e >= 0 {
			j += e + 2 // a backslash and the character it escapes
			continue
		}
		return j + k
	}
	return -1
}

// keyText is a quoted key's text, its escapes undone as JSON's (a key
// with an escape that is not JSON's is kept as written); without escapes,
// the key's own bytes.
func keyText(q []byte) []byte {
	if bytes.IndexByte(q, '\\') < 0 {
		return q[1 : len(q)-1]
	}
	var s string
	if json.Unmarshal(q, &s) != nil {
		return q[1 : len(q)-1]
	}
	return []byte(s)
}

// refuseTinyCells refuses a parquet file with a text (or JSON) cell that
// holds a JSON object or array with a number too small for a double (see
// tinyNumber), naming the first by row (from 1), column and byte: the
// loaders read such cells with DuckDB's JSON functions, which read the
// number as 0. DuckDB finds the few cells that may hold one (mayHoldTiny's
// test, as a regular expression); tinyNumber decides. A cell that is not
// a JSON object or array is kept as text, so it is not looked at.
func refuseTinyCells(ctx context.Context, conn *sql.Conn, path string, cols []loaders.FileColumn) error {
	var parts []string
	for i, c := range cols {
		if c.Name == "file_row_number" {
			return nil // the layouts refuse the file: the reader needs that name
		}
		if c.Type != "VARCHAR" && c.Type != "JSON" {
			continue
		}
		x := fmt.Sprintf("CAST(%s AS VARCHAR)", dbschema.Ident(c.Name))
		parts = append(parts, fmt.Sprintf(`SELECT file_row_number + 1 AS r, %[1]d AS c, %[2]s AS t FROM read_parquet(%[3]s, file_row_number = true)
			WHERE regexp_matches(%[2]s, '[eE]-[0-9]{3}|0{64}') AND json_valid(%[2]s) AND json_type(%[2]s) IN ('OBJECT', 'ARRAY')`,
			i, x, dbschema.Literal(path)))
	}
	if len(parts) == 0 {
		return nil
	}
	rows, err := conn.QueryContext(ctx, strings.Join(parts, " UNION ALL ")+" ORDER BY r, c")
	if err != nil {
		return &loaders.FileError{Path: path, Msg: "reading the text columns: " + duckMessage(err), Err: err}
	}
	defer rows.Close()
	for rows.Next() {
		var r int64
		var c int
		var t []byte
		if err := rows.Scan(&r, &c, &t); err != nil {
			return err
		}
		if lit, at := tinyNumber(t); lit != nil {
			return &loaders.FileError{Path: path, Place: fmt.Sprintf("row %d, column %s (byte %d of the cell)", r, cols[c].Name, at),
				Msg: fmt.Sprintf("the number %s is too small for a double: DuckDB's JSON functions would read it as 0 (write 0 if that is what it means)", lit)}
		}
	}
	return rows.Err()
}
