package migrate

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// SumFile is the name of the chained-hash file beside the migrations.
const SumFile = "dschema.sum"

var fileRE = regexp.MustCompile(`^(\d+)_([a-z0-9_]+)\.sql$`)

// File is one migration file.
type File struct {
	Version int64
	Name    string // file name, e.g. 00001_init.sql
	Data    []byte
}

// Checksum is the hex sha256 of the file's bytes, as recorded when it is applied.
func (f File) Checksum() string {
	h := sha256.Sum256(f.Data)
	return hex.EncodeToString(h[:])
}

// ReadFiles lists the migration files of fsys, sorted by version. Two files
// with one version, or an .sql file whose name is not NNNNN_name.sql, are errors.
func ReadFiles(fsys fs.FS) ([]File, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var files []File
	byVersion := map[int64]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m := fileRE.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %s: name is not NNNNN_name.sql", e.Name())
		}
		v, _ := strconv.ParseInt(m[1], 10, 64)
		if prev, ok := byVersion[v]; ok {
			return nil, fmt.Errorf("migrations %s and %s have the same version %d (two branches each added one?): renumber one and run dschema migrate hash", prev, e.Name(), v)
		}
		byVersion[v] = e.Name()
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		files = append(files, File{Version: v, Name: e.Name(), Data: data})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Version < files[j].Version })
	return files, nil
}

// Sum renders the sum file for files: a first line with the hash of the whole
// chain, then one line per file with the chained hash up to and including it
// (each hash covers the previous one, the file's name and its bytes), so an
// edit, a reorder, an insertion or a removal changes every line after it.
func Sum(files []File) []byte {
	var b strings.Builder
	prev := []byte{}
	var lines []string
	for _, f := range files {
		h := sha256.New()
		h.Write(prev)
		h.Write([]byte(f.Name))
		h.Write([]byte{0})
		h.Write(f.Data)
		prev = h.Sum(nil)
		lines = append(lines, fmt.Sprintf("%s h1:%s", f.Name, base64.StdEncoding.EncodeToString(prev)))
	}
	total := sha256.Sum256(prev)
	fmt.Fprintf(&b, "h1:%s\n", base64.StdEncoding.EncodeToString(total[:]))
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return []byte(b.String())
}

// ErrSum is wrapped by every sum-file verification error.
var ErrSum = errors.New("migrations do not match dschema.sum")

// SumError says how the migrations and the sum file disagree.
type SumError struct {
	Dir  string // shown in messages, e.g. "migrations"
	File string // the first file that disagrees, "" when the sum file itself is at fault
	Msg  string
}

func (e *SumError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("%s/%s: %s", e.Dir, e.File, e.Msg)
	}
	return fmt.Sprintf("%s/%s: %s", e.Dir, SumFile, e.Msg)
}

func (e *SumError) Unwrap() error { return ErrSum }

// VerifySum checks the sum file of fsys against its migration files.
func VerifySum(fsys fs.FS, dir string) error {
	files, err := ReadFiles(fsys)
	if err != nil {
		return err
	}
	got, err := fs.ReadFile(fsys, SumFile)
	if errors.Is(err, fs.ErrNotExist) {
		if len(files) == 0 {
			return nil
		}
		return &SumError{Dir: dir, Msg: "missing: the migrations cannot be verified; if the files are as intended, run dschema migrate hash"}
	}
	if err != nil {
		return err
	}
	want := Sum(files)
	if string(got) == string(want) {
		return nil
	}
	gotLines := strings.Split(strings.TrimSpace(string(got)), "\n")
	wantLines := strings.Split(strings.TrimSpace(string(want)), "\n")
	for i := 1; i < len(wantLines) || i < len(gotLines); i++ {
		switch {
		case i >= len(gotLines):
			return &SumError{Dir: dir, File: nameOf(wantLines[i]), Msg: "not recorded in dschema.sum: added without dschema gen? (run dschema migrate hash if intended)"}
		case i >= len(wantLines):
			return &SumError{Dir: dir, Msg: fmt.Sprintf("records %s, which is missing", nameOf(gotLines[i]))}
		case nameOf(gotLines[i]) != nameOf(wantLines[i]):
			return &SumError{Dir: dir, File: nameOf(wantLines[i]), Msg: fmt.Sprintf("dschema.sum expects %s at this position: migrations were renamed, reordered or inserted", nameOf(gotLines[i]))}
		case gotLines[i] != wantLines[i]:
			return &SumError{Dir: dir, File: nameOf(wantLines[i]), Msg: "edited after dschema.sum was written (a migration must not change once committed; write a new one)"}
		}
	}
	return &SumError{Dir: dir, Msg: "first line (total hash) is wrong: the sum file was edited"}
}

func nameOf(line string) string {
	if i := strings.IndexByte(line, ' '); i >= 0 {
		return line[:i]
	}
	return line
}
