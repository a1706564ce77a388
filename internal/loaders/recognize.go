package loaders

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Recognizer is a loader (or a check, RegisterVerifier) that tells its
// files by content, for dschema load without a kind (Plan). The engine
// reads a file's head once and tells its format by its magic bytes
// (Sniff); Recognize then looks at the format first and runs the kind's
// own layout detection, the one its Load uses, never a second copy.
//
// Recognize returns the layout of the file p probes, or "" when it is not
// one of the kind's files. It reads no more than it needs to tell the
// layout (the head, the parquet schema through p.Columns, a tarball's
// first members), and writes nothing: p.Conn is outside any transaction.
// It may say, with p.Decline, why a file of its format is not its own,
// when that helps the user more than the format alone. A non-nil error
// is the machine's or the database's, not the file's.
type Recognizer interface {
	Recognize(ctx context.Context, p *Probe) (layout string, err error)
}

// Dependent is a loader (or check) whose loads must come after those of
// other kinds in a plan: wandb-history after wandb-runs, a check of the
// seed aggregates after datadecide. Plan orders the kinds topologically.
type Dependent interface {
	// After lists the kinds whose files are loaded before this kind's.
	After() []string
}

// Format is what a file's first bytes say it is.
type Format string

// The formats Sniff tells.
const (
	FormatEmpty   Format = "empty"
	FormatParquet Format = "parquet"
	FormatGzip    Format = "gzip"
	FormatTar     Format = "tar"
	FormatPickle  Format = "pickle"
	FormatJSON    Format = "JSON"
	FormatUnknown Format = "unknown"
	FormatDir     Format = "folder"
)

// HeadSize is how much of a file the engine reads to sniff it.
const HeadSize = 4096

// Sniff tells a file's format from its first bytes (head, up to
// HeadSize): parquet by its PAR1 magic, gzip by 1f 8b, a tar by "ustar" at
// byte 257, a pickle of protocol 2 to 5 by its PROTO opcode (80 02 … 80
// 05; protocols 0 and 1 carry no magic), JSON by a first non-blank
// character { or [ (after a UTF-8 byte order mark, which the JSON loaders
// then refuse by name).
func Sniff(head []byte) Format {
	switch {
	case len(head) == 0:
		return FormatEmpty
	case bytes.HasPrefix(head, []byte("PAR1")):
		return FormatParquet
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return FormatGzip
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return FormatTar
	case len(head) >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5:
		return FormatPickle
	}
	t := bytes.TrimPrefix(head, []byte("\ufeff"))
	t = bytes.TrimLeft(t, " \t\r\n")
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return FormatJSON
	}
	return FormatUnknown
}

// Probe is one file (or folder) being recognised: its head, its format,
// and a connection to the database for DuckDB's readers.
type Probe struct {
	Path   string    // absolute
	Size   int64     // bytes (for a folder, 0)
	Head   []byte    // the first HeadSize bytes (nil for a folder)
	Format Format    // Sniff(Head), or FormatDir
	Conn   *sql.Conn // the engine's connection; outside any transaction; read only

	cols     []FileColumn
	colsErr  error
	colsRead bool
	declined []string
	damaged  []string
}

// Columns reads a parquet file's columns once (DESCRIBE through DuckDB's
// reader), for every recognizer that asks.
func (p *Probe) Columns(ctx context.Context) ([]FileColumn, error) {
	if !p.colsRead {
		p.cols, p.colsErr = ParquetColumns(ctx, p.Conn, p.Path)
		p.colsRead = true
	}
	return p.cols, p.colsErr
}

// Decline records why the file is not the recognizer's own, for the plan's
// "not recognised" line.
func (p *Probe) Decline(why string) { p.declined = append(p.declined, why) }

// Damaged records that the file is of a format the recognizer reads but
// cannot be read as it is (a truncated gzip, a broken tar header): when no
// kind claims it, the plan refuses it, naming why, instead of calling it
// not recognised.
func (p *Probe) Damaged(why string) { p.damaged = append(p.damaged, why) }

// newProbe reads the head of the file at abs and sniffs it.
func newProbe(abs string, size int64, conn *sql.Conn) (*Probe, error) {
	f, err := os.Open(abs)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, HeadSize)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("read %s: %w", abs, err)
	}
	head = head[:n]
	return &Probe{Path: abs, Size: size, Head: head, Format: Sniff(head), Conn: conn}, nil
}

// kindClaim is one kind's claim on a file.
type kindClaim struct{ kind, layout string }

// recognizers lists the registered loaders and checks that recognise
// files, by kind.
func recognizers() map[string]Recognizer {
	out := map[string]Recognizer{}
	for k, l := range registry {
		if r, ok := l.(Recognizer); ok {
			out[k] = r
		}
	}
	for k, v := range verifiers {
		if r, ok := v.(Recognizer); ok {
			out[k] = r
		}
	}
	return out
}

// recognize asks every recognizer, in kind order, about p and returns their claims.
func recognize(ctx context.Context, p *Probe) ([]kindClaim, error) {
	rs := recognizers()
	var out []kindClaim
	for _, k := range slices.Sorted(maps.Keys(rs)) {
		layout, err := rs[k].Recognize(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("recognise %s as %s: %w", p.Path, k, err)
		}
		if layout != "" {
			out = append(out, kindClaim{k, layout})
		}
	}
	return out, nil
}

// ErrDamaged is the error of a file that no kind claims because it cannot
// be read as the format its first bytes say (Probe.Damaged, unrecognised):
// a plan refuses it.
var ErrDamaged = errors.New("damaged file")

// Recognize tells the kind and layout of the file or folder at path by
// its content, as a plan does: kind "" when nothing claims it, with the
// reason. Two kinds claiming it is an error naming both; a damaged file is
// a *FileError wrapping ErrDamaged.
func (e *Engine) Recognize(ctx context.Context, path string) (kind, layout, reason string, err error) {
	conn, err := e.DB.Conn(ctx)
	if err != nil {
		return "", "", "", err
	}
	defer conn.Close()
	p, err := probePath(path, conn)
	if err != nil {
		return "", "", "", err
	}
	claims, err := recognize(ctx, p)
	if err != nil {
		return "", "", "", err
	}
	switch len(claims) {
	case 0:
		why, damaged := unrecognised(ctx, p)
		if damaged {
			return "", "", "", &FileError{Path: path, Msg: why, Err: ErrDamaged}
		}
		return "", "", why, nil
	case 1:
		return claims[0].kind, claims[0].layout, "", nil
	}
	return "", "", "", conflict(path, claims)
}

// probePath probes a file or folder given by path.
func probePath(path string, conn *sql.Conn) (*Probe, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, &FileError{Path: path, Msg: err.Error(), Err: err}
	}
	if fi.IsDir() {
		return &Probe{Path: abs, Format: FormatDir, Conn: conn}, nil
	}
	return newProbe(abs, fi.Size(), conn)
}

// conflict is the error of a file two kinds claim: a loader's recognition
// is too loose, which the conformance kit is there to catch.
func conflict(path string, claims []kindClaim) error {
	var names []string
	for _, c := range claims {
		names = append(names, fmt.Sprintf("%s (layout %s)", c.kind, c.layout))
	}
	return &FileError{Path: path, Msg: "claimed by more than one kind: " + strings.Join(names, " and ") + "; load it with its kind (dschema load <kind> <path>)"}
}

// unrecognised says why nothing claimed p, from its format, and whether
// the file is damaged: a parquet file DuckDB cannot read, JSON that is
// neither JSON lines nor one JSON document, or what a recognizer called
// damaged. The plan refuses a damaged file (bad input is an error); a file
// that is merely no loader's own is listed as not recognised.
func unrecognised(ctx context.Context, p *Probe) (why string, damaged bool) {
	switch p.Format {
	case FormatEmpty:
		return "empty file", false
	case FormatParquet:
		cols, err := p.Columns(ctx)
		if err != nil {
			var fe *FileError
			msg := err.Error()
			if errors.As(err, &fe) {
				msg = fe.Msg
			}
			return "parquet that DuckDB cannot read: " + msg, true
		}
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = c.Name
		}
		why = "parquet whose columns match no loader (" + Examples(names, 8) + ")"
	case FormatJSON:
		doc, bad := jsonShape(p.Path)
		switch {
		case bad != "":
			return bad, true
		case doc:
			why = "one JSON document over several lines (not JSON lines), which no loader reads (starts " + quoteHead(bytes.TrimLeft(p.Head, " \t\r\n"), 40) + ")"
		default:
			why = "JSON whose first line matches no loader (starts " + quoteHead(bytes.TrimLeft(p.Head, " \t\r\n"), 40) + ")"
		}
	case FormatGzip, FormatTar:
		why = string(p.Format) + " holding nothing a loader reads"
	case FormatPickle:
		why = "a pickle no loader reads"
	case FormatDir:
		why = "a folder"
	default:
		why = fmt.Sprintf("starts with bytes % x (no magic a loader knows: parquet, gzip, tar, pickle protocol 2-5, JSON)", p.Head[:min(8, len(p.Head))])
	}
	if len(p.damaged) > 0 {
		return why + ": " + strings.Join(slices.Compact(p.damaged), "; "), true
	}
	if len(p.declined) > 0 {
		why += ": " + strings.Join(p.declined, "; ")
	}
	return why, false
}

// jsonShape tells JSON lines from one JSON document spread over lines
// (doc), and says why the file at path is damaged (bad): a byte order mark
// (which the JSON loaders refuse), or a first line that is not one JSON
// value (NaN and Infinity allowed, as Python writes them) in a file that
// is not one JSON document either (read as tokens, not held).
func jsonShape(path string) (doc bool, bad string) {
	f, err := os.Open(path)
	if err != nil {
		return false, err.Error()
	}
	defer f.Close()
	r := bufio.NewReader(f)
	n, line := 0, []byte(nil)
	for len(bytes.TrimSpace(line)) == 0 {
		if line, err = ReadLine(r); err != nil && (err != io.EOF || len(line) == 0) {
			return false, fmt.Sprintf("line %d: %v", n+1, err)
		}
		n++
	}
	if bytes.HasPrefix(line, []byte("\ufeff")) {
		return false, "line 1: starts with a UTF-8 byte order mark, which the JSON loaders refuse (remove it)"
	}
	var v json.RawMessage
	jerr := json.Unmarshal(PyJSON(line), &v)
	if jerr == nil {
		return false, ""
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, err.Error()
	}
	if oneJSONDocument(f) {
		return true, ""
	}
	return false, fmt.Sprintf("line %d: malformed JSON: %v", n, jerr)
}

// oneJSONDocument reports whether r holds exactly one JSON value, read
// token by token.
func oneJSONDocument(r io.Reader) bool {
	d := json.NewDecoder(r)
	depth := 0
	for {
		t, err := d.Token()
		if err != nil {
			return false
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			_, err := d.Token()
			return err == io.EOF
		}
	}
}

// quoteHead quotes at most n bytes of b, as Go would.
func quoteHead(b []byte, n int) string {
	if len(b) > n {
		return fmt.Sprintf("%q…", b[:n])
	}
	return fmt.Sprintf("%q", b)
}
