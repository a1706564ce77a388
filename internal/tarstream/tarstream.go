// Package tarstream walks ML evaluation outputs as streams, one regular file
// at a time: a gzip-compressed tarball (possibly multi-stream), a plain tarball,
// or an already-extracted directory. With Options.Nested, tarballs found inside
// are walked too, recursively.
//
// Safety rules. Walk never writes to disk and never extracts anything: each
// member is handed to the callback as an io.Reader over the decompressed stream,
// so memory stays bounded whatever the archive or member size (1 MiB of
// input buffer, about 1 MiB of read-ahead per gzip level, nothing that grows
// with a member). Before the callback can see a member, Walk refuses it with an
// *Error wrapping ErrUnsafe when:
//   - its name is empty or absolute ("/x", `\x`), starts with a Windows drive
//     or UNC prefix ("C:", `\\host`), or has a ".." component (split on both
//     / and \, so `a\..\b` counts);
//   - it is a symbolic link, a hard link, a device, a FIFO, or has a typeflag
//     Walk does not know;
//   - in a directory walk, it is a symbolic link (never followed) or any other
//     non-regular file;
//   - it is an archive nested deeper than Options.MaxDepth.
//
// Directories and PAX global headers are skipped silently. The rules hold at
// every nesting level. Truncated or corrupt gzip or tar data, and non-zero data
// after the tar end-of-archive marker, are errors too. Any error stops the walk.
package tarstream

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/klauspost/pgzip"
)

const (
	defaultMaxDepth = 8
	outerBufSize    = 1 << 20  // bufio size on the file read from disk
	innerBufSize    = 64 << 10 // bufio size on a nested archive
	tickBytes       = 4 << 20  // bytes between ctx checks and Progress calls
	blockSize       = 512      // tar block
	chainSep        = "!/"     // joins nesting levels in Member.Path
)

// Member is one regular file met during a walk.
type Member struct {
	// Path names the file: for a directory walk, its path relative to the root
	// (slash-separated); for an archive, the member name, with each nesting
	// level joined by "!/", e.g.
	// "c4/4M/seed-2/step-1250.tar.gz!/step-1250/arc_easy-predictions.jsonl".
	Path string
	// Chain is the same as separate elements:
	// ["c4/4M/seed-2/step-1250.tar.gz", "step-1250/arc_easy-predictions.jsonl"].
	Chain []string
	// Size is the uncompressed size of this member (from its header or stat).
	Size int64
}

// Options tune a walk.
type Options struct {
	// Nested: members (or files in a directory) whose name ends in .tar.gz,
	// .tgz or .tar are themselves walked as archives (recursively, up to
	// MaxDepth), instead of being handed to fn.
	Nested bool
	// MaxDepth is the nesting limit: the number of "!/" a Member.Path may
	// hold. 0 means 8. Deeper is an error wrapping ErrUnsafe.
	MaxDepth int
	// Progress, when set, is told how many bytes of the outermost input (the
	// file on disk, or for a directory the sum of file sizes read so far) have
	// been consumed, and the total. It is called from the walking goroutine,
	// at most every 4 MiB, and once at the end of a successful walk.
	Progress func(done, total int64)
}

// Error is a problem with the archive or a member.
type Error struct {
	Path   string // the root given to Walk
	Member string // the Member.Path of the member concerned ("" for the archive itself)
	Offset int64  // byte offset in the outermost input where the problem was seen, -1 if unknown
	Msg    string
	Err    error // underlying error (io.ErrUnexpectedEOF, gzip.ErrChecksum, ErrUnsafe, ...)
}

// Error formats e as "root: member M: msg (byte N)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Path + ": ")
	if e.Member != "" {
		b.WriteString("member " + e.Member + ": ")
	}
	b.WriteString(e.Msg)
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " (byte %d)", e.Offset)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrUnsafe is wrapped by every refusal of a member (see the package doc).
var ErrUnsafe = errors.New("unsafe member")

// ErrTruncated is wrapped, together with io.ErrUnexpectedEOF, when the input
// ends early.
var ErrTruncated = errors.New("truncated")

// gunzipFunc opens a gzip stream. Walk uses pgzip; the benchmark swaps in others.
type gunzipFunc func(r *bufio.Reader) (io.ReadCloser, error)

// pgzipOpen decompresses in a read-ahead goroutine, 4 blocks of 256 KiB ahead:
// as fast as pgzip's default 16 x 250 KB in BenchmarkWalk, with a quarter of
// the memory, which is allocated anew for each nested archive.
func pgzipOpen(r *bufio.Reader) (io.ReadCloser, error) {
	z, err := pgzip.NewReaderN(r, 256<<10, 4)
	if err != nil {
		return nil, err
	}
	return z, nil
}

// Walk calls fn for every regular file of root, in archive order (for a
// directory: filepath.WalkDir order). root is a directory, a gzip-compressed
// tar (detected by its magic bytes, possibly multi-stream), or a plain tar.
// r reads the member's content; fn may read all, part or none of it, but not
// after it returns. Walk then drains the rest, so a corruption in the part fn
// skipped is still reported. An error returned by fn stops the walk and is
// returned unchanged; every other error is an *Error.
func Walk(ctx context.Context, root string, opts Options, fn func(m Member, r io.Reader) error) error {
	return walk(ctx, root, opts, fn, pgzipOpen)
}

func walk(ctx context.Context, root string, opts Options, fn func(Member, io.Reader) error, gunzip gunzipFunc) error {
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = defaultMaxDepth
	}
	w := &walker{ctx: ctx, root: root, opts: opts, fn: fn, gunzip: gunzip,
		br: bufio.NewReaderSize(nil, outerBufSize), buf: make([]byte, 64<<10)}
	info, err := os.Stat(root)
	switch {
	case err != nil:
		err = w.fail("", err, "")
	case info.IsDir():
		err = w.walkDir()
	case info.Mode().IsRegular():
		err = w.walkRoot()
	default:
		err = w.fail("", fs.ErrInvalid, "not a directory, tar or gzip file")
	}
	if err == nil && opts.Progress != nil {
		opts.Progress(w.done(), w.total)
	}
	return err
}

// walker is the state of one Walk.
type walker struct {
	ctx    context.Context
	root   string
	opts   Options
	fn     func(Member, io.Reader) error
	gunzip gunzipFunc
	br     *bufio.Reader // over src
	src    *source       // outermost file being read; nil between files
	stack  []io.Closer   // open gzip readers, innermost last; nil once closed
	buf    []byte        // scratch for draining

	total, base int64 // Progress: total, bytes of files finished
	reported    int64 // Progress: done at the last call
	since       int   // bytes read since the last tick
}

// source counts the bytes read from an outermost file. The count is atomic
// because a gzip read-ahead goroutine may be the reader.
type source struct {
	f *os.File
	n atomic.Int64
}

func (s *source) Read(p []byte) (int, error) {
	n, err := s.f.Read(p)
	s.n.Add(int64(n))
	return n, err
}

// stop closes the gzip readers from stack[i] on, innermost first, each once
// (pgzip's Close must not run twice). Closing ends their read-ahead goroutines.
func (w *walker) stop(i int) {
	for j := len(w.stack) - 1; j >= i; j-- {
		if c := w.stack[j]; c != nil {
			w.stack[j] = nil
			_ = c.Close() // its error, if any, was already returned by Read
		}
	}
}

// pop closes and forgets the innermost gzip reader.
func (w *walker) pop() {
	w.stop(len(w.stack) - 1)
	w.stack = w.stack[:len(w.stack)-1]
}

// offset is the number of bytes of the outermost file consumed so far. It
// first stops every read-ahead goroutine, so nothing else reads w.br.
func (w *walker) offset() int64 {
	w.stop(0)
	if w.src == nil {
		return -1
	}
	return w.src.n.Load() - int64(w.br.Buffered())
}

// fail builds the *Error for err met at member; msg defaults to err's text.
// Every error ends the walk, so fail stops the read-ahead to read the offset.
func (w *walker) fail(member string, err error, msg string) *Error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = fmt.Errorf("%w: %w", ErrTruncated, err)
	case errors.Is(err, pgzip.ErrChecksum):
		err = gzip.ErrChecksum
	case errors.Is(err, pgzip.ErrHeader):
		err = gzip.ErrHeader
	}
	if msg == "" {
		msg = err.Error()
	}
	return &Error{Path: w.root, Member: member, Offset: w.offset(), Msg: msg, Err: err}
}

func (w *walker) unsafe(member, format string, args ...any) *Error {
	return w.fail(member, ErrUnsafe, "unsafe: "+fmt.Sprintf(format, args...))
}

// done is the Progress count: bytes of the outermost input consumed.
func (w *walker) done() int64 {
	if w.src == nil {
		return w.base
	}
	return w.base + w.src.n.Load()
}

// tick checks ctx and reports progress; it runs between members and every
// tickBytes read.
func (w *walker) tick(member string) error {
	if err := w.ctx.Err(); err != nil {
		return w.fail(member, err, "")
	}
	if w.opts.Progress != nil {
		if d := w.done(); d-w.reported >= tickBytes {
			w.reported = d
			w.opts.Progress(d, w.total)
		}
	}
	return nil
}

// count adds n bytes read and ticks every tickBytes.
func (w *walker) count(n int, member string) error {
	w.since += n
	if w.since < tickBytes {
		return nil
	}
	w.since = 0
	return w.tick(member)
}

// open opens an outermost file and points w.br at it.
func (w *walker) open(p, member string) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, w.fail(member, err, "")
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, w.fail(member, err, "")
	}
	w.src = &source{f: f}
	w.br.Reset(w.src)
	return f, st, nil
}

// walkRoot walks root as an archive file.
func (w *walker) walkRoot() error {
	f, st, err := w.open(w.root, "")
	if err != nil {
		return err
	}
	defer f.Close()
	w.total = st.Size()
	return w.walkArchive(w.br, nil)
}

// walkArchive walks the gzip'd or plain tar read from br; chain names the
// archive itself (nil for the root).
func (w *walker) walkArchive(br *bufio.Reader, chain []string) error {
	name := strings.Join(chain, chainSep)
	if len(chain) > w.opts.MaxDepth {
		return w.unsafe(name, "archives nested deeper than %d levels", w.opts.MaxDepth)
	}
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		z, err := w.gunzip(br)
		if err != nil {
			return w.fail(name, err, "")
		}
		w.stack = append(w.stack, z)
		defer w.pop()
		return w.walkTar(z, name, chain) // an empty tar inside gzip is tolerated
	}
	// Not gzip: refuse an empty or tiny file rather than walk it as an empty tar.
	if head, err := br.Peek(blockSize); err == io.EOF {
		return w.fail(name, tar.ErrHeader, fmt.Sprintf("not a gzip or tar file (%d bytes)", len(head)))
	} else if err != nil {
		return w.fail(name, err, "")
	}
	return w.walkTar(br, name, chain)
}

// walkTar walks the tar stream data, then checks that only zeros follow its end.
func (w *walker) walkTar(data io.Reader, name string, chain []string) error {
	tr := tar.NewReader(data)
	for {
		if err := w.tick(name); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return w.checkTrailer(data, name)
		}
		if err != nil {
			return w.fail(name, err, "")
		}
		if err := w.member(tr, hdr, chain); err != nil {
			return err
		}
	}
}

// member handles one tar header: refuses, skips, recurses or calls fn.
func (w *walker) member(tr *tar.Reader, hdr *tar.Header, chain []string) error {
	chain = append(chain[:len(chain):len(chain)], hdr.Name)
	m := Member{Path: strings.Join(chain, chainSep), Chain: chain, Size: hdr.Size}
	if why := unsafeName(hdr.Name); why != "" {
		return w.fail(m.Path, ErrUnsafe, "unsafe name ("+why+")")
	}
	switch hdr.Typeflag {
	case tar.TypeDir, tar.TypeXGlobalHeader:
		return nil
	case tar.TypeReg, '\x00': // '\x00' is the old TypeRegA
	case tar.TypeSymlink:
		return w.unsafe(m.Path, "symbolic link to %q", hdr.Linkname)
	case tar.TypeLink:
		return w.unsafe(m.Path, "hard link to %q", hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return w.unsafe(m.Path, "device or FIFO (typeflag %q)", hdr.Typeflag)
	default:
		return w.unsafe(m.Path, "unknown typeflag %q", hdr.Typeflag)
	}
	if w.opts.Nested && isArchiveName(hdr.Name) {
		return w.walkArchive(bufio.NewReaderSize(tr, innerBufSize), chain)
	}
	return w.visit(m, tr)
}

// visit calls fn on m, then drains what fn left unread.
func (w *walker) visit(m Member, r io.Reader) error {
	mr := &memberReader{w: w, r: r, name: m.Path}
	if err := w.fn(m, mr); err != nil {
		return err
	}
	for {
		if _, err := mr.Read(w.buf); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// checkTrailer reads data to its end (which also verifies the gzip trailers)
// and refuses any non-zero byte after the tar end-of-archive marker.
func (w *walker) checkTrailer(data io.Reader, name string) error {
	for {
		n, err := data.Read(w.buf)
		for _, b := range w.buf[:n] {
			if b != 0 {
				return w.fail(name, tar.ErrHeader, "non-zero data after the tar end-of-archive marker")
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return w.fail(name, err, "")
		}
		if err := w.count(n, name); err != nil {
			return err
		}
	}
}

// memberReader is the reader fn gets: it turns errors into *Error naming the
// member, keeps them sticky, and ticks.
type memberReader struct {
	w    *walker
	r    io.Reader
	name string
	err  error
}

func (m *memberReader) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	n, err := m.r.Read(p)
	if err != nil && err != io.EOF {
		m.err = m.w.fail(m.name, err, "")
		return n, m.err
	}
	if terr := m.w.count(n, m.name); terr != nil {
		m.err = terr
		return n, terr
	}
	return n, err
}

// walkDir walks a directory tree in filepath.WalkDir order.
func (w *walker) walkDir() error {
	dir, err := filepath.EvalSymlinks(w.root) // the root may be a link; nothing below it
	if err != nil {
		return w.fail("", err, "")
	}
	if w.opts.Progress != nil {
		w.total = dirSize(dir)
	}
	var stop error
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		stop = w.dirEntry(dir, p, d, err)
		if stop != nil {
			return fs.SkipAll // fn's error may itself be SkipAll: keep it aside
		}
		return nil
	})
	if stop != nil {
		return stop
	}
	return err
}

func (w *walker) dirEntry(dir, p string, d fs.DirEntry, err error) error {
	rel, _ := filepath.Rel(dir, p)
	if rel = filepath.ToSlash(rel); rel == "." {
		rel = ""
	}
	switch {
	case err != nil:
		return w.fail(rel, err, "")
	case d.IsDir():
		return nil
	case d.Type()&fs.ModeSymlink != 0:
		return w.unsafe(rel, "symbolic link")
	case !d.Type().IsRegular():
		return w.unsafe(rel, "not a regular file (%v)", d.Type())
	}
	if err := w.tick(rel); err != nil {
		return err
	}
	return w.dirFile(p, rel, d)
}

// dirFile walks or visits one regular file of a directory walk.
func (w *walker) dirFile(p, rel string, d fs.DirEntry) error {
	f, st, err := w.open(p, rel)
	if err != nil {
		return err
	}
	defer f.Close()
	defer func() { w.src, w.base = nil, w.base+st.Size() }()
	if lst, err := d.Info(); err != nil || !os.SameFile(lst, st) || !st.Mode().IsRegular() {
		return w.unsafe(rel, "changed while walking")
	}
	chain := []string{rel}
	if w.opts.Nested && isArchiveName(rel) {
		return w.walkArchive(w.br, chain)
	}
	return w.visit(Member{Path: rel, Chain: chain, Size: st.Size()}, w.br)
}

// dirSize sums the sizes of the regular files under dir, for Progress.
func dirSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil // errors are reported by the real walk
	})
	return total
}

// isArchiveName reports whether name looks like a tarball.
func isArchiveName(name string) bool {
	name = strings.ToLower(name)
	return strings.HasSuffix(name, ".tar.gz") || strings.HasSuffix(name, ".tgz") || strings.HasSuffix(name, ".tar")
}

// unsafeName says why a member name is unsafe, or "" when it is not.
func unsafeName(name string) string {
	switch {
	case name == "":
		return "empty"
	case name[0] == '/' || name[0] == '\\':
		return "absolute path"
	case len(name) >= 2 && name[1] == ':' && isLetter(name[0]):
		return "Windows drive prefix"
	}
	for _, c := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if c == ".." {
			return "a .. component"
		}
	}
	return ""
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
