// Package migrate applies dschema's goose migrations to DuckDB databases,
// verifies them (sum file, recorded checksums) and replays them into scratch
// databases for planning and checks.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing/fstest"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/dschema/dschema/internal/cache"
	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/version"
)

// Sentinel errors; the typed errors below wrap them.
var (
	// ErrTampered: an applied migration's file changed since it was applied.
	ErrTampered = errors.New("applied migration was changed")
	// ErrAhead: the database is at a version this build does not know.
	ErrAhead = errors.New("database is newer than this dschema")
	// ErrBehind: the database is not at the newest version.
	ErrBehind = errors.New("database is not at the newest schema version")
)

// TamperError names the migration whose file no longer matches what was applied.
type TamperError struct {
	DB      string
	File    string
	Applied string // sha256 recorded when applied
	Now     string // sha256 of the file now
}

func (e *TamperError) Error() string {
	return fmt.Sprintf("migration %s was changed after it was applied to %s (applied sha256 %.12s…, file now %.12s…): restore the file; never edit an applied migration, write a new one",
		e.File, e.DB, e.Applied, e.Now)
}

func (e *TamperError) Unwrap() error { return ErrTampered }

// VersionError says the database is at the wrong version.
type VersionError struct {
	DB           string
	Have, Newest int64
	Ahead        bool
}

func (e *VersionError) Error() string {
	if e.Ahead {
		return fmt.Sprintf("database %s is at schema version %d, newer than this dschema knows (%d): use a newer dschema", e.DB, e.Have, e.Newest)
	}
	return fmt.Sprintf("database %s is at schema version %d, this dschema needs %d: run dschema migrate up --db %s", e.DB, e.Have, e.Newest, e.DB)
}

func (e *VersionError) Unwrap() error {
	if e.Ahead {
		return ErrAhead
	}
	return ErrBehind
}

// Migrator runs the migrations of one folder against one database.
type Migrator struct {
	db       *sql.DB
	dbName   string
	files    []File
	provider *goose.Provider
}

// New verifies the migrations in fsys (dir names them in messages) against
// their sum file and prepares to run them on db (dbName names it in messages).
func New(db *sql.DB, dbName string, fsys fs.FS, dir string) (*Migrator, error) {
	if err := VerifySum(fsys, dir); err != nil {
		return nil, err
	}
	files, err := ReadFiles(fsys)
	if err != nil {
		return nil, err
	}
	return newMigrator(db, dbName, files, true)
}

// noTransaction is goose's annotation for a file run outside a transaction.
// A replay, or a new file moved into place once complete, needs no
// transaction, and inside one DuckDB keeps every version of a table's
// catalog entry that an ALTER or COMMENT ON makes: the ~2,000 COMMENT ON
// COLUMNs of the 1,900-column pretraining table then cost 13.0 s to replay
// (5.8 s without), and migrating a new file costs 11.5 s and 1.5 GB of
// memory (6.4 s and 95 MB without).
const noTransaction = "-- +goose NO TRANSACTION"

// newMigrator prepares files to run on db, each in a transaction of its own
// when atomic; a replay into a scratch database runs them without one.
func newMigrator(db *sql.DB, dbName string, files []File, atomic bool) (*Migrator, error) {
	mfs := fstest.MapFS{}
	for _, f := range files {
		data := f.Data
		if !atomic {
			data = append([]byte(noTransaction+"\n"), data...)
		}
		mfs[f.Name] = &fstest.MapFile{Data: data}
	}
	p, err := goose.NewProvider(goose.DialectCustom, db, mfs,
		goose.WithStore(NewStore(files, version.String())),
		goose.WithDisableGlobalRegistry(true))
	if err != nil && !errors.Is(err, goose.ErrNoMigrations) {
		return nil, fmt.Errorf("prepare migrations: %w", err)
	}
	return &Migrator{db: db, dbName: dbName, files: files, provider: p}, nil
}

// Files returns the migration files, oldest first.
func (m *Migrator) Files() []File { return m.files }

// Newest is the version of the newest migration (0 when there are none).
func (m *Migrator) Newest() int64 {
	if len(m.files) == 0 {
		return 0
	}
	return m.files[len(m.files)-1].Version
}

func (m *Migrator) file(v int64) (File, bool) {
	for _, f := range m.files {
		if f.Version == v {
			return f, true
		}
	}
	return File{}, false
}

// Current returns the database's schema version (0 for a new database) after
// checking that it is not ahead of this build and that no applied migration
// was changed.
func (m *Migrator) Current(ctx context.Context) (int64, error) {
	applied, err := ListApplied(ctx, m.db)
	if err != nil {
		return 0, err
	}
	var cur int64
	for _, a := range applied {
		f, ok := m.file(a.Version)
		if !ok {
			newest := m.Newest()
			if a.Version > newest {
				var maxV int64
				for _, x := range applied {
					maxV = max(maxV, x.Version)
				}
				return 0, &VersionError{DB: m.dbName, Have: maxV, Newest: newest, Ahead: true}
			}
			return 0, fmt.Errorf("database %s has migration %d (%s) applied, which this dschema does not have", m.dbName, a.Version, a.FileName)
		}
		if a.Checksum != "" && a.Checksum != f.Checksum() {
			return 0, &TamperError{DB: m.dbName, File: f.Name, Applied: a.Checksum, Now: f.Checksum()}
		}
		cur = max(cur, a.Version)
	}
	return cur, nil
}

// RequireNewest returns an error unless the database is at the newest version.
func (m *Migrator) RequireNewest(ctx context.Context) (int64, error) {
	cur, err := m.Current(ctx)
	if err != nil {
		return 0, err
	}
	if cur != m.Newest() {
		return cur, &VersionError{DB: m.dbName, Have: cur, Newest: m.Newest()}
	}
	return cur, nil
}

// Result is one applied or reverted migration.
type Result struct {
	Version  int64
	File     string
	Up       bool
	Duration time.Duration
}

func results(rs []*goose.MigrationResult) []Result {
	out := make([]Result, 0, len(rs))
	for _, r := range rs {
		out = append(out, Result{Version: r.Source.Version, File: baseName(r.Source.Path), Up: r.Direction == "up", Duration: r.Duration})
	}
	return out
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func (m *Migrator) wrap(ctx context.Context, err error) error {
	var pe *goose.PartialError
	if errors.As(err, &pe) && pe.Failed != nil {
		if ctx.Err() != nil {
			// goose's own error is then "transaction has already been
			// committed or rolled back": say what happened instead.
			return fmt.Errorf("migration %s interrupted on %s: rolled back; the database keeps the migrations before it: %w", baseName(pe.Failed.Source.Path), m.dbName, ctx.Err())
		}
		return fmt.Errorf("migration %s failed on %s (the database keeps the migrations before it): %w", baseName(pe.Failed.Source.Path), m.dbName, pe.Failed.Error)
	}
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("migrating %s interrupted: %w", m.dbName, ctx.Err())
	}
	return err
}

// UpTo applies pending migrations up to and including version.
func (m *Migrator) UpTo(ctx context.Context, version int64) ([]Result, error) {
	if _, err := m.Current(ctx); err != nil {
		return nil, err
	}
	if m.provider == nil {
		return nil, nil
	}
	rs, err := m.provider.UpTo(ctx, version)
	return results(rs), m.wrap(ctx, err)
}

// Up applies every pending migration.
func (m *Migrator) Up(ctx context.Context) ([]Result, error) { return m.UpTo(ctx, m.Newest()) }

// DownTo reverts applied migrations down to version (0 reverts all).
func (m *Migrator) DownTo(ctx context.Context, version int64) ([]Result, error) {
	if _, err := m.Current(ctx); err != nil {
		return nil, err
	}
	if m.provider == nil {
		return nil, nil
	}
	rs, err := m.provider.DownTo(ctx, version)
	return results(rs), m.wrap(ctx, err)
}

// Down reverts the newest applied migration.
func (m *Migrator) Down(ctx context.Context) ([]Result, error) {
	cur, err := m.Current(ctx)
	if err != nil {
		return nil, err
	}
	if cur == 0 {
		return nil, fmt.Errorf("database %s has no applied migration to revert", m.dbName)
	}
	r, err := m.provider.Down(ctx)
	if err != nil {
		return nil, m.wrap(ctx, err)
	}
	return results([]*goose.MigrationResult{r}), nil
}

// Status is one migration's state in the database.
type Status struct {
	File            File
	Applied         bool
	AppliedAt       time.Time
	AppliedChecksum string
	ToolVersion     string
}

// Status lists every migration with its state.
func (m *Migrator) Status(ctx context.Context) ([]Status, error) {
	if _, err := m.Current(ctx); err != nil {
		return nil, err
	}
	applied, err := ListApplied(ctx, m.db)
	if err != nil {
		return nil, err
	}
	byV := map[int64]Applied{}
	for _, a := range applied {
		byV[a.Version] = a
	}
	out := make([]Status, 0, len(m.files))
	for _, f := range m.files {
		s := Status{File: f}
		if a, ok := byV[f.Version]; ok {
			s.Applied, s.AppliedAt, s.AppliedChecksum, s.ToolVersion = true, a.AppliedAt, a.Checksum, a.ToolVersion
		}
		out = append(out, s)
	}
	return out, nil
}

// Pending returns the migrations not yet applied, oldest first.
func (m *Migrator) Pending(ctx context.Context) ([]File, error) {
	st, err := m.Status(ctx)
	if err != nil {
		return nil, err
	}
	var out []File
	for _, s := range st {
		if !s.Applied {
			out = append(out, s.File)
		}
	}
	return out, nil
}

// DownSQL returns the Down section of a migration file, for --dry-run.
func DownSQL(f File) string {
	text := string(f.Data)
	if i := strings.Index(text, "-- +goose Down"); i >= 0 {
		return strings.TrimSpace(text[i+len("-- +goose Down"):]) + "\n"
	}
	return "\n"
}

// UpSQL returns the Up section of a migration file, for --dry-run.
func UpSQL(f File) string {
	text := string(f.Data)
	if i := strings.Index(text, "-- +goose Up"); i >= 0 {
		text = text[i+len("-- +goose Up"):]
	}
	if i := strings.Index(text, "-- +goose Down"); i >= 0 {
		text = text[:i]
	}
	return strings.TrimSpace(text) + "\n"
}

// Replay applies files up to version upTo (all when upTo < 0) to a new
// in-memory database and returns what DuckDB then reports. Replaying the
// 1,900-column pretraining table costs seconds (DuckDB's COMMENT ON COLUMN
// rebinds the whole table each time), so the result is kept in the context's
// cache, keyed by the files' names and bytes; a replay also keeps the State
// of every shorter prefix it passes through, so checking a database at each
// of its versions (migrate up one at a time, then down) replays once. The
// returned State is shared between callers: do not modify it.
func Replay(ctx context.Context, files []File, upTo int64) (*dbschema.State, error) {
	keep := upToVersion(files, upTo)
	c := cache.FromContext(ctx)
	key := ReplayKey(keep)
	if st, ok := cache.Get[dbschema.State](c, key); ok {
		return st, nil
	}
	if len(keep) == 0 {
		return replay(ctx, c, nil, 0)
	}
	// Every prefix is replayed and kept: the next call likely asks for a
	// neighbouring version.
	return replay(ctx, c, upToVersion(files, -1), len(keep))
}

// ReplayKey is the cache key of the State files replay to.
func ReplayKey(files []File) string {
	parts := make([][]byte, 0, 2*len(files))
	for _, f := range files {
		parts = append(parts, []byte(f.Name), f.Data)
	}
	return cache.Key("replay", parts...)
}

func upToVersion(files []File, upTo int64) []File {
	var keep []File
	for _, f := range files {
		if upTo < 0 || f.Version <= upTo {
			keep = append(keep, f)
		}
	}
	return keep
}

// replay applies keep one file at a time to a new in-memory database and
// puts the State after each into c (the empty database's only when it is
// the one wanted: it costs nothing to make again); it returns the State
// after the first want files.
func replay(ctx context.Context, c *cache.Cache, keep []File, want int) (*dbschema.State, error) {
	db, err := dbfile.Open(ctx, ":memory:")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	m, err := newMigrator(db, "replay", keep, false)
	if err != nil {
		return nil, err
	}
	state := func(n int) (*dbschema.State, error) {
		key := ReplayKey(keep[:n])
		if st, ok := cache.Get[dbschema.State](c, key); ok {
			return st, nil
		}
		st, err := dbschema.Introspect(ctx, db)
		if err != nil {
			return nil, err
		}
		cache.Put(c, key, st)
		return st, nil
	}
	var out *dbschema.State
	for i := 0; i <= len(keep); i++ {
		if i == 0 && want > 0 {
			continue
		}
		if i > 0 {
			if _, err := m.UpTo(ctx, keep[i-1].Version); err != nil {
				return nil, fmt.Errorf("replay migrations: %w", err)
			}
		}
		st, err := state(i)
		if err != nil {
			return nil, err
		}
		if i == want {
			out = st
		}
	}
	return out, nil
}

// NewFromFiles prepares files (already verified) to run on db.
func NewFromFiles(db *sql.DB, dbName string, files []File) (*Migrator, error) {
	return newMigrator(db, dbName, files, true)
}

// NewForNewFile prepares files (already verified) to run on db without a
// transaction per file: for a database file no one else can see until it
// is complete (the caller renames it into place), where a failure discards
// the whole file. It runs twice as fast (see noTransaction).
func NewForNewFile(db *sql.DB, dbName string, files []File) (*Migrator, error) {
	return newMigrator(db, dbName, files, false)
}

// Loss is data a Down step would destroy: a table that holds rows, or a
// column that holds non-NULL values.
type Loss struct {
	Table  string
	Column string // "" when the whole table goes
	Rows   int64  // rows (table) or non-NULL values (column)
}

func (l Loss) String() string {
	if l.Column == "" {
		return fmt.Sprintf("table %s (%d rows)", l.Table, l.Rows)
	}
	return fmt.Sprintf("column %s.%s (%d non-NULL values)", l.Table, l.Column, l.Rows)
}

// DownLosses lists the data that reverting from the current version down to
// version target would drop: every table or column the migrations have at
// the current version and not at target (compared by name, from the
// replayed migrations) that holds data in this database, less the promoted
// columns whose Down puts their values back (RestoredColumns).
func (m *Migrator) DownLosses(ctx context.Context, target int64) ([]Loss, error) {
	cur, err := m.Current(ctx)
	if err != nil {
		return nil, err
	}
	if target >= cur {
		return nil, nil
	}
	before, err := Replay(ctx, m.files, cur)
	if err != nil {
		return nil, err
	}
	after, err := Replay(ctx, m.files, target)
	if err != nil {
		return nil, err
	}
	restored := map[string]bool{}
	for _, f := range m.files {
		if f.Version > target && f.Version <= cur {
			for _, c := range RestoredColumns(f) {
				restored[c] = true
			}
		}
	}
	var out []Loss
	count := func(q string) (int64, error) {
		var n int64
		err := m.db.QueryRowContext(ctx, q).Scan(&n)
		return n, err
	}
	for _, t := range before.Tables {
		at := after.Table(t.Name)
		if at == nil {
			n, err := count("SELECT count(*) FROM " + dbschema.Ident(t.Name))
			if err != nil {
				return nil, fmt.Errorf("count rows of %s: %w", t.Name, err)
			}
			if n > 0 {
				out = append(out, Loss{Table: t.Name, Rows: n})
			}
			continue
		}
		for _, c := range t.Columns {
			if at.Column(c.Name) != nil || restored[t.Name+"."+c.Name] {
				continue
			}
			n, err := count(fmt.Sprintf("SELECT count(%s) FROM %s", dbschema.Ident(c.Name), dbschema.Ident(t.Name)))
			if err != nil {
				return nil, fmt.Errorf("count values of %s.%s: %w", t.Name, c.Name, err)
			}
			if n > 0 {
				out = append(out, Loss{Table: t.Name, Column: c.Name, Rows: n})
			}
		}
	}
	return out, nil
}

// RestoredColumns lists the "table.column"s whose values the Down of f
// moves back, exactly, into the map they were promoted from: the columns
// its marker lines name. Reverting f loses none of their values.
func RestoredColumns(f File) []string {
	var out []string
	for _, line := range strings.Split(DownSQL(f), "\n") {
		if c, ok := strings.CutPrefix(strings.TrimSpace(line), dbschema.RestoresMarker); ok {
			out = append(out, strings.TrimSpace(c))
		}
	}
	return out
}

// ErrDestructive is wrapped by the error of a Down step refused because it
// would drop data.
var ErrDestructive = errors.New("reverting would drop data")

// LossError names the data a refused Down step would drop.
type LossError struct {
	DB     string
	To     int64
	Losses []Loss
}

func (e *LossError) Error() string {
	parts := make([]string, len(e.Losses))
	for i, l := range e.Losses {
		parts[i] = l.String()
	}
	return fmt.Sprintf("reverting %s to version %d would drop data: %s; back it up, or pass --allow-destructive to revert anyway",
		e.DB, e.To, strings.Join(parts, ", "))
}

func (e *LossError) Unwrap() error { return ErrDestructive }

// CheckDown returns a *LossError when reverting to target would drop data.
func (m *Migrator) CheckDown(ctx context.Context, target int64) error {
	losses, err := m.DownLosses(ctx, target)
	if err != nil {
		return err
	}
	if len(losses) > 0 {
		return &LossError{DB: m.dbName, To: target, Losses: losses}
	}
	return nil
}
