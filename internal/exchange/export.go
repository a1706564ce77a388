package exchange

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/internal/version"
	"github.com/dschema/dschema/migrations"
)

// DefaultMaxFileBytes is the size a parquet file is closed at: files of a
// few hundred MB are what the Hugging Face Hub handles well.
const DefaultMaxFileBytes = 256 << 20

// DefaultPartitions are the tables written Hive-style, one folder per value
// of the column their queries filter on.
var DefaultPartitions = map[string]string{
	"wandb_history":       "run_id",
	"qa_question_outputs": "task",
	"pretrain_evals":      "params",
}

// Options tune an export.
type Options struct {
	// DBName names the database in messages.
	DBName string
	// MaxFileBytes is the size at which a file is closed and the next one
	// started (DuckDB's FILE_SIZE_BYTES, checked after each row group);
	// 0 means DefaultMaxFileBytes.
	MaxFileBytes int64
	// RowGroupRows is the parquet row group size in rows; 0 means DuckDB's
	// default (122,880).
	RowGroupRows int64
	// PartitionBy maps a table to its partition column; nil means
	// DefaultPartitions. A table missing from the database is ignored.
	PartitionBy map[string]string
}

func (o *Options) defaults() {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.PartitionBy == nil {
		o.PartitionBy = DefaultPartitions
	}
}

// Export writes every base table of db (views are not exported) as zstd
// parquet under dir, with manifest.json and schema.json beside them. dir
// must not exist or be empty; the export is written to a folder beside it
// and renamed into place at the end, so a failed export leaves nothing. All
// tables are read in one transaction: the export is one snapshot.
func Export(ctx context.Context, db *sql.DB, dir string, o Options) (*Manifest, error) {
	o.defaults()
	if err := checkOutDir(dir); err != nil {
		return nil, err
	}
	ver, sum, err := dbVersion(ctx, db, o.DBName)
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return nil, err
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK") //nolint:errcheck // read-only snapshot
	st, err := dbschema.Introspect(ctx, conn)
	if err != nil {
		return nil, err
	}
	keys, err := dbschema.KeysNotIndexed(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dir)), "."+filepath.Base(dir)+".partial-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	m := &Manifest{Format: Format, DschemaVersion: version.String(), SchemaVersion: ver, MigrationSum: sum, MaxFileBytes: o.MaxFileBytes}
	if err := writeAll(ctx, conn, tmp, st, keys, m, o); err != nil {
		return nil, err
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return m, nil
}

// checkOutDir refuses a dir that exists and is not an empty folder.
func checkOutDir(dir string) error {
	if dir == "" {
		return errors.New("export: no folder named (--dir)")
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("export: %s is not empty (%s, …): name a new folder", dir, entries[0].Name())
	}
	return nil
}

// dbVersion returns db's schema version, after checking that its applied
// migrations are this binary's, and the migration sum up to it.
func dbVersion(ctx context.Context, db *sql.DB, name string) (int64, string, error) {
	mg, err := migrate.New(db, name, migrations.FS, "migrations")
	if err != nil {
		return 0, "", err
	}
	v, err := mg.Current(ctx)
	if err != nil {
		return 0, "", err
	}
	sum, _ := MigrationSum(mg.Files(), v)
	return v, sum, nil
}

// MigrationSum is the chained hash of files up to and including version v,
// in dschema.sum's h1: form (the first line dschema migrate hash would write
// for those files); false when no file has version v (v 0 is no file).
func MigrationSum(files []migrate.File, v int64) (string, bool) {
	n := 0
	for n < len(files) && files[n].Version <= v {
		n++
	}
	if v != 0 && (n == 0 || files[n-1].Version != v) {
		return "", false
	}
	first, _, _ := strings.Cut(string(migrate.Sum(files[:n])), "\n")
	return first, true
}

// writeAll writes every table of st under root, then schema.json and
// manifest.json, filling m.
func writeAll(ctx context.Context, conn *sql.Conn, root string, st *dbschema.State, keys map[string][]string, m *Manifest, o Options) error {
	sch := &Schema{Format: Format}
	for _, t := range st.Tables {
		cols, err := columnsOf(t)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		part := o.PartitionBy[t.Name]
		if part != "" && t.Column(part) == nil {
			return fmt.Errorf("export: table %s has no partition column %s", t.Name, part)
		}
		files, err := writeTable(ctx, conn, root, t, cols, part, o)
		if err != nil {
			return err
		}
		te := TableEntry{Name: t.Name, PartitionBy: part}
		for _, f := range files {
			te.Rows += f.Rows
		}
		m.Tables = append(m.Tables, te)
		m.Files = append(m.Files, files...)
		sch.Tables = append(sch.Tables, schemaTable(t, keys[t.Name], cols, part))
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	if err := loadIDs(ctx, conn, st, m); err != nil {
		return err
	}
	b, err := writeJSON(filepath.Join(root, SchemaFile), sch)
	if err != nil {
		return err
	}
	m.SchemaSHA256 = hexSum(b)
	_, err = writeJSON(filepath.Join(root, ManifestFile), m)
	return err
}

// loadIDs fills m.LoadIDs from dschema_loads, when the database has it.
func loadIDs(ctx context.Context, conn *sql.Conn, st *dbschema.State, m *Manifest) error {
	m.LoadIDs = []int64{}
	if st.Table("dschema_loads") == nil {
		return nil
	}
	rows, err := conn.QueryContext(ctx, "SELECT load_id FROM dschema_loads ORDER BY load_id")
	if err != nil {
		return fmt.Errorf("export: list loads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		m.LoadIDs = append(m.LoadIDs, id)
	}
	return rows.Err()
}

// schemaTable is t's entry in schema.json; key is its primary key when
// DuckDB does not hold it (dbschema.KeysNotIndexed).
func schemaTable(t *dbschema.Table, key []string, cols []column, part string) SchemaTable {
	if len(t.PrimaryKey) > 0 {
		key = t.PrimaryKey
	}
	st := SchemaTable{Name: t.Name, Description: t.Comment, PrimaryKey: key, PartitionBy: part}
	for i, c := range cols {
		st.Columns = append(st.Columns, SchemaColumn{Name: c.Name, Type: c.Type, NotNull: t.Columns[i].NotNull, Repr: c.Repr, Description: t.Columns[i].Comment})
	}
	return st
}

// writeTable writes t under root/<table>, one folder per partition value
// when part names a column, and returns its files.
func writeTable(ctx context.Context, conn *sql.Conn, root string, t *dbschema.Table, cols []column, part string, o Options) ([]FileEntry, error) {
	if part == "" {
		return writeFiles(ctx, conn, root, t.Name, selectSQL(t, cols, ""), nil, o)
	}
	values, err := partitionValues(ctx, conn, t.Name, part)
	if err != nil {
		return nil, err
	}
	var out []FileEntry
	seen := map[string]*string{}
	for _, v := range values {
		where := dbschema.Ident(part) + " IS NULL"
		if v != nil {
			where = dbschema.Ident(part) + " = " + dbschema.Literal(*v)
		}
		dir := hiveDir(part, v)
		if w, dup := seen[dir]; dup { // two hashed names alike: refused rather than one folder for both
			return nil, fmt.Errorf("export %s: %s values %s and %s both get the folder %s", t.Name, part, quoted(w), quoted(v), dir)
		}
		seen[dir] = v
		rel := t.Name + "/" + dir
		files, err := writeFiles(ctx, conn, root, rel, selectSQL(t, cols, where), map[string]*string{part: v}, o)
		if err != nil {
			return nil, err
		}
		for i := range files {
			files[i].Table = t.Name
		}
		out = append(out, files...)
	}
	return out, nil
}

// quoted is v in quotes, or NULL.
func quoted(v *string) string {
	if v == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *v)
}

// partitionValues lists the distinct values of column part of table, NULL last.
func partitionValues(ctx context.Context, conn *sql.Conn, table, part string) ([]*string, error) {
	rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT DISTINCT CAST(%s AS VARCHAR) AS v FROM %s ORDER BY v NULLS LAST", dbschema.Ident(part), dbschema.Ident(table)))
	if err != nil {
		return nil, fmt.Errorf("export %s: partitions: %w", table, err)
	}
	defer rows.Close()
	var out []*string
	for rows.Next() {
		var v sql.NullString
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		if v.Valid {
			s := v.String
			out = append(out, &s)
		} else {
			out = append(out, nil)
		}
	}
	return out, rows.Err()
}

// selectSQL selects t's rows in their exported representation, in primary
// key order (so that an export of the same database is the same files).
func selectSQL(t *dbschema.Table, cols []column, where string) string {
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = c.exportExpr()
	}
	// ORDER BY names the table's own columns (t.), not the exported text.
	q := "SELECT " + strings.Join(exprs, ", ") + " FROM " + dbschema.Ident(t.Name) + " AS t"
	if where != "" {
		q += " WHERE " + where
	}
	order := t.PrimaryKey
	if len(order) == 0 {
		for _, c := range t.Columns {
			order = append(order, c.Name)
		}
	}
	keys := make([]string, len(order))
	for i, k := range order {
		keys[i] = "t." + dbschema.Ident(k)
	}
	return q + " ORDER BY " + strings.Join(keys, ", ")
}

// writeFiles copies the rows of query into root/rel/part-<i>.parquet,
// splitting at o.MaxFileBytes, and describes the files written.
func writeFiles(ctx context.Context, conn *sql.Conn, root, rel, query string, part map[string]*string, o Options) ([]FileEntry, error) {
	dir := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	opts := fmt.Sprintf("FORMAT parquet, COMPRESSION zstd, FILE_SIZE_BYTES %d, FILENAME_PATTERN 'part-{i}'", o.MaxFileBytes)
	if o.RowGroupRows > 0 {
		opts += fmt.Sprintf(", ROW_GROUP_SIZE %d", o.RowGroupRows)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("COPY (%s) TO %s (%s)", query, dbschema.Literal(dir), opts)); err != nil {
		return nil, fmt.Errorf("export %s: %w", rel, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", rel, err)
	}
	var out []FileEntry
	for _, e := range entries {
		fe, err := describeFile(ctx, conn, root, rel+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		fe.Table, _, _ = strings.Cut(rel, "/")
		fe.Partition = part
		out = append(out, fe)
	}
	return out, nil
}

// describeFile hashes the file at root/rel and reads its row count.
func describeFile(ctx context.Context, conn *sql.Conn, root, rel string) (FileEntry, error) {
	path := filepath.Join(root, filepath.FromSlash(rel))
	fe := FileEntry{Path: rel}
	sum, n, err := hashFile(path)
	if err != nil {
		return fe, err
	}
	fe.SHA256, fe.Bytes = sum, n
	fe.Rows, err = parquetRows(ctx, conn, path)
	return fe, err
}

// parquetRows reads the row count in a parquet file's footer.
func parquetRows(ctx context.Context, conn *sql.Conn, path string) (int64, error) {
	var n int64
	if err := conn.QueryRowContext(ctx, "SELECT num_rows FROM parquet_file_metadata("+dbschema.Literal(path)+")").Scan(&n); err != nil {
		return 0, fmt.Errorf("%s: read parquet footer: %w", path, err)
	}
	return n, nil
}

// hashFile returns the hex sha256 and the size of the file at path.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func hexSum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
