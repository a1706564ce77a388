package exchange

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/migrations"
)

// Sentinel errors of Import; the errors it returns wrap them.
var (
	// ErrUnknownVersion: the export's schema version is not one of this binary's migrations.
	ErrUnknownVersion = errors.New("schema version unknown to this dschema")
	// ErrSumMismatch: the export's migrations are not this binary's.
	ErrSumMismatch = errors.New("migration sum differs")
	// ErrFileMismatch: a file of the export is missing, extra, or not what the manifest says.
	ErrFileMismatch = errors.New("export file does not match its manifest")
	// ErrNotEmpty: the target database already holds something.
	ErrNotEmpty = errors.New("target database is not empty")
	// ErrSchemaMismatch: the export's tables are not the migrated database's.
	ErrSchemaMismatch = errors.New("export's tables differ from the schema")
	// ErrSharedKey: rows of a table whose key DuckDB does not hold
	// (key_index: false) share a key.
	ErrSharedKey = errors.New("rows share a key")
)

// FileError names a file of an export and what is wrong with it.
type FileError struct {
	Path string // relative to the export's folder
	Msg  string
}

func (e *FileError) Error() string { return e.Path + ": " + e.Msg }

// Unwrap returns ErrFileMismatch.
func (e *FileError) Unwrap() error { return ErrFileMismatch }

// ImportOptions tune an import.
type ImportOptions struct {
	// Out receives the migrations applied (nil: nothing is printed).
	Out io.Writer
}

// Import loads the export in dir into a new database at dbPath, at the
// export's schema version. It refuses a database at dbPath that holds any
// table or view, an export whose schema version or migration sum is not this
// binary's, and any file that is missing, extra, or whose size, sha256 or
// row count is not the manifest's, before it writes anything. The database
// is built in a file beside dbPath and renamed into place once every table
// is loaded, in one transaction: a failed import leaves no database.
func Import(ctx context.Context, dbPath, dir string, o ImportOptions) (*Manifest, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if err := checkTarget(ctx, dbPath); err != nil {
		return nil, err
	}
	m, sch, files, err := checkExport(ctx, dir)
	if err != nil {
		return nil, err
	}
	tmp, err := tempDBPath(dbPath)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp + ".wal")
	defer os.Remove(tmp)
	if err := build(ctx, tmp, dir, m, sch, files, o.Out); err != nil {
		return nil, err
	}
	for _, p := range []string{dbPath + ".wal", dbPath} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return m, nil
}

// checkTarget refuses a database at path that holds a table or a view.
func checkTarget(ctx context.Context, path string) error {
	if err := dbfile.Named(path); err != nil {
		return err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	db, err := dbfile.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM duckdb_tables() WHERE NOT internal AND database_name = current_database())
		+ (SELECT count(*) FROM duckdb_views() WHERE NOT internal AND database_name = current_database())`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("import into %s: %w (%d tables and views): import creates a new database; name a new file", path, ErrNotEmpty, n)
	}
	return nil
}

// tempDBPath is a free file name beside path.
func tempDBPath(path string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(filepath.Clean(path)), "."+filepath.Base(path)+".import-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	f.Close()
	return name, os.Remove(name)
}

// checkExport reads the manifest and schema.json of dir and checks them and
// every file against this binary's migrations and the manifest. It returns
// the migrations up to the export's version.
func checkExport(ctx context.Context, dir string) (*Manifest, *Schema, []migrate.File, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	files, err := binaryMigrations(m)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkFiles(ctx, dir, m); err != nil {
		return nil, nil, nil, err
	}
	sch := &Schema{}
	if err := readJSON(filepath.Join(dir, SchemaFile), sch); err != nil {
		return nil, nil, nil, err
	}
	return m, sch, files, nil
}

// binaryMigrations returns this binary's migrations up to m's schema
// version, refusing an unknown version or a different sum.
func binaryMigrations(m *Manifest) ([]migrate.File, error) {
	if err := migrate.VerifySum(migrations.FS, "migrations"); err != nil {
		return nil, err
	}
	all, err := migrate.ReadFiles(migrations.FS)
	if err != nil {
		return nil, err
	}
	sum, ok := MigrationSum(all, m.SchemaVersion)
	if !ok {
		newest := int64(0)
		if len(all) > 0 {
			newest = all[len(all)-1].Version
		}
		return nil, fmt.Errorf("import: the export is at schema version %d, this dschema has migrations up to %d and no version %d: %w", m.SchemaVersion, newest, m.SchemaVersion, ErrUnknownVersion)
	}
	if sum != m.MigrationSum {
		return nil, fmt.Errorf("import: at schema version %d the export's migration sum is %s, this dschema's is %s: %w (the export was made by a dschema with other migrations)", m.SchemaVersion, m.MigrationSum, sum, ErrSumMismatch)
	}
	var files []migrate.File
	for _, f := range all {
		if f.Version <= m.SchemaVersion {
			files = append(files, f)
		}
	}
	return files, nil
}

// checkFiles compares the files under dir with the manifest: the same set
// (besides manifest.json, schema.json, a top-level README.md and dot files,
// which an upload to the Hub may add), and each file's size and sha256;
// schema.json's sha256 too; and each file's row count in its parquet footer.
func checkFiles(ctx context.Context, dir string, m *Manifest) error {
	want := map[string]FileEntry{}
	for _, f := range m.Files {
		want[f.Path] = f
	}
	var extra []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(d.Name(), ".") && rel != "." {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || rel == ManifestFile || rel == SchemaFile || rel == "README.md" {
			return nil
		}
		if _, ok := want[rel]; !ok {
			extra = append(extra, rel)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return &FileError{Path: extra[0], Msg: fmt.Sprintf("not in %s (%d files not in the manifest: %s)", ManifestFile, len(extra), strings.Join(extra, ", "))}
	}
	mem, err := dbfile.Open(ctx, ":memory:")
	if err != nil {
		return err
	}
	defer mem.Close()
	for _, f := range m.Files {
		if err := checkFile(ctx, mem, dir, f); err != nil {
			return err
		}
	}
	sum, _, err := hashFile(filepath.Join(dir, SchemaFile))
	if err != nil {
		return &FileError{Path: SchemaFile, Msg: err.Error()}
	}
	if sum != m.SchemaSHA256 {
		return &FileError{Path: SchemaFile, Msg: fmt.Sprintf("sha256 %s, the manifest says %s", sum, m.SchemaSHA256)}
	}
	return nil
}

// checkFile compares one file's size, sha256 and row count with its manifest entry.
func checkFile(ctx context.Context, mem *sql.DB, dir string, f FileEntry) error {
	if !filepath.IsLocal(filepath.FromSlash(f.Path)) {
		return &FileError{Path: f.Path, Msg: "not a relative path inside the export"}
	}
	sum, n, err := hashFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
	if errors.Is(err, fs.ErrNotExist) {
		return &FileError{Path: f.Path, Msg: "missing (the manifest lists it)"}
	}
	if err != nil {
		return &FileError{Path: f.Path, Msg: err.Error()}
	}
	if n != f.Bytes || sum != f.SHA256 {
		return &FileError{Path: f.Path, Msg: fmt.Sprintf("%d bytes with sha256 %s, the manifest says %d bytes with sha256 %s", n, sum, f.Bytes, f.SHA256)}
	}
	conn, err := mem.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	rows, err := parquetRows(ctx, conn, filepath.Join(dir, filepath.FromSlash(f.Path)))
	if err != nil {
		return &FileError{Path: f.Path, Msg: err.Error()}
	}
	if rows != f.Rows {
		return &FileError{Path: f.Path, Msg: fmt.Sprintf("%d rows, the manifest says %d", rows, f.Rows)}
	}
	return nil
}

// build creates the database at path (the file beside the target that
// Import renames into place) with files (the migrations up to the export's
// version) and loads the export into it. No one sees the file before it is
// complete, so the migrations run without a transaction each (twice as
// fast: migrate.NewForNewFile).
func build(ctx context.Context, path, dir string, m *Manifest, sch *Schema, files []migrate.File, out io.Writer) error {
	db, err := dbfile.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	mg, err := migrate.NewForNewFile(db, path, files)
	if err != nil {
		return err
	}
	rs, err := mg.Up(ctx)
	for _, r := range rs {
		fmt.Fprintf(out, "applied %s (%s)\n", r.File, r.Duration.Round(1e6))
	}
	if err != nil {
		return fmt.Errorf("import: migrate %s: %w", path, err)
	}
	if err := loadDB(ctx, db, dir, m, sch); err != nil {
		return err
	}
	return db.Close()
}

// loadDB loads the export into db, whose tables must be the export's, in
// one transaction.
func loadDB(ctx context.Context, db *sql.DB, dir string, m *Manifest, sch *Schema) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	st, err := dbschema.Introspect(ctx, conn)
	if err != nil {
		return err
	}
	keys, err := dbschema.KeysNotIndexed(ctx, conn)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	plans, err := matchSchema(st, sch, keys)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if err := loadTables(ctx, conn, dir, m, plans); err != nil {
		conn.ExecContext(context.Background(), "ROLLBACK") //nolint:errcheck // the error is err
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("import: commit: %w", err)
	}
	return nil
}

// tablePlan is one table to load: its columns in the target database, and
// the key schema.json names when DuckDB does not hold it (key_index:
// false), which the load checks.
type tablePlan struct {
	name string
	cols []column
	key  []string
}

// matchSchema checks that schema.json describes exactly the tables and
// columns of st (the database the migrations made) and plans their load.
// keys are the keys DuckDB does not hold that the database lists itself;
// for another table without a constraint, schema.json's key is checked.
func matchSchema(st *dbschema.State, sch *Schema, keys map[string][]string) ([]tablePlan, error) {
	byName := map[string]SchemaTable{}
	for _, t := range sch.Tables {
		byName[t.Name] = t
	}
	var plans []tablePlan
	for _, t := range st.Tables {
		et, ok := byName[t.Name]
		if !ok {
			return nil, fmt.Errorf("import: table %s of schema version is not in the export's %s: %w", t.Name, SchemaFile, ErrSchemaMismatch)
		}
		delete(byName, t.Name)
		cols, err := columnsOf(t)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		if err := sameColumns(t.Name, cols, et.Columns); err != nil {
			return nil, err
		}
		p := tablePlan{name: t.Name, cols: cols, key: keys[t.Name]}
		if len(t.PrimaryKey) == 0 && p.key == nil {
			for _, k := range et.PrimaryKey {
				if t.Column(k) == nil {
					return nil, fmt.Errorf("import: the export's key of %s names column %s, which it lacks: %w", t.Name, k, ErrSchemaMismatch)
				}
			}
			p.key = et.PrimaryKey
		}
		plans = append(plans, p)
	}
	for name := range byName {
		return nil, fmt.Errorf("import: the export's table %s is not in the database its schema version makes: %w", name, ErrSchemaMismatch)
	}
	return plans, nil
}

// sameColumns checks that the export's columns of table are cols, with the same types and representations.
func sameColumns(table string, cols []column, ecols []SchemaColumn) error {
	if len(cols) != len(ecols) {
		return fmt.Errorf("import: table %s has %d columns, the export's %d: %w", table, len(cols), len(ecols), ErrSchemaMismatch)
	}
	for i, c := range cols {
		e := ecols[i]
		if c.Name != e.Name || c.Type != e.Type || c.Repr != e.Repr {
			return fmt.Errorf("import: table %s column %d is %s %s (%s), the export's %s %s (%s): %w", table, i+1, c.Name, c.Type, c.Repr, e.Name, e.Type, e.Repr, ErrSchemaMismatch)
		}
	}
	return nil
}

// loadTables replaces each table's rows (the migrations may seed some) with
// the export's, checking each table's row count.
func loadTables(ctx context.Context, conn *sql.Conn, dir string, m *Manifest, plans []tablePlan) error {
	rows := map[string]int64{}
	for _, t := range m.Tables {
		rows[t.Name] = t.Rows
	}
	for _, p := range plans {
		var paths []string
		for _, f := range m.Files {
			if f.Table != p.name {
				continue
			}
			path := filepath.Join(dir, filepath.FromSlash(f.Path))
			paths = append(paths, dbschema.Literal(path))
		}
		if err := loadTable(ctx, conn, p, paths, rows[p.name]); err != nil {
			return err
		}
	}
	for _, p := range plans {
		if p.name == "dschema_loads" {
			return checkLoadIDs(ctx, conn, m)
		}
	}
	return nil
}

// loadTable replaces the rows of one table by those of its files.
func loadTable(ctx context.Context, conn *sql.Conn, p tablePlan, paths []string, want int64) error {
	id := dbschema.Ident(p.name)
	if _, err := conn.ExecContext(ctx, "DELETE FROM "+id); err != nil {
		return fmt.Errorf("import %s: %w", p.name, err)
	}
	var got int64
	if len(paths) > 0 {
		names := make([]string, len(p.cols))
		exprs := make([]string, len(p.cols))
		for i, c := range p.cols {
			names[i] = dbschema.Ident(c.Name)
			exprs[i] = c.importExpr()
		}
		q := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM read_parquet([%s], hive_partitioning = false)",
			id, strings.Join(names, ", "), strings.Join(exprs, ", "), strings.Join(paths, ", "))
		res, err := conn.ExecContext(ctx, q)
		if err != nil {
			return fmt.Errorf("import %s: %w", p.name, err)
		}
		if got, err = res.RowsAffected(); err != nil {
			return err
		}
	}
	if got != want {
		return fmt.Errorf("import %s: %d rows read, the manifest says %d: %w", p.name, got, want, ErrFileMismatch)
	}
	return checkKey(ctx, conn, p)
}

// checkKey refuses rows of p's table that share the key DuckDB does not
// hold for it, naming a few.
func checkKey(ctx context.Context, conn *sql.Conn, p tablePlan) error {
	if len(p.key) == 0 {
		return nil
	}
	var n int64
	var examples string
	err := conn.QueryRowContext(ctx, dbschema.SharedKeys(p.name, p.key)).Scan(&n, &examples)
	if err != nil {
		return fmt.Errorf("import %s: %w", p.name, err)
	}
	if n > 0 {
		return fmt.Errorf("import %s: %d keys (%s) are each on more than one row: %s: %w", p.name, n, strings.Join(p.key, ", "), examples, ErrSharedKey)
	}
	return nil
}

// checkLoadIDs compares the imported dschema_loads with the manifest's load ids.
func checkLoadIDs(ctx context.Context, conn *sql.Conn, m *Manifest) error {
	var got string
	err := conn.QueryRowContext(ctx, "SELECT coalesce(string_agg(load_id::VARCHAR, ',' ORDER BY load_id), '') FROM dschema_loads").Scan(&got)
	if err != nil {
		return fmt.Errorf("import: read dschema_loads: %w", err)
	}
	want := make([]string, len(m.LoadIDs))
	for i, id := range m.LoadIDs {
		want[i] = fmt.Sprint(id)
	}
	if got != strings.Join(want, ",") {
		return fmt.Errorf("import: dschema_loads holds loads %s, the manifest says %s: %w", got, strings.Join(want, ","), ErrFileMismatch)
	}
	return nil
}
