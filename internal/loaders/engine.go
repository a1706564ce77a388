package loaders

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/internal/tarstream"
	"github.com/dschema/dschema/internal/version"
	"github.com/dschema/dschema/migrations"
)

// Loader loads one kind of legacy file.
type Loader interface {
	// Kind is the name used on the command line, e.g. "datadecide".
	Kind() string
	// Short describes the accepted files in one line.
	Short() string
	// Load reads l.Source inside l's transaction and writes rows with l.ID as load_id.
	Load(ctx context.Context, l *Load) (*Report, error)
}

var registry = map[string]Loader{}

// Register makes a loader available by its kind; a loader package calls it
// from its init. It panics when the kind is empty or already registered (by
// a loader or a verifier): two packages claiming one kind is a programming
// error that must not be settled by import order.
func Register(l Loader) {
	claim("Register", l.Kind(), l)
	registry[l.Kind()] = l
}

// claim panics when kind is empty or already taken by a loader or a
// verifier; fn names the registering function, v what registers.
func claim(fn, kind string, v any) {
	if kind == "" {
		panic(fmt.Sprintf("loaders.%s: %T has an empty kind", fn, v))
	}
	if old, ok := registry[kind]; ok {
		panic(fmt.Sprintf("loaders.%s: kind %q registered twice (%T and %T)", fn, kind, old, v))
	}
	if old, ok := verifiers[kind]; ok {
		panic(fmt.Sprintf("loaders.%s: kind %q registered twice (%T and %T)", fn, kind, old, v))
	}
}

// Kinds lists the registered loader kinds, sorted.
func Kinds() []string { return slices.Sorted(maps.Keys(registry)) }

// Lookup returns the loader of a kind.
func Lookup(kind string) (Loader, error) {
	l, ok := registry[kind]
	if !ok {
		return nil, fmt.Errorf("unknown load kind %q (known: %s)", kind, strings.Join(Kinds(), ", "))
	}
	return l, nil
}

// Source is the file being loaded.
type Source struct {
	Path string // absolute
	Key  string // logical source (the absolute path unless named)
	Size int64
	// SHA256 is the content's hash, or "" while the loader runs when the
	// engine reads it beside the load (a source whose size no current load
	// of its kind has); the load records it either way.
	SHA256 string
}

// Load is one load in progress.
type Load struct {
	Conn     *sql.Conn // inside the load's transaction
	ID       int64
	Source   Source
	Strict   bool
	SourceTZ string // zone of naive local timestamps in the file ("" for UTC)
	progress func(stage string)
	// ReadProgress, when set, is told how many bytes of the source were read (streaming loaders).
	ReadProgress func(done, total int64)
}

// Stage reports progress (a step of the load) to the user.
func (l *Load) Stage(stage string) {
	if l.progress != nil {
		l.progress(stage)
	}
}

// Report is what a loader says about one load.
type Report struct {
	Variant string           // the detected layout
	Rows    map[string]int64 // rows written per table
	Skipped []Skip           // what was left out, and why
	Kept    []Skip           // what was kept aside (e.g. unknown metric columns in an overflow column)
	Notes   []string
	Varying []VaryingKey // keys whose type varies across the file's rows
}

// Bundler is a loader whose file brings sibling files with it (the
// runs_metadata_<component>.parquet companions of a runs file): the load's
// sha256 covers them all, so a changed companion is a changed source.
type Bundler interface {
	// Companions lists the files loaded with path.
	Companions(path string) ([]string, error)
	// PartOf names the file that loads path as its companion, or "".
	PartOf(path string) string
}

// MemoryLimiter is a loader that declares the DuckDB memory limit its loads
// run under when the user names none (dschema load's --memory-limit).
type MemoryLimiter interface {
	// DefaultMemoryLimit is the limit, in DuckDB's syntax ("600MB").
	DefaultMemoryLimit() string
}

// ThreadLimiter is a loader that runs its loads on fewer DuckDB threads
// than the machine's cores, when that is measured to be faster or leaner
// (DataDecide's 1,887-column inserts: each thread buffers every column).
type ThreadLimiter interface {
	// LoadThreads is the number of DuckDB threads a load runs on.
	LoadThreads() int
}

// FallbackMemoryLimit is the memory limit of a load whose loader declares
// none (MemoryLimiter) and whose user names none.
const FallbackMemoryLimit = "3GB"

// DefaultMemoryLimit is the memory limit a load of kind runs under when the
// user names none: the one its loader declares, else FallbackMemoryLimit.
func DefaultMemoryLimit(kind string) string {
	if m, ok := registry[kind].(MemoryLimiter); ok {
		return m.DefaultMemoryLimit()
	}
	return FallbackMemoryLimit
}

// OptionReader is a loader that reads load options beyond the common ones
// (source, strict, memory limit). The engine refuses such an option for a
// kind that does not declare it.
type OptionReader interface {
	// ReadsOptions maps each option it reads, by its flag name
	// ("source-tz"), to what the option applies to, for messages.
	ReadsOptions() map[string]string
}

// CheckOptions refuses the load options that kind does not read: those
// its loader does not declare (OptionReader), and every one for a check
// (CheckKinds), which loads nothing. Engine.Load calls it; a command calls
// it before it opens the database.
func CheckOptions(kind string, opts Options) error {
	return checkOptions(kind, registry[kind], opts)
}

// checkOptions refuses options the loader of kind (nil for a check) does
// not read.
func checkOptions(kind string, l Loader, opts Options) error {
	if opts.SourceTZ == "" {
		return nil
	}
	const flag = "source-tz"
	if r, ok := l.(OptionReader); ok {
		if _, ok := r.ReadsOptions()[flag]; ok {
			return nil
		}
	}
	var readers []string
	for _, k := range Kinds() {
		if r, ok := registry[k].(OptionReader); ok {
			if what, ok := r.ReadsOptions()[flag]; ok {
				readers = append(readers, fmt.Sprintf("%s (%s)", k, what))
			}
		}
	}
	if len(readers) == 0 {
		return fmt.Errorf("--%s is read by no registered kind, not by %s", flag, kind)
	}
	return fmt.Errorf("--%s is for %s, not for %s", flag, strings.Join(readers, ", "), kind)
}

// DirLoader is a loader that also takes a directory tree as one source
// (the extracted folders and dumps of QA outputs). The source's sha256
// covers every file's path and content.
type DirLoader interface {
	LoadsDirs() bool
}

// Skip is something a loader did not load as such.
type Skip struct {
	What   string `json:"what"`
	Count  int64  `json:"count"`
	Reason string `json:"reason"`
}

// Options tune one load.
type Options struct {
	Source string // logical source; the absolute path when empty
	Strict bool   // refuse what the loader would otherwise keep aside or skip
	// SourceTZ is the time zone of naive local timestamps in the file (the
	// canonical W&B history); "" reads them as UTC. A load of the same
	// content with another zone replaces the earlier one.
	SourceTZ string
	// Progress, when set, is told each stage of the load.
	Progress func(stage string)
	// ReadProgress, when set, is told how many bytes of the source a
	// streaming loader has read, of how many.
	ReadProgress func(done, total int64)
	// HashProgress, when set, is told how many bytes of the file were hashed.
	HashProgress func(done, total int64)
	// MemoryLimit bounds DuckDB's memory during the load, in DuckDB's
	// syntax ("4GB"); "" keeps DuckDB's default (80% of RAM). DuckDB spills
	// what it can to its temporary directory, but a transaction's insert
	// into a wide table holds up to a row group in memory (for
	// pretrain_evals about 15 KB a row): a limit below that fails the load
	// with DuckDB's out-of-memory error, and changes nothing.
	MemoryLimit string
	// Fraction, when set, is told how far (0 to 1) DuckDB says the running
	// statement of a stage is, polled every PollEvery (default 200 ms).
	Fraction  func(stage string, fraction float64)
	PollEvery time.Duration
	// FailAt is a test hook, called at each point of a load: "removed"
	// (the previous version's rows are gone), "written" (every row is in),
	// "recorded" (the dschema_loads row is in, just before COMMIT). A non-nil
	// error it returns aborts the load there.
	FailAt func(point string, l *Load) error
}

func (o *Options) failAt(point string, l *Load) error {
	if o.FailAt == nil {
		return nil
	}
	return o.FailAt(point, l)
}

// Summary is the outcome of a load.
type Summary struct {
	LoadID        int64            `json:"load_id"`
	Kind          string           `json:"kind"`
	Variant       string           `json:"variant"`
	Source        string           `json:"source"`
	Path          string           `json:"path"`
	SizeBytes     int64            `json:"size_bytes"`
	SHA256        string           `json:"sha256"`
	Unchanged     bool             `json:"unchanged"`
	ReplacedLoad  int64            `json:"replaced_load_id,omitempty"`
	Rows          map[string]int64 `json:"rows_written"`
	Removed       map[string]int64 `json:"rows_removed,omitempty"`
	Skipped       []Skip           `json:"skipped"`
	Kept          []Skip           `json:"kept"`
	Notes         []string         `json:"notes"`
	Varying       []VaryingKey     `json:"types_vary,omitempty"`
	SourceTZ      string           `json:"source_tz,omitempty"`
	MemoryLimit   string           `json:"memory_limit,omitempty"` // the DuckDB memory limit the load ran under ("" for DuckDB's own)
	Companions    []string         `json:"companions,omitempty"`
	CompanionOf   string           `json:"companion_of,omitempty"`
	SchemaVersion int64            `json:"schema_version"`
	Seconds       float64          `json:"seconds"`
}

// FileError is an input problem, naming the file and the place.
type FileError struct {
	Path  string
	Place string // "column seed", "row 17", "" for the whole file
	Msg   string
	Err   error // the underlying error, when there is one
}

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

// ErrInterrupted is wrapped (with the context's error) by the error of a
// load that was cancelled before it committed: nothing was written.
var ErrInterrupted = errors.New("interrupted; nothing written")

func (e *FileError) Error() string {
	if e.Place == "" {
		return fmt.Sprintf("%s: %s", e.Path, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Path, e.Place, e.Msg)
}

// Engine runs loads against one database.
type Engine struct {
	DB     *sql.DB
	DBPath string // names the database in messages
}

// Prepare checks the database version and returns it.
func (e *Engine) Prepare(ctx context.Context) (int64, error) {
	m, err := migrate.New(e.DB, e.DBPath, migrations.FS, "migrations")
	if err != nil {
		return 0, err
	}
	v, err := m.RequireNewest(ctx)
	if err != nil {
		return 0, err
	}
	if v != gen.SchemaVersion {
		return 0, fmt.Errorf("this dschema's generated code is for schema version %d but its migrations end at %d (regenerate with go generate ./... and rebuild)", gen.SchemaVersion, v)
	}
	return v, nil
}

// StatFile checks that path is a non-empty regular file and returns its absolute path and size.
func StatFile(path string) (string, int64, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", 0, err
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", 0, &FileError{Path: path, Msg: "no such file"}
	case err != nil:
		return "", 0, &FileError{Path: path, Msg: err.Error()}
	case fi.IsDir():
		return "", 0, &FileError{Path: path, Msg: "is a directory, not a file"}
	case fi.Size() == 0:
		return "", 0, &FileError{Path: path, Msg: "empty file"}
	}
	return abs, fi.Size(), nil
}

// statSource is StatFile, but a directory is a source too for a loader
// that takes directories; its size is the sum of its files'.
func statSource(loader Loader, path string) (abs string, size int64, isDir bool, err error) {
	if dl, ok := loader.(DirLoader); ok && dl.LoadsDirs() {
		if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			if abs, err = filepath.Abs(path); err != nil {
				return "", 0, false, err
			}
			// A root given as a symlink is followed (WalkDir would not);
			// the walk that loads it resolves it the same way.
			real, err := filepath.EvalSymlinks(abs)
			if err != nil {
				return "", 0, false, &FileError{Path: path, Msg: err.Error(), Err: err}
			}
			err = filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.Type().IsRegular() {
					fi, err := d.Info()
					if err != nil {
						return err
					}
					size += fi.Size()
				}
				return nil
			})
			if err != nil {
				return "", 0, false, &FileError{Path: path, Msg: err.Error(), Err: err}
			}
			if size == 0 {
				return "", 0, false, &FileError{Path: path, Msg: "a directory with no data in its files"}
			}
			return abs, size, true, nil
		}
	}
	abs, size, err = StatFile(path)
	return abs, size, false, err
}

// hashTree is the sha256 of a directory tree: of each file's path
// (relative, slash-separated), size and content sha256, in walk order. A
// symlink or any other non-regular file is refused (tarstream.Walk).
func hashTree(ctx context.Context, root string, progress func(done, total int64)) (string, int64, error) {
	h := sha256.New()
	var total int64
	err := tarstream.Walk(ctx, root, tarstream.Options{Progress: progress}, func(m tarstream.Member, r io.Reader) error {
		fh := sha256.New()
		n, err := io.Copy(fh, r)
		if err != nil {
			return err
		}
		total += n
		fmt.Fprintf(h, "%s\x00%d\x00%x\n", m.Path, n, fh.Sum(nil))
		return nil
	})
	if err != nil {
		return "", 0, TreeError(root, err)
	}
	return hex.EncodeToString(h.Sum(nil)), total, nil
}

// TreeError makes a walk's error a FileError naming the member.
func TreeError(root string, err error) error {
	var te *tarstream.Error
	if errors.As(err, &te) {
		return &FileError{Path: root, Place: MemberPlace(te.Member, 0, te.Offset), Msg: te.Msg, Err: err}
	}
	return err
}

// MemberPlace names a place in an archive or folder: "member M line N
// (byte B)", each part only when known (member "", line 0, offset < 0).
func MemberPlace(member string, line, offset int64) string {
	var parts []string
	if member != "" {
		parts = append(parts, "member "+member)
	}
	if line > 0 {
		parts = append(parts, fmt.Sprintf("line %d", line))
	}
	if offset >= 0 {
		parts = append(parts, fmt.Sprintf("(byte %d)", offset))
	}
	return strings.Join(parts, " ")
}

// hashFile is the sha256 of the file at path and the bytes read; size
// (what the file held before) is only the progress's total.
func hashFile(ctx context.Context, path string, size int64, progress func(done, total int64)) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 4<<20)
	var done int64
	for {
		if err := ctx.Err(); err != nil {
			return "", 0, err
		}
		n, err := f.Read(buf)
		if n > 0 {
			h.Write(buf[:n])
			done += int64(n)
			if progress != nil {
				progress(done, size)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", 0, fmt.Errorf("read %s: %w", path, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), done, nil
}

// outOfMemory reports whether err is DuckDB running out of memory: its
// "Out of Memory Error", or an allocation it could not make ("failed to
// allocate data of size …", which a single large value gives).
func outOfMemory(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Out of Memory Error") || strings.Contains(msg, "failed to allocate")
}

// Load loads path with the loader of kind. A load cancelled through ctx
// before its COMMIT started writes nothing and returns an error wrapping
// ErrInterrupted and ctx's error; once COMMIT started, the load completes
// and succeeds.
func (e *Engine) Load(ctx context.Context, kind, path string, opts Options) (s *Summary, err error) {
	defer func() {
		switch {
		case err != nil && ctx.Err() != nil:
			err = fmt.Errorf("%s: %w (%w)", path, ErrInterrupted, ctx.Err())
			s = nil
		case err != nil && outOfMemory(err) && !strings.Contains(err.Error(), "--memory-limit"):
			var fe *FileError
			if !errors.As(err, &fe) {
				err = fmt.Errorf("load %s: %w", path, err)
			}
			if opts.MemoryLimit != "" {
				err = fmt.Errorf("%w (under --memory-limit %s: raise it, or leave it out)", err, opts.MemoryLimit)
			} else {
				err = fmt.Errorf("%w (under DuckDB's own limit, 80%% of RAM: free memory, or give --memory-limit)", err)
			}
		}
	}()
	return e.load(ctx, kind, path, opts)
}

// load runs one load; Load only shapes the errors it returns. It checks the
// source, hashes it, and hands the unchanged, already-loaded-elsewhere and
// new cases on; write runs the transaction.
func (e *Engine) load(ctx context.Context, kind, path string, opts Options) (_ *Summary, rerr error) {
	start := time.Now()
	loader, err := Lookup(kind)
	if err != nil {
		return nil, err
	}
	if err := checkOptions(kind, loader, opts); err != nil {
		return nil, err
	}
	abs, size, isDir, err := statSource(loader, path)
	if err != nil {
		return nil, err
	}
	schemaVersion, err := e.Prepare(ctx)
	if err != nil {
		return nil, err
	}
	companionOf, companions, err := bundled(loader, abs)
	if err != nil {
		return nil, err
	}
	if companionOf != "" {
		return &Summary{Kind: kind, Path: abs, SizeBytes: size, SchemaVersion: schemaVersion, CompanionOf: companionOf,
			Rows: map[string]int64{}, Skipped: []Skip{}, Kept: []Skip{},
			Notes: []string{fmt.Sprintf("a companion of %s, which loads it: nothing loaded from it alone", filepath.Base(companionOf))}}, nil
	}
	key := opts.Source
	if key == "" {
		key = abs
	}
	// A source whose size no current load of its kind has cannot hold the
	// content of one: it is neither unchanged nor loaded elsewhere, so its
	// hash is only recorded, and is read beside the load instead of before.
	var sum string
	var beside *besideHash
	if len(companions) == 0 {
		seen, err := sizeSeen(ctx, e.DB, kind, size)
		if err != nil {
			return nil, err
		}
		if !seen {
			// A hash that fails ends the load at once, with its error.
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			defer cancel()
			beside = hashBeside(ctx, abs, size, isDir, cancel)
			defer func() {
				beside.stop()
				if herr := beside.failed(); rerr != nil && herr != nil {
					rerr = herr
				}
			}()
		}
	}
	if beside == nil {
		if sum, size, err = hashSource(ctx, abs, size, isDir, companions, opts.HashProgress); err != nil {
			return nil, err
		}
	}
	src := Source{Path: abs, Key: key, Size: size, SHA256: sum}
	if opts.SourceTZ != "" {
		if _, err := e.DB.ExecContext(ctx, "SELECT timezone(?, TIMESTAMP '2000-01-01')", opts.SourceTZ); err != nil {
			return nil, fmt.Errorf("--source-tz %q: not a time zone DuckDB knows (e.g. America/New_York, Europe/Paris, UTC)", opts.SourceTZ)
		}
	}
	s := &Summary{Kind: kind, Source: src.Key, Path: abs, SizeBytes: size, SHA256: sum, SchemaVersion: schemaVersion, SourceTZ: opts.SourceTZ,
		MemoryLimit: opts.MemoryLimit, Rows: map[string]int64{}, Skipped: []Skip{}, Kept: []Skip{}, Notes: []string{}, Companions: companions}

	conn, err := e.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	restore, err := limitMemory(ctx, conn, opts.MemoryLimit)
	if err != nil {
		return nil, err
	}
	defer restore()
	restoreThreads, err := limitThreads(ctx, conn, loader)
	if err != nil {
		return nil, err
	}
	defer restoreThreads()
	progress, stop, err := watchProgress(ctx, conn, opts)
	if err != nil {
		return nil, err
	}
	defer stop() // before conn.Close

	var st standing
	if beside == nil {
		st, err = standingOf(ctx, conn, kind, src.Key, sum, opts.SourceTZ)
	} else {
		st.prior, _, _, _, err = currentLoad(ctx, conn, kind, src.Key)
	}
	if err != nil {
		return nil, err
	}
	if st.unchanged {
		s.LoadID, s.Unchanged, s.Variant = st.prior, true, st.variant
		s.Seconds = time.Since(start).Seconds()
		return s, nil
	}
	if st.elsewhere != 0 {
		return nil, st.elsewhereError(path, sum)
	}
	prior := st.prior
	if err := write(ctx, conn, loader, s, src, prior, opts, progress, path, start, beside); err != nil {
		return nil, err
	}
	s.Seconds = time.Since(start).Seconds()
	return s, nil
}

// hashSource returns the source's sha256 and its size with its companions'.
// A file or folder alone is its own hash; with companions, the source's
// identity is the hash of the main file's hash and each companion's.
//
// The size is the bytes hashed, not the size found before: a file that
// grew or shrank meanwhile is recorded with the size of the content its
// hash is of, which sizeSeen relies on.
func hashSource(ctx context.Context, abs string, size int64, isDir bool, companions []string, progress func(done, total int64)) (string, int64, error) {
	var sum string
	var err error
	if isDir {
		sum, size, err = hashTree(ctx, abs, progress)
	} else {
		sum, size, err = hashFile(ctx, abs, size, progress)
	}
	if err != nil {
		return "", 0, err
	}
	if len(companions) > 0 {
		// The source's identity is the main file's hash and each companion's.
		h := sha256.New()
		fmt.Fprintf(h, "%s\n", sum)
		for _, c := range companions {
			fi, err := os.Stat(c)
			if err != nil {
				return "", 0, &FileError{Path: c, Msg: err.Error()}
			}
			cs, n, err := hashFile(ctx, c, fi.Size(), nil)
			if err != nil {
				return "", 0, err
			}
			fmt.Fprintf(h, "%s %s\n", filepath.Base(c), cs)
			size += n
		}
		sum = hex.EncodeToString(h.Sum(nil))
	}
	return sum, size, nil
}

// hashed finds what a source of loader at abs is: the file that loads it
// as a companion (companionOf, then nothing is hashed), or its companions,
// its sha256 and its size with theirs.
func hashed(ctx context.Context, loader Loader, abs string, size int64, isDir bool, progress func(done, total int64)) (companionOf string, companions []string, sum string, total int64, err error) {
	if companionOf, companions, err = bundled(loader, abs); err != nil || companionOf != "" {
		return companionOf, nil, "", size, err
	}
	sum, total, err = hashSource(ctx, abs, size, isDir, companions, progress)
	return "", companions, sum, total, err
}

// bundled is the file that loads the source at abs as a companion
// (companionOf), or the source's companions, for a Bundler loader.
func bundled(loader Loader, abs string) (companionOf string, companions []string, err error) {
	b, ok := loader.(Bundler)
	if !ok {
		return "", nil, nil
	}
	if main := b.PartOf(abs); main != "" {
		return main, nil, nil
	}
	companions, err = b.Companions(abs)
	return "", companions, err
}

// sizeSeen reports whether a current load of kind, from any source, has
// size bytes or no recorded size or hash: only then can a source of that
// size hold the content of a current load (and be unchanged, or loaded
// elsewhere).
func sizeSeen(ctx context.Context, db *sql.DB, kind string, size int64) (bool, error) {
	var n int64
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+currentLoads+`
		AND kind = ? AND (size_bytes = ? OR size_bytes IS NULL OR sha256 IS NULL)`, kind, size).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look for loads of %s of %d bytes: %w", kind, size, err)
	}
	return n > 0, nil
}

// besideHash is a source's sha256 and the bytes hashed, read in a
// goroutine of its own beside the load.
type besideHash struct {
	cancel context.CancelFunc
	done   chan struct{}
	sum    string
	size   int64
	err    error
}

// hashBeside starts hashing the source at abs (a file, or a folder when
// isDir) beside the load; fail is called when the hash fails, so that the
// load stops.
func hashBeside(ctx context.Context, abs string, size int64, isDir bool, fail func()) *besideHash {
	ctx, cancel := context.WithCancel(ctx)
	b := &besideHash{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		b.sum, b.size, b.err = hashSource(ctx, abs, size, isDir, nil, nil)
		if b.err != nil && ctx.Err() == nil {
			fail()
		}
	}()
	return b
}

// wait returns the hash and the bytes hashed, once read. It adds no
// stage: a load's stages must not depend on which of the two finished
// first (the conformance suite interrupts a load at each of them).
func (b *besideHash) wait() (string, int64, error) {
	<-b.done
	return b.sum, b.size, b.err
}

// failed is the hash's own error, once it ended with one (nil for a nil
// b, a hash still running, or one ended by the load's context): the load
// returns it, after stop, in place of the error its cancelled context made.
func (b *besideHash) failed() error {
	if b == nil {
		return nil
	}
	select {
	case <-b.done:
		if b.err != nil && !errors.Is(b.err, context.Canceled) {
			return b.err
		}
	default:
	}
	return nil
}

// stop ends the hashing, when the load ended first, and waits for its goroutine.
func (b *besideHash) stop() {
	b.cancel()
	<-b.done
}

// standing is what dschema_loads says of a source with a given content:
// its current load (prior, 0 for none), whether that load holds the same
// content (unchanged) and its layout, and a current load of the same
// content from another source (elsewhere, 0 for none).
type standing struct {
	prior           int64
	unchanged       bool
	variant         string
	kind            string
	elsewhere       int64
	elsewhereSource string
}

// standingOf reads the standing of source (of kind, with content sum, read
// with time zone tz) on conn, writing nothing.
func standingOf(ctx context.Context, conn *sql.Conn, kind, source, sum, tz string) (standing, error) {
	st := standing{kind: kind}
	prior, priorSum, priorVariant, priorTZ, err := currentLoad(ctx, conn, kind, source)
	if err != nil {
		return st, err
	}
	st.prior = prior
	if prior != 0 && priorSum == sum && priorTZ == tz {
		st.unchanged, st.variant = true, priorVariant
		return st, nil
	}
	st.elsewhere, st.elsewhereSource, err = loadedElsewhere(ctx, conn, kind, source, sum)
	return st, err
}

// elsewhereError refuses path, whose content sum another source's current
// load holds.
func (st standing) elsewhereError(path, sum string) error {
	return &FileError{Path: path, Msg: fmt.Sprintf("the same content (sha256 %.12s…) is already loaded from %s (load %d); to load this file as that source: dschema load %s %s --source %q",
		sum, st.elsewhereSource, st.elsewhere, st.kind, path, st.elsewhereSource)}
}

// limitMemory sets DuckDB's memory_limit to limit for the load, when limit
// is not "", and returns what puts the previous limit back: memory_limit is
// the database instance's, not the connection's.
func limitMemory(ctx context.Context, conn *sql.Conn, limit string) (restore func(), err error) {
	if limit == "" {
		return func() {}, nil
	}
	var prev string
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&prev); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "SET memory_limit = "+dbschema.Literal(limit)); err != nil {
		return nil, fmt.Errorf("--memory-limit %q: %w", limit, err)
	}
	// (RESET GLOBAL memory_limit leaves the limit in force here.)
	return func() { conn.ExecContext(context.WithoutCancel(ctx), "SET memory_limit = "+dbschema.Literal(prev)) }, nil
}

// limitThreads sets DuckDB's threads to what a ThreadLimiter loader
// declares, for the load, and returns what restores the setting the load
// found: always, so that a loader's SetThreads for one statement is undone
// after the load's transaction ends, even where a failed statement left
// that transaction refusing everything but ROLLBACK.
func limitThreads(ctx context.Context, conn *sql.Conn, l Loader) (restore func(), err error) {
	n := 0
	if t, ok := l.(ThreadLimiter); ok {
		n = t.LoadThreads()
	}
	return SetThreads(ctx, conn, n)
}

// SetThreads sets DuckDB's threads to n (n > 0; otherwise it leaves them)
// on conn's database and returns what restores the setting before. A
// loader may use it for one statement; the engine restores the setting
// after the load's transaction too.
func SetThreads(ctx context.Context, conn *sql.Conn, n int) (restore func(), err error) {
	var prev int64
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&prev); err != nil {
		return nil, err
	}
	if n > 0 {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET threads = %d", n)); err != nil {
			return nil, err
		}
	}
	return func() { conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("SET threads = %d", prev)) }, nil
}

// watchProgress polls DuckDB's query progress on conn when opts.Fraction
// wants it, reporting each fraction with the stage being run. It returns
// the stage reporter the load uses (opts.Progress, wrapped to remember the
// stage) and what stops the polling, which must run before conn closes.
func watchProgress(ctx context.Context, conn *sql.Conn, opts Options) (progress func(string), stop func(), err error) {
	if opts.Fraction == nil {
		return opts.Progress, func() {}, nil
	}
	var stage atomic.Value // the stage being run, for Fraction
	stage.Store("")
	stop, err = pollProgress(ctx, conn, opts.PollEvery, func(f float64) {
		if st := stage.Load().(string); st != "" { // not the engine's own queries before the first stage
			opts.Fraction(st, f)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	progress = func(st string) {
		stage.Store(st)
		if opts.Progress != nil {
			opts.Progress(st)
		}
	}
	return progress, stop, nil
}

// write is the load's transaction: it takes the next load_id, removes the
// rows of the prior load of the source (when prior is not 0), runs the
// loader, records the load in dschema_loads and commits, filling s. Any
// error before COMMIT rolls everything back.
// A hash read beside the load (beside, nil when the engine hashed the
// source before) is waited for before the load is recorded.
func write(ctx context.Context, conn *sql.Conn, loader Loader, s *Summary, src Source, prior int64, opts Options, progress func(string), path string, start time.Time, beside *besideHash) (err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			// Roll back even when ctx was cancelled (Ctrl-C).
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	var id int64
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(max(load_id), 0) + 1 FROM dschema_loads").Scan(&id); err != nil {
		return err
	}
	s.LoadID = id
	l := &Load{Conn: conn, ID: id, Source: src, Strict: opts.Strict, SourceTZ: opts.SourceTZ, progress: progress, ReadProgress: opts.ReadProgress}
	if prior != 0 {
		l.Stage(fmt.Sprintf("removing the rows of load %d (the previous version of this source)", prior))
		s.ReplacedLoad = prior
		if s.Removed, err = deleteLoad(ctx, conn, prior); err != nil {
			return err
		}
		if err := opts.failAt("removed", l); err != nil {
			return err
		}
	}
	rep, err := loader.Load(ctx, l)
	if err != nil {
		return err
	}
	s.Variant, s.Notes = rep.Variant, append(s.Notes, rep.Notes...)
	s.Varying = rep.Varying
	s.Skipped = append(s.Skipped, rep.Skipped...)
	s.Kept = append(s.Kept, rep.Kept...)
	for t, n := range rep.Rows {
		s.Rows[t] = n
	}
	if err := opts.failAt("written", l); err != nil {
		return err
	}
	if beside != nil {
		if s.SHA256, s.SizeBytes, err = beside.wait(); err != nil {
			return err
		}
	}
	l.Stage("recording the load")
	if err := recordLoad(ctx, conn, s, start); err != nil {
		return err
	}
	if err := opts.failAt("recorded", l); err != nil {
		return err
	}
	// Once COMMIT starts it runs to its end: an interrupt then would make
	// DuckDB report failure for a commit that still happened, and what is
	// reported must be what happened. An interrupt before it rolls back.
	if err := ctx.Err(); err != nil {
		return err
	}
	l.Stage("committing")
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		return fmt.Errorf("commit load of %s: %w", path, err)
	}
	committed = true
	return nil
}

// currentLoad finds the newest load of a source that no later load replaced.
func currentLoad(ctx context.Context, conn *sql.Conn, kind, source string) (id int64, sum, variant, tz string, err error) {
	err = conn.QueryRowContext(ctx, `SELECT load_id, coalesce(sha256, ''), coalesce(variant, ''), coalesce(report->>'$.source_tz', '') FROM `+currentLoads+`
		AND kind = ? AND source = ? ORDER BY load_id DESC LIMIT 1`, kind, source).Scan(&id, &sum, &variant, &tz)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", "", "", nil
	}
	return id, sum, variant, tz, err
}

// currentLoads is the loads no later load replaced, as l, for a query to
// go on with AND.
const currentLoads = `dschema_loads l WHERE NOT EXISTS (SELECT 1 FROM dschema_loads n WHERE n.replaced_load_id = l.load_id)`

// loadedElsewhere finds a current load of kind with content sum from another source.
func loadedElsewhere(ctx context.Context, conn *sql.Conn, kind, source, sum string) (id int64, other string, err error) {
	err = conn.QueryRowContext(ctx, `SELECT load_id, source FROM `+currentLoads+`
		AND kind = ? AND sha256 = ? AND source <> ? ORDER BY load_id LIMIT 1`, kind, sum, source).Scan(&id, &other)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	return id, other, err
}

// loadTables lists every table with a load_id column (every loaded table).
func loadTables(ctx context.Context, conn *sql.Conn) ([]string, error) {
	return QueryStrings(ctx, conn, `SELECT table_name FROM duckdb_columns() WHERE column_name = 'load_id'
		AND table_name <> 'dschema_loads' AND schema_name = 'main' AND database_name = current_database()
		AND table_name IN (SELECT table_name FROM duckdb_tables()) ORDER BY table_name`)
}

// QueryStrings returns the first column of every row of q.
func QueryStrings(ctx context.Context, conn *sql.Conn, q string, args ...any) ([]string, error) {
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// deleteLoad removes every row a load wrote.
func deleteLoad(ctx context.Context, conn *sql.Conn, id int64) (map[string]int64, error) {
	tables, err := loadTables(ctx, conn)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, t := range tables {
		res, err := conn.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE load_id = ?", dbschema.Ident(t)), id)
		if err != nil {
			return nil, fmt.Errorf("remove rows of load %d from %s: %w", id, t, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			out[t] = n
		}
	}
	return out, nil
}

func recordLoad(ctx context.Context, conn *sql.Conn, s *Summary, start time.Time) error {
	report, err := json.Marshal(map[string]any{"skipped": s.Skipped, "kept": s.Kept, "notes": s.Notes, "rows_removed": s.Removed,
		"types_vary": s.Varying, "companions": s.Companions, "source_tz": s.SourceTZ, "memory_limit": s.MemoryLimit})
	if err != nil {
		return err
	}
	ver := version.String()
	now := time.Now().UTC()
	row := &gen.DschemaLoad{
		LoadID: s.LoadID, Kind: s.Kind, Variant: &s.Variant, Source: s.Source, Path: s.Path,
		SizeBytes: &s.SizeBytes, SHA256: &s.SHA256, RowsWritten: s.Rows, Report: report,
		SchemaVersion: &s.SchemaVersion, ToolVersion: &ver, StartedAt: &start, FinishedAt: &now,
	}
	if s.ReplacedLoad != 0 {
		row.ReplacedLoadID = &s.ReplacedLoad
	}
	err = conn.Raw(func(dc any) error {
		a, err := gen.NewDschemaLoadAppender(dc.(driver.Conn))
		if err != nil {
			return err
		}
		if err := a.Append(row); err != nil {
			a.Close()
			return err
		}
		return a.Close()
	})
	if err != nil {
		return fmt.Errorf("record load: %w", err)
	}
	return nil
}
