package wandb

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/dschema/dschema/internal/loaders"
)

// Python's json.dumps writes the bare tokens NaN, Infinity and -Infinity,
// which DuckDB's JSON reader accepts and Go's encoding/json does not. The
// loaders let DuckDB read the data; Go reads only the first line (to tell
// the layout) and, after DuckDB refused a file, every line (to name the
// first malformed one, where DuckDB names the line its parser stopped on).

// eachLine calls f with every non-blank line of path (numbered from 1,
// Without its newline) until f returns true, and returns that line's
// number (0 when f never did). A line it cannot read (longer than
// MaxJSONLine) is an error with its number.
func eachLine(path string, f func(n int, line []byte) bool) (int, error) {
	file, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer file.Close()
	r := bufio.NewReaderSize(file, 1<<20)
	for n := 1; ; n++ {
		b, err := loaders.ReadLine(r)
		if err != nil && err != io.EOF {
			return n, err
		}
		if len(bytes.TrimSpace(b)) > 0 && f(n, b) {
			return n, nil
		}
		if err == io.EOF {
			return 0, nil
		}
	}
}

// utf8BOM is the UTF-8 byte order mark some editors write at a file's start.
var utf8BOM = []byte("\ufeff")

// refuseBOM refuses a file that starts with a UTF-8 byte order mark, which
// DuckDB's JSON reader refuses (naming the wrong line). The loaders read
// the file as it is, so the mark is named and left to the user to remove.
func refuseBOM(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, len(utf8BOM))
	if n, _ := io.ReadFull(f, head); n == len(head) && bytes.Equal(head, utf8BOM) {
		return &loaders.FileError{Path: path, Place: "line 1 (byte 0)", Msg: "starts with a UTF-8 byte order mark (bytes EF BB BF), which DuckDB's JSON reader does not take: remove it (sed -i '1s/^\\xEF\\xBB\\xBF//' FILE) and load again"}
	}
	return nil
}

// jsonlLine is the line number of the rec-th (from 1) non-blank line of
// path: DuckDB's JSON readers number records without blank lines. It
// returns rec when the file has fewer lines.
func jsonlLine(path string, rec int64) int64 {
	var k int64
	n, err := eachLine(path, func(int, []byte) bool {
		k++
		return k == rec
	})
	if err != nil || n == 0 {
		return rec
	}
	return int64(n)
}

// firstJSONLine decodes the first non-blank line of a JSONL file. It
// returns the value and its 1-based line number. A leading byte order mark
// is refused (refuseBOM).
func firstJSONLine(path string) (json.RawMessage, int, error) {
	if err := refuseBOM(path); err != nil {
		return nil, 1, err
	}
	var v json.RawMessage
	var jerr error
	n, err := eachLine(path, func(_ int, line []byte) bool {
		jerr = json.Unmarshal(loaders.PyJSON(line), &v)
		return true
	})
	switch {
	case err != nil:
		return nil, n, err
	case n == 0:
		return nil, 0, &loaders.FileError{Path: path, Msg: "no JSON lines"}
	case jerr != nil:
		return nil, n, &loaders.FileError{Path: path, Place: fmt.Sprintf("line %d", n), Msg: "malformed JSON: " + jerr.Error(), Err: jerr}
	}
	return v, n, nil
}

// malformedLine finds the first non-blank line of path that is not one JSON
// value, and says why; ok is false when every line is well formed.
func malformedLine(path string) (line int, why string, ok bool) {
	n, err := eachLine(path, func(_ int, b []byte) bool {
		dec := json.NewDecoder(bytes.NewReader(loaders.PyJSON(b)))
		var v json.RawMessage
		if derr := dec.Decode(&v); derr != nil {
			why = derr.Error()
			return true
		}
		if _, derr := dec.Token(); derr != io.EOF {
			why = "more than one JSON value on the line"
			return true
		}
		return false
	})
	switch {
	case err != nil && n > 0:
		return n, err.Error(), true
	case err != nil:
		return 0, "", false
	}
	return n, why, n > 0
}

// longestLine is the length in bytes of path's longest line.
func longestLine(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	longest, cur := 0, 0
	for {
		n, err := f.Read(buf)
		for _, b := range buf[:n] {
			if b == '\n' {
				longest, cur = max(longest, cur), 0
			} else {
				cur++
			}
		}
		if err == io.EOF {
			return max(longest, cur), nil
		}
		if err != nil {
			return 0, err
		}
	}
}

var transformError = regexp.MustCompile(`JSON transform error in file "[^"]*", in line (\d+): (.*)`)

// jsonReadError turns DuckDB's error reading a JSONL file into a FileError
// naming the first malformed line.
func jsonReadError(path string, err error) error {
	if n, why, ok := malformedLine(path); ok {
		return &loaders.FileError{Path: path, Place: fmt.Sprintf("line %d", n), Msg: "malformed JSON: " + why, Err: err}
	}
	// Well-formed, but not the shape the reader was told (metrics not an
	// object): DuckDB names the line.
	if m := transformError.FindStringSubmatch(err.Error()); m != nil {
		return &loaders.FileError{Path: path, Place: "line " + m[1], Msg: "not the layout's shape: " + loaders.FirstLine(m[2]), Err: err}
	}
	return &loaders.FileError{Path: path, Msg: "reading JSON lines: " + duckMessage(err), Err: err}
}

// isJSONL tells a JSON-lines file from a parquet file by its first bytes
// (blank lines may come first).
func isJSONL(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if bytes.HasPrefix(head, []byte("PAR1")) {
		return false, nil
	}
	if t := bytes.TrimLeft(head, " \t\r\n\ufeff"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return true, nil
	}
	return false, &loaders.FileError{Path: path, Msg: "neither parquet (no PAR1 magic) nor JSON lines (does not start with { or [)"}
}

// duckMessage is the first line of a DuckDB error, without the "Invalid
// Input Error: " that DuckDB puts before the messages loaders raise with
// error() (they name their place themselves).
func duckMessage(err error) string {
	return strings.TrimPrefix(loaders.FirstLine(err.Error()), "Invalid Input Error: ")
}
