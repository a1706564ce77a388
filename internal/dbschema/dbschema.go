// Package dbschema reads the tables of a live DuckDB database into a plain
// description (State), renders DDL for schema tables, and builds the State a
// schema describes by letting DuckDB itself create its tables: DuckDB is the
// type oracle, so both sides of every comparison use DuckDB's canonical text.
package dbschema

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/dschema/dschema/internal/schema"
)

// State is the set of user tables and views in a database.
type State struct {
	Tables []*Table // sorted by name
	Views  []*View  // in creation order
}

// View is one view as DuckDB reports it.
type View struct {
	Name string
	// SQL is DuckDB's stored text (CREATE VIEW name AS ...;): valid SQL, but
	// not stable across reopening the database, so never compared.
	SQL string
	// Comment holds the description and the fingerprint of the schema's SQL.
	Comment string
}

// View returns the view called name, or nil.
func (s *State) View(name string) *View {
	for _, v := range s.Views {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// Table is one table as DuckDB reports it.
type Table struct {
	Name       string
	Comment    string
	Columns    []*Column // in table order
	PrimaryKey []string
	Indexes    []*Index // sorted by name
}

// Column is one column as DuckDB reports it.
type Column struct {
	Name    string
	Type    string // canonical DuckDB type text
	NotNull bool
	Default string // DuckDB's text of the default expression, "" for none
	Comment string
}

// Index is one secondary index (CREATE INDEX).
type Index struct {
	Name    string
	Columns []string
	Unique  bool
}

// Table returns the table called name, or nil.
func (s *State) Table(name string) *Table {
	for _, t := range s.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Column returns the column called name, or nil.
func (t *Table) Column(name string) *Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Index returns the index called name, or nil.
func (t *Table) Index(name string) *Index {
	for _, ix := range t.Indexes {
		if ix.Name == name {
			return ix
		}
	}
	return nil
}

// Querier is what Introspect needs: *sql.DB, *sql.Conn and *sql.Tx all fit.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// IsInternal reports whether a table belongs to dschema's own bookkeeping
// rather than to the schema.
func IsInternal(name string) bool { return name == "dschema_migrations" }

// Introspect reads every user table of the main schema, less dschema's own bookkeeping tables.
func Introspect(ctx context.Context, db Querier) (*State, error) {
	s := &State{}
	byName := map[string]*Table{}
	for _, read := range []func(context.Context, Querier, *State, map[string]*Table) error{readTables, readColumns, readViews, readPrimaryKeys} {
		if err := read(ctx, db, s, byName); err != nil {
			return nil, err
		}
	}

	rows, err := db.QueryContext(ctx, `SELECT table_name, index_name, is_unique, expressions FROM duckdb_indexes()
		WHERE schema_name = 'main' AND database_name = current_database() ORDER BY table_name, index_name`)
	if err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	for rows.Next() {
		var table, exprs string
		ix := &Index{}
		if err := rows.Scan(&table, &ix.Name, &ix.Unique, &exprs); err != nil {
			rows.Close()
			return nil, err
		}
		for _, e := range strings.Split(strings.Trim(exprs, "[]"), ",") {
			ix.Columns = append(ix.Columns, strings.Trim(strings.TrimSpace(e), `"`))
		}
		if t := byName[table]; t != nil {
			t.Indexes = append(t.Indexes, ix)
		}
	}
	rows.Close()
	return s, rows.Err()
}

// readTables adds the user tables to s, and to byName by name.
func readTables(ctx context.Context, db Querier, s *State, byName map[string]*Table) error {
	return eachRow(ctx, db, "list tables", `SELECT table_name, coalesce(comment, '') FROM duckdb_tables()
		WHERE schema_name = 'main' AND NOT temporary AND database_name = current_database() ORDER BY table_name`, func(rows *sql.Rows) error {
		t := &Table{}
		if err := rows.Scan(&t.Name, &t.Comment); err != nil {
			return err
		}
		if !IsInternal(t.Name) {
			s.Tables = append(s.Tables, t)
			byName[t.Name] = t
		}
		return nil
	})
}

// readColumns adds their columns, in order, to the tables of byName.
func readColumns(ctx context.Context, db Querier, _ *State, byName map[string]*Table) error {
	return eachRow(ctx, db, "list columns", `SELECT table_name, column_name, data_type, NOT is_nullable,
		coalesce(column_default, ''), coalesce(comment, '') FROM duckdb_columns()
		WHERE schema_name = 'main' AND database_name = current_database() ORDER BY table_name, column_index`, func(rows *sql.Rows) error {
		var table string
		c := &Column{}
		if err := rows.Scan(&table, &c.Name, &c.Type, &c.NotNull, &c.Default, &c.Comment); err != nil {
			return err
		}
		if t := byName[table]; t != nil { // views' columns are listed too: skip them
			t.Columns = append(t.Columns, c)
		}
		return nil
	})
}

// readViews adds the views to s, in the order they were made.
func readViews(ctx context.Context, db Querier, s *State, _ map[string]*Table) error {
	return eachRow(ctx, db, "list views", `SELECT view_name, sql, coalesce(comment, '') FROM duckdb_views()
		WHERE NOT internal AND schema_name = 'main' AND database_name = current_database() ORDER BY view_oid`, func(rows *sql.Rows) error {
		v := &View{}
		if err := rows.Scan(&v.Name, &v.SQL, &v.Comment); err != nil {
			return err
		}
		s.Views = append(s.Views, v)
		return nil
	})
}

// readPrimaryKeys sets the primary keys of the tables of byName.
func readPrimaryKeys(ctx context.Context, db Querier, _ *State, byName map[string]*Table) error {
	return eachRow(ctx, db, "list primary keys", `SELECT table_name, constraint_column_names FROM duckdb_constraints()
		WHERE constraint_type = 'PRIMARY KEY' AND schema_name = 'main' AND database_name = current_database()`, func(rows *sql.Rows) error {
		var table string
		var cols []any
		if err := rows.Scan(&table, &cols); err != nil {
			return err
		}
		if t := byName[table]; t != nil {
			for _, c := range cols {
				t.PrimaryKey = append(t.PrimaryKey, fmt.Sprint(c))
			}
		}
		return nil
	})
}

// eachRow runs query on db and calls f with each row; what names the
// query in its error ("list tables").
func eachRow(ctx context.Context, db Querier, what, query string, f func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for rows.Next() {
		if err := f(rows); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	return rows.Err()
}

// Ident quotes an identifier for DuckDB.
func Ident(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// Literal quotes a string literal for DuckDB.
func Literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func identList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = Ident(n)
	}
	return strings.Join(q, ", ")
}

// ColumnDef renders "name TYPE [DEFAULT d] [NOT NULL]".
func ColumnDef(c *Column) string {
	s := Ident(c.Name) + " " + c.Type
	if c.Default != "" {
		s += " DEFAULT " + c.Default
	}
	if c.NotNull {
		s += " NOT NULL"
	}
	return s
}

// CreateTable renders CREATE TABLE for t, without indexes and comments.
func CreateTable(t *Table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (\n", Ident(t.Name))
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("    " + ColumnDef(c))
	}
	if len(t.PrimaryKey) > 0 {
		fmt.Fprintf(&b, ",\n    PRIMARY KEY (%s)", identList(t.PrimaryKey))
	}
	b.WriteString("\n);")
	return b.String()
}

// CreateIndex renders CREATE [UNIQUE] INDEX.
func CreateIndex(table string, ix *Index) string {
	u := ""
	if ix.Unique {
		u = "UNIQUE "
	}
	return fmt.Sprintf("CREATE %sINDEX %s ON %s (%s);", u, Ident(ix.Name), Ident(table), identList(ix.Columns))
}

// DropIndex renders DROP INDEX.
func DropIndex(ix *Index) string { return fmt.Sprintf("DROP INDEX %s;", Ident(ix.Name)) }

// CommentOnTable renders COMMENT ON TABLE (NULL for an empty comment).
func CommentOnTable(table, comment string) string {
	return fmt.Sprintf("COMMENT ON TABLE %s IS %s;", Ident(table), commentValue(comment))
}

// CommentOnColumn renders COMMENT ON COLUMN (NULL for an empty comment).
func CommentOnColumn(table, column, comment string) string {
	return fmt.Sprintf("COMMENT ON COLUMN %s.%s IS %s;", Ident(table), Ident(column), commentValue(comment))
}

func commentValue(c string) string {
	if c == "" {
		return "NULL"
	}
	return Literal(c)
}

// CreateView renders CREATE [OR REPLACE] VIEW for a SELECT.
func CreateView(name, selectSQL string, replace bool) string {
	or := ""
	if replace {
		or = "OR REPLACE "
	}
	return fmt.Sprintf("CREATE %sVIEW %s AS\n%s;", or, Ident(name), strings.TrimSpace(selectSQL))
}

// RecreateView turns DuckDB's stored view text back into a statement that
// replaces the view.
func RecreateView(v *View) string {
	sql := strings.TrimSpace(v.SQL)
	if rest, ok := strings.CutPrefix(sql, "CREATE VIEW "); ok {
		sql = "CREATE OR REPLACE VIEW " + rest
	}
	if !strings.HasSuffix(sql, ";") {
		sql += ";"
	}
	return sql
}

// CommentOnView renders COMMENT ON VIEW (NULL for an empty comment).
func CommentOnView(view, comment string) string {
	return fmt.Sprintf("COMMENT ON VIEW %s IS %s;", Ident(view), commentValue(comment))
}

// DropView renders DROP VIEW.
func DropView(name string) string { return fmt.Sprintf("DROP VIEW %s;", Ident(name)) }

// CreateStatements renders everything that makes t: the table, its indexes and its comments.
func CreateStatements(t *Table) []string {
	out := []string{CreateTable(t)}
	for _, ix := range t.Indexes {
		out = append(out, CreateIndex(t.Name, ix))
	}
	if t.Comment != "" {
		out = append(out, CommentOnTable(t.Name, t.Comment))
	}
	for _, c := range t.Columns {
		if c.Comment != "" {
			out = append(out, CommentOnColumn(t.Name, c.Name, c.Comment))
		}
	}
	return out
}

// FromSchemaTable turns a schema table into its State form, with types as
// written in the YAML (not yet canonical).
// A key that is not indexed (key_index: false) is no PRIMARY KEY here:
// its columns are NOT NULL, and DuckDB knows nothing more of it.
func FromSchemaTable(st *schema.Table) *Table {
	t := &Table{Name: st.Name, Comment: st.Comment()}
	if !st.KeyNotIndexed {
		t.PrimaryKey = append([]string(nil), st.PrimaryKey...)
	}
	for _, c := range st.Columns {
		t.Columns = append(t.Columns, &Column{Name: c.Name, Type: c.Type, NotNull: c.NotNull, Default: c.Default, Comment: c.Comment()})
	}
	for _, ix := range st.Indexes {
		t.Indexes = append(t.Indexes, &Index{Name: ix.Name, Columns: append([]string(nil), ix.Columns...), Unique: ix.Unique})
	}
	sort.Slice(t.Indexes, func(i, j int) bool { return t.Indexes[i].Name < t.Indexes[j].Name })
	return t
}

// Canonical creates the schema's tables (without comments, which DuckDB only
// stores) in db, which must be an empty scratch database, and returns the
// State DuckDB reports, with the schema's comments. Types DuckDB rejects are
// errors naming file, line, table and column. It also writes each column's
// canonical type back into s.
func Canonical(ctx context.Context, db *sql.DB, s *schema.Schema) (*State, error) {
	for _, st := range s.Tables {
		t := FromSchemaTable(st)
		stmts := []string{CreateTable(t)}
		for _, ix := range t.Indexes {
			stmts = append(stmts, CreateIndex(t.Name, ix))
		}
		for _, stmt := range stmts {
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				return nil, pinpoint(ctx, db, st, err)
			}
		}
		// DuckDB takes any default expression at CREATE time and fails only
		// when a row needs it: evaluate each one now.
		for _, c := range st.Columns {
			if c.Default == "" {
				continue
			}
			if _, err := db.ExecContext(ctx, fmt.Sprintf("SELECT CAST(%s AS %s)", c.Default, c.Type)); err != nil {
				return nil, &schema.Error{File: st.File, Line: c.Line, Col: c.Col,
					Msg: fmt.Sprintf("table %q: column %q: DuckDB rejects default %q: %s", st.Name, c.Name, c.Default, firstLine(err))}
			}
		}
	}
	for _, v := range s.Views {
		if _, err := db.ExecContext(ctx, CreateView(v.Name, v.SQL, false)); err != nil {
			return nil, &schema.Error{File: v.File, Line: v.Line, Col: 1, Msg: fmt.Sprintf("view %q: DuckDB rejects it: %s", v.Name, firstLine(err))}
		}
	}
	state, err := Introspect(ctx, db)
	if err != nil {
		return nil, err
	}
	for _, v := range s.Views {
		state.View(v.Name).Comment = v.Comment()
	}
	for _, st := range s.Tables {
		t := state.Table(st.Name)
		if t == nil {
			return nil, fmt.Errorf("table %q was not created", st.Name)
		}
		t.Comment = st.Comment()
		for _, sc := range st.Columns {
			t.Column(sc.Name).Comment = sc.Comment()
		}
	}
	if err := SetCanonicalTypes(s, state); err != nil {
		return nil, err
	}
	return state, nil
}

// SetCanonicalTypes writes each column's canonical type from state (what
// Canonical returned for s) back into s.
func SetCanonicalTypes(s *schema.Schema, state *State) error {
	for _, st := range s.Tables {
		t := state.Table(st.Name)
		if t == nil {
			return fmt.Errorf("table %q was not created", st.Name)
		}
		for _, sc := range st.Columns {
			c := t.Column(sc.Name)
			if c == nil {
				return fmt.Errorf("table %q: column %q was not created", st.Name, sc.Name)
			}
			sc.Type = c.Type
		}
	}
	return nil
}

// CanonicalKey lists everything Canonical's result depends on: the
// statements it runs and the comments it sets.
func CanonicalKey(s *schema.Schema) [][]byte {
	var parts [][]byte
	for _, st := range s.Tables {
		for _, stmt := range CreateStatements(FromSchemaTable(st)) {
			parts = append(parts, []byte(stmt))
		}
	}
	for _, v := range s.Views {
		parts = append(parts, []byte(CreateView(v.Name, v.SQL, false)), []byte(CommentOnView(v.Name, v.Comment())))
	}
	return parts
}

// pinpoint finds which column (or default) of st DuckDB rejected.
func pinpoint(ctx context.Context, db *sql.DB, st *schema.Table, cause error) error {
	for _, c := range st.Columns {
		probe := fmt.Sprintf("SELECT CAST(NULL AS %s)", c.Type)
		if _, err := db.ExecContext(ctx, probe); err != nil {
			return &schema.Error{File: st.File, Line: c.Line, Col: c.Col,
				Msg: fmt.Sprintf("table %q: column %q: DuckDB rejects type %q: %s", st.Name, c.Name, c.Type, firstLine(err))}
		}
		if c.Default != "" {
			probe := fmt.Sprintf("SELECT CAST(%s AS %s)", c.Default, c.Type)
			if _, err := db.ExecContext(ctx, probe); err != nil {
				return &schema.Error{File: st.File, Line: c.Line, Col: c.Col,
					Msg: fmt.Sprintf("table %q: column %q: DuckDB rejects default %q: %s", st.Name, c.Name, c.Default, firstLine(err))}
			}
		}
	}
	return &schema.Error{File: st.File, Line: st.Line, Col: 1, Msg: fmt.Sprintf("table %q: DuckDB rejects it: %s", st.Name, firstLine(cause))}
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// RestoresMarker starts the comment line a generated migration's Down holds
// before the statement that moves a promoted column's values back into the
// map they came from, exactly: "-- dschema: restores <table>.<column>". The
// planner writes it; migrate's loss check reads it.
const RestoresMarker = "-- dschema: restores "

// KeysNotIndexed reads the key of each table whose key DuckDB does not hold
// (key_index: false in the schema) from the database's own list of them,
// the view schema.KeysView; none in a database without that view (before
// its migration).
func KeysNotIndexed(ctx context.Context, db Querier) (map[string][]string, error) {
	keys := map[string][]string{}
	views := 0
	if err := eachRow(ctx, db, "look for "+schema.KeysView, `SELECT count(*) FROM duckdb_views()
		WHERE view_name = `+Literal(schema.KeysView)+` AND database_name = current_database() AND schema_name = 'main'`,
		func(rows *sql.Rows) error { return rows.Scan(&views) }); err != nil || views == 0 {
		return keys, err
	}
	err := eachRow(ctx, db, "read "+schema.KeysView, "SELECT table_name, CAST(to_json(key_columns) AS VARCHAR) FROM "+Ident(schema.KeysView),
		func(rows *sql.Rows) error {
			var name, cols string
			if err := rows.Scan(&name, &cols); err != nil {
				return err
			}
			var key []string
			if err := json.Unmarshal([]byte(cols), &key); err != nil {
				return fmt.Errorf("read %s: table %s: %w", schema.KeysView, name, err)
			}
			keys[name] = key
			return nil
		})
	return keys, err
}

// SharedKeys is a query of one row: how many keys (the columns key) of
// table are each on more than one row, and up to five of them, in key
// order, as "k1 / k2 (n rows)" joined by "; " ("" for none).
func SharedKeys(table string, key []string) string {
	k := identList(key)
	return fmt.Sprintf(`SELECT count(*), coalesce(string_agg(ex, '; ' ORDER BY i) FILTER (WHERE i <= 5), '') FROM (
		SELECT concat_ws(' / ', %s) || ' (' || count(*) || ' rows)' AS ex, row_number() OVER (ORDER BY %s) AS i FROM %s GROUP BY %s HAVING count(*) > 1)`,
		k, k, Ident(table), k)
}
