// Package project runs dschema's source-tree operations on a checkout: gen
// (plan the next migration, write it, regenerate gen/), check (do schema,
// migrations, generated code and optionally a live database agree) and
// promote (give a key of an overflow map a typed column). It also creates
// and opens databases at the embedded migrations (UpNewDB, OpenMigrator).
package project

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dschema/dschema/internal/cache"
	"github.com/dschema/dschema/internal/codegen"
	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/internal/plan"
	"github.com/dschema/dschema/internal/schema"
)

// ErrNotCheckout: check or gen was pointed at a folder that is not a checkout.
var ErrNotCheckout = errors.New("not a dschema checkout")

// Layout names the folders of a checkout, relative to its root.
type Layout struct {
	Root       string
	Schema     string // "schema"
	Migrations string // "migrations"
	Gen        string // "gen"
	GenPackage string // "gen"
}

// DefaultLayout is the repository's own layout under root.
func DefaultLayout(root string) Layout {
	return Layout{Root: root, Schema: "schema", Migrations: "migrations", Gen: "gen", GenPackage: "gen"}
}

func (l Layout) path(rel string) string { return filepath.Join(l.Root, rel) }

// Loaded is a checkout's schema (canonical types) and migrations.
type Loaded struct {
	Schema *schema.Schema
	Target *dbschema.State
	Files  []migrate.File
}

// Load reads and validates the schema (types checked by DuckDB) and reads the migrations.
func Load(ctx context.Context, l Layout) (*Loaded, error) {
	s, err := schema.Load(os.DirFS(l.path(l.Schema)), ".", l.Schema)
	if err != nil {
		return nil, err
	}
	target, err := CanonicalState(ctx, s)
	if err != nil {
		return nil, err
	}
	files, err := readMigrations(l)
	if err != nil {
		return nil, err
	}
	return &Loaded{Schema: s, Target: target, Files: files}, nil
}

// CanonicalState lets a scratch DuckDB create the schema's tables and
// reports them, writing canonical types back into s and checking the
// promoted_from columns against them (schema.CheckPromotions). The result is kept in
// the context's cache, keyed by the statements that make it; only a schema
// DuckDB accepted is kept, so every error is found anew. The returned State
// is shared between callers: do not modify it.
func CanonicalState(ctx context.Context, s *schema.Schema) (*dbschema.State, error) {
	c := cache.FromContext(ctx)
	key := cache.Key("canonical", dbschema.CanonicalKey(s)...)
	if st, ok := cache.Get[dbschema.State](c, key); ok && dbschema.SetCanonicalTypes(s, st) == nil {
		// promoted_from does not change the state (nor the key): check it anew.
		if err := schema.CheckPromotions(s); err != nil {
			return nil, err
		}
		return st, nil
	}
	db, err := dbfile.Open(ctx, ":memory:")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	st, err := dbschema.Canonical(ctx, db, s)
	if err != nil {
		return nil, err
	}
	if err := schema.CheckPromotions(s); err != nil {
		return nil, err
	}
	cache.Put(c, key, st)
	return st, nil
}

func readMigrations(l Layout) ([]migrate.File, error) {
	dir := l.path(l.Migrations)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return migrate.ReadFiles(os.DirFS(dir))
}

// SchemaSum is a short hash of everything the schema says about the tables.
func SchemaSum(target *dbschema.State) string {
	h := sha256.New()
	for _, t := range target.Tables {
		fmt.Fprintf(h, "table %q %q pk=%q\n", t.Name, t.Comment, t.PrimaryKey)
		for _, c := range t.Columns {
			fmt.Fprintf(h, "  col %q %q notnull=%v default=%q %q\n", c.Name, c.Type, c.NotNull, c.Default, c.Comment)
		}
		for _, ix := range t.Indexes {
			fmt.Fprintf(h, "  index %q %q unique=%v\n", ix.Name, ix.Columns, ix.Unique)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// GenOptions tune Gen.
type GenOptions struct {
	Name             string // migration name; derived from the changes when empty
	AllowDestructive bool
}

// GenResult says what Gen wrote.
type GenResult struct {
	Migration string   // path of the new migration, "" when none was needed
	Changes   []string // what the migration does
	Written   []string // generated files written (changed or new)
	Removed   []string // stale generated files removed
}

// Gen plans the next migration from the committed ones to the schema, writes
// it and the sum file, then regenerates gen/.
func Gen(ctx context.Context, l Layout, opts GenOptions) (*GenResult, error) {
	ld, err := Load(ctx, l)
	if err != nil {
		return nil, err
	}
	migDir := l.path(l.Migrations)
	if len(ld.Files) > 0 {
		if err := migrate.VerifySum(os.DirFS(migDir), l.Migrations); err != nil {
			return nil, err
		}
	}
	old, err := migrate.Replay(ctx, ld.Files, -1)
	if err != nil {
		return nil, err
	}
	m, err := plan.Plan(old, ld.Target, ld.Schema, plan.Options{AllowDestructive: opts.AllowDestructive})
	if err != nil {
		return nil, err
	}
	res := &GenResult{}
	files := ld.Files
	if !m.Empty() {
		var next int64 = 1
		if len(files) > 0 {
			next = files[len(files)-1].Version + 1
		}
		name := opts.Name
		if name == "" {
			name = plan.Name(m, len(files) == 0)
		}
		name = plan.Sanitize(name)
		f := migrate.File{Version: next, Name: fmt.Sprintf("%05d_%s.sql", next, name), Data: RenderMigration(m, l.Schema)}
		// Prove the migration applies, reverts and re-applies before writing it.
		if err := proveMigration(ctx, files, f, ld.Target); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(migDir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(migDir, f.Name), f.Data, 0o644); err != nil {
			return nil, err
		}
		files = append(files, f)
		res.Migration = filepath.Join(l.Migrations, f.Name)
		res.Changes = m.Changes
	}
	if len(files) > 0 {
		if err := os.WriteFile(filepath.Join(migDir, migrate.SumFile), migrate.Sum(files), 0o644); err != nil {
			return nil, err
		}
	}
	want, err := GenerateCode(ld, files, l)
	if err != nil {
		return nil, err
	}
	genDir := l.path(l.Gen)
	if err := os.MkdirAll(genDir, 0o755); err != nil {
		return nil, err
	}
	names := sortedKeys(want)
	for _, n := range names {
		p := filepath.Join(genDir, n)
		if cur, err := os.ReadFile(p); err == nil && bytes.Equal(cur, want[n]) {
			continue
		}
		if err := os.WriteFile(p, want[n], 0o644); err != nil {
			return nil, err
		}
		res.Written = append(res.Written, filepath.Join(l.Gen, n))
	}
	stale, err := staleGenerated(genDir, want)
	if err != nil {
		return nil, err
	}
	for _, n := range stale {
		if err := os.Remove(filepath.Join(genDir, n)); err != nil {
			return nil, err
		}
		res.Removed = append(res.Removed, filepath.Join(l.Gen, n))
	}
	return res, nil
}

// proveMigration applies files plus f to a database file, reopening it
// between steps (some DuckDB failures appear only for tables already on
// disk): up must reach target; down must work; up again must reach target.
// The database at the newest of files comes from MigratedFile.
func proveMigration(ctx context.Context, files []migrate.File, f migrate.File, target *dbschema.State) error {
	dir, err := os.MkdirTemp("", "dschema-prove")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "prove.duckdb")
	all := append(append([]migrate.File(nil), files...), f)
	step := func(do func(context.Context, *migrate.Migrator) error) error {
		db, err := dbfile.Open(ctx, path)
		if err != nil {
			return err
		}
		defer db.Close()
		m, err := migrate.NewFromFiles(db, "scratch", all)
		if err != nil {
			return err
		}
		return do(ctx, m)
	}
	upTo := func(v int64) func(context.Context, *migrate.Migrator) error {
		return func(ctx context.Context, m *migrate.Migrator) error { _, err := m.UpTo(ctx, v); return err }
	}
	if _, _, err := MigratedFile(ctx, files, path); err != nil {
		return fmt.Errorf("the committed migrations do not apply: %w", err)
	}
	if err := step(upTo(f.Version)); err != nil {
		return fmt.Errorf("the planned migration does not apply: %w", err)
	}
	reached, err := introspectFile(ctx, path)
	if err != nil {
		return err
	}
	if d := plan.Compare(reached, target, "planned migration", "schema"); len(d) > 0 {
		return fmt.Errorf("the planned migration does not reach the schema: %s", d[0])
	}
	if err := step(func(ctx context.Context, m *migrate.Migrator) error { _, err := m.Down(ctx); return err }); err != nil {
		return fmt.Errorf("the planned migration's Down fails: %w", err)
	}
	if err := step(upTo(f.Version)); err != nil {
		return fmt.Errorf("the planned migration does not apply again after Down: %w", err)
	}
	return nil
}

// MigratedFile creates at path (which must not exist) an empty database at
// the newest of files. Applying the pretraining table's ~1,900 column
// comments takes seconds, so the file is kept in the context's cache, keyed
// by the migrations; a cached copy is used only when it proves to be what
// the migrations make: every file applied with its checksum recorded, no
// other row in any table, no macro or extra sequence, and the same tables,
// columns, comments, indexes and views as the migrations replayed. It returns
// the migrations it applied, or cached true when the copy was used.
func MigratedFile(ctx context.Context, files []migrate.File, path string) (applied []migrate.Result, cached bool, err error) {
	for _, p := range []string{path, path + ".wal"} {
		if _, err := os.Lstat(p); err == nil {
			return nil, false, fmt.Errorf("create database %s: %s already exists", path, p)
		}
	}
	c := cache.FromContext(ctx)
	key := migrate.ReplayKey(files) + "-db"
	if c.GetFile(key, path) {
		if err := verifyMigrated(ctx, files, path); err == nil {
			return nil, true, nil
		}
		os.Remove(path)
		os.Remove(path + ".wal")
	}
	applied, err = migrateNewFile(ctx, files, path)
	if err != nil {
		return applied, false, err
	}
	c.PutFile(key, path)
	return applied, false, nil
}

// migrateNewFile makes the database at path by migrating a new file beside
// it, without a transaction per migration (twice as fast: see
// migrate.NewForNewFile), and moving that into place only once every
// migration applied: a failure or an interrupt leaves no file at path.
func migrateNewFile(ctx context.Context, files []migrate.File, path string) ([]migrate.Result, error) {
	dir, err := os.MkdirTemp(filepath.Dir(path), ".dschema-new-")
	if err != nil {
		return nil, fmt.Errorf("create database %s: %w", path, err)
	}
	defer os.RemoveAll(dir)
	scratch := filepath.Join(dir, filepath.Base(path))
	db, err := dbfile.Open(ctx, scratch)
	if err != nil {
		return nil, err
	}
	m, err := migrate.NewForNewFile(db, path, files)
	var applied []migrate.Result
	if err == nil {
		applied, err = m.Up(ctx)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return applied, err
	}
	if _, err := os.Lstat(scratch + ".wal"); err == nil {
		return applied, fmt.Errorf("create database %s: DuckDB left a write-ahead log after closing %s", path, scratch)
	}
	// A link, unlike a rename, refuses to replace a file made at path
	// meanwhile.
	if err := os.Link(scratch, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return applied, fmt.Errorf("create database %s: %w", path, err)
		}
		if err := os.Rename(scratch, path); err != nil {
			return applied, fmt.Errorf("create database %s: %w", path, err)
		}
	}
	return applied, nil
}

// verifyMigrated checks that the database at path is what files make of an
// empty database.
func verifyMigrated(ctx context.Context, files []migrate.File, path string) error {
	db, err := dbfile.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := migrate.NewFromFiles(db, path, files)
	if err != nil {
		return err
	}
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	for _, s := range st {
		if !s.Applied || s.AppliedChecksum != s.File.Checksum() {
			return fmt.Errorf("migration %s is not recorded as applied", s.File.Name)
		}
	}
	var rows int64
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+migrate.TableName+` WHERE version_id <> 0`).Scan(&rows); err != nil {
		return err
	}
	if rows != int64(len(files)) {
		return fmt.Errorf("%s has %d rows, want %d", migrate.TableName, rows, len(files))
	}
	live, err := dbschema.Introspect(ctx, db)
	if err != nil {
		return err
	}
	for _, t := range live.Tables {
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+dbschema.Ident(t.Name)).Scan(&rows); err != nil {
			return err
		}
		if rows != 0 {
			return fmt.Errorf("table %s holds %d rows", t.Name, rows)
		}
	}
	replayed, err := migrate.Replay(ctx, files, -1)
	if err != nil {
		return err
	}
	if d := plan.Compare(live, replayed, "cached database", "migrations"); len(d) > 0 {
		return fmt.Errorf("%s", d[0])
	}
	// Nothing else that could change what a migration does: no macros, no
	// sequences but the bookkeeping one.
	if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM duckdb_functions() WHERE NOT internal)
		+ (SELECT count(*) FROM duckdb_sequences() WHERE sequence_name <> 'dschema_migrations_id_seq')`).Scan(&rows); err != nil {
		return err
	}
	if rows != 0 {
		return fmt.Errorf("the cached database holds %d macros or sequences", rows)
	}
	return nil
}

func introspectFile(ctx context.Context, path string) (*dbschema.State, error) {
	db, err := dbfile.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return dbschema.Introspect(ctx, db)
}

// GenerateCode renders gen/ for the loaded schema at the newest of files.
func GenerateCode(ld *Loaded, files []migrate.File, l Layout) (map[string][]byte, error) {
	var v int64
	if len(files) > 0 {
		v = files[len(files)-1].Version
	}
	return codegen.Generate(ld.Schema, codegen.Options{Package: l.GenPackage, SchemaVersion: v, SchemaSum: SchemaSum(ld.Target)})
}

// RenderMigration writes a goose SQL migration.
func RenderMigration(m *plan.Migration, schemaDir string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "-- Generated by dschema gen from %s/. Review, then commit; never edit once applied.\n", schemaDir)
	b.WriteString("-- Changes:\n")
	for _, c := range m.Changes {
		b.WriteString("--   " + c + "\n")
	}
	b.WriteString("\n-- +goose Up\n")
	writeStatements(&b, m.Up)
	b.WriteString("\n-- +goose Down\n")
	writeStatements(&b, m.Down)
	return []byte(b.String())
}

// writeStatements writes one statement per line; a statement spanning lines
// that are not all its own (a view's SELECT) is fenced so goose sends it whole.
// A run of COMMENT ON COLUMN statements is fenced too, so goose sends it as
// one Exec: each comment makes DuckDB copy and rebind the table's catalog
// entry, and on the 1,887-column pretraining table one Exec for the run was
// measured about 10% faster than one Exec per statement (BenchmarkCommentRuns).
func writeStatements(b *strings.Builder, stmts []string) {
	for i := 0; i < len(stmts); i++ {
		s := stmts[i]
		if strings.Contains(s, "\n") && strings.Contains(s, " VIEW ") {
			b.WriteString("-- +goose StatementBegin\n" + s + "\n-- +goose StatementEnd\n")
			continue
		}
		j := i
		for j < len(stmts) && isColumnComment(stmts[j]) {
			j++
		}
		if j-i >= 2 {
			b.WriteString("-- +goose StatementBegin\n" + strings.Join(stmts[i:j], "\n") + "\n-- +goose StatementEnd\n")
			i = j - 1
			continue
		}
		b.WriteString(s + "\n")
	}
}

func isColumnComment(s string) bool {
	return strings.HasPrefix(s, "COMMENT ON COLUMN ") && !strings.Contains(s, "\n")
}

func sortedKeys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// staleGenerated lists generated .go files in dir that want does not contain.
func staleGenerated(dir string, want map[string][]byte) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		if _, ok := want[e.Name()]; ok {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(data, []byte("// Code generated by dschema")) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// CheckOptions tune Check.
type CheckOptions struct {
	DB string // also compare this live database with the migrations at its version
}

// Problem is one way the checkout (or database) is out of step.
type Problem struct {
	Where string // a file (schema/x.yaml:12, gen/x.go, migrations/dschema.sum) or the database
	Msg   string
	Fix   string // the command that fixes it, when there is one
}

func (p Problem) String() string {
	s := p.Where + ": " + p.Msg
	if p.Fix != "" {
		s += " (fix: " + p.Fix + ")"
	}
	return s
}

// Check reports every way schema, migrations, generated code and (with
// opts.DB) a live database disagree. An error is returned only when the
// check itself cannot run.
func Check(ctx context.Context, l Layout, opts CheckOptions, progress io.Writer) ([]Problem, error) {
	if fi, err := os.Stat(l.path(l.Schema)); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s has no %s/ folder; run check in a dschema checkout or name one with --root (migrate works anywhere: its migrations are built in)", ErrNotCheckout, l.Root, l.Schema)
	}
	var out []Problem
	if err := migrate.VerifySum(os.DirFS(l.path(l.Migrations)), l.Migrations); err != nil {
		out = append(out, Problem{Where: where(err, l.Migrations), Msg: errMsg(err), Fix: "restore the migration files from version control"})
		return out, nil
	}
	ld, err := Load(ctx, l)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "replaying %d migrations…\n", len(ld.Files))
	replayed, err := migrate.Replay(ctx, ld.Files, -1)
	if err != nil {
		return nil, err
	}
	for _, d := range plan.Compare(replayed, ld.Target, "migrations", "schema") {
		out = append(out, Problem{Where: schemaPlace(ld.Schema, d), Msg: d.String(), Fix: "go generate ./..."})
	}
	want, err := GenerateCode(ld, ld.Files, l)
	if err != nil {
		return nil, err
	}
	genDir := l.path(l.Gen)
	for _, n := range sortedKeys(want) {
		cur, err := os.ReadFile(filepath.Join(genDir, n))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, Problem{Where: filepath.Join(l.Gen, n), Msg: "missing", Fix: "go generate ./..."})
		case err != nil:
			return nil, err
		case !bytes.Equal(cur, want[n]):
			out = append(out, Problem{Where: filepath.Join(l.Gen, n), Msg: "differs from what the schema and migrations generate" + FirstDiff(cur, want[n]), Fix: "go generate ./..."})
		}
	}
	if _, err := os.Stat(genDir); err == nil {
		stale, err := staleGenerated(genDir, want)
		if err != nil {
			return nil, err
		}
		for _, n := range stale {
			out = append(out, Problem{Where: filepath.Join(l.Gen, n), Msg: "generated for a table the schema no longer has", Fix: "go generate ./..."})
		}
	}
	if opts.DB != "" {
		ps, err := CheckDB(ctx, opts.DB, ld.Files)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
}

// CheckDB compares a live database with what the migrations make at its version.
func CheckDB(ctx context.Context, path string, files []migrate.File) ([]Problem, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	db, err := dbfile.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	m, err := migrate.NewFromFiles(db, path, files)
	if err != nil {
		return nil, err
	}
	cur, err := m.Current(ctx)
	if err != nil {
		return []Problem{{Where: path, Msg: err.Error()}}, nil
	}
	live, err := dbschema.Introspect(ctx, db)
	if err != nil {
		return nil, err
	}
	replayed, err := migrate.Replay(ctx, files, cur)
	if err != nil {
		return nil, err
	}
	var out []Problem
	for _, d := range plan.Compare(live, replayed, "database", fmt.Sprintf("migrations at version %d", cur)) {
		out = append(out, Problem{Where: path, Msg: d.String()})
	}
	return out, nil
}

func schemaPlace(s *schema.Schema, d plan.Difference) string {
	if v := s.View(d.Table); d.View && v != nil {
		return fmt.Sprintf("%s:%d", v.File, v.Line)
	}
	t := s.Table(d.Table)
	if t == nil {
		return "migrations"
	}
	if d.Column != "" {
		if c := t.Column(d.Column); c != nil {
			return fmt.Sprintf("%s:%d", t.File, c.Line)
		}
	}
	return fmt.Sprintf("%s:%d", t.File, t.Line)
}

func where(err error, dir string) string {
	var se *migrate.SumError
	if errors.As(err, &se) {
		if se.File != "" {
			return filepath.Join(se.Dir, se.File)
		}
		return filepath.Join(se.Dir, migrate.SumFile)
	}
	return dir
}

func errMsg(err error) string {
	var se *migrate.SumError
	if errors.As(err, &se) {
		return se.Msg
	}
	return err.Error()
}

// FirstDiff names the first line where a committed file (a) and what was
// generated (b) differ, as " (first at line N: committed …, generated …)",
// or "" when they are equal.
func FirstDiff(a, b []byte) string {
	al := strings.Split(string(a), "\n")
	bl := strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf(" (first at line %d: committed %q, generated %q)", i+1, strings.TrimSpace(x), strings.TrimSpace(y))
		}
	}
	return ""
}

// PrintGen writes a human summary of a Gen result.
func PrintGen(w io.Writer, res *GenResult) {
	if res.Migration != "" {
		fmt.Fprintf(w, "wrote %s:\n", res.Migration)
		for _, c := range res.Changes {
			fmt.Fprintf(w, "  %s\n", c)
		}
	} else {
		fmt.Fprintln(w, "migrations are up to date with the schema")
	}
	for _, f := range res.Written {
		fmt.Fprintf(w, "wrote %s\n", f)
	}
	for _, f := range res.Removed {
		fmt.Fprintf(w, "removed %s\n", f)
	}
}
