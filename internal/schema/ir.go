// Package schema reads dschema's canonical table definitions (the YAML in the
// repository's schema/ folder) into an intermediate representation (IR) for
// code generation, migration planning, documentation and checks, with errors
// at positions an editor can jump to.
package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
)

// Schema is every domain's tables, sorted by table name.
type Schema struct {
	Domains []*Domain
	Tables  []*Table
	Views   []*View // in declaration order (files by name, then file order): a view may use those before it
}

// View is a derived relation, kept in the database and versioned by migrations.
type View struct {
	Name        string
	Description string
	SQL         string // the SELECT
	Domain      string
	File        string
	Line        int
}

// SQLHash fingerprints the view's SQL (whitespace-normalised). DuckDB
// re-renders a stored view's text differently after the database is reopened
// (EXCLUDE lists reorder, quoting changes), so the text it reports cannot be
// compared; the fingerprint, kept in the view's comment, can.
func (v *View) SQLHash() string {
	h := sha256.Sum256([]byte(strings.Join(strings.Fields(v.SQL), " ")))
	return hex.EncodeToString(h[:])[:12]
}

// Comment is the text stored by COMMENT ON VIEW: the description and the SQL fingerprint.
func (v *View) Comment() string { return v.Description + " [sql " + v.SQLHash() + "]" }

// ViewSQLHash reads the fingerprint back from a view comment ("" when there is none).
func ViewSQLHash(comment string) string {
	i := strings.LastIndex(comment, " [sql ")
	if i < 0 || !strings.HasSuffix(comment, "]") {
		return ""
	}
	return comment[i+len(" [sql ") : len(comment)-1]
}

// View returns the view called name, or nil.
func (s *Schema) View(name string) *View {
	for _, v := range s.Views {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// Table returns the table called name, or nil.
func (s *Schema) Table(name string) *Table {
	for _, t := range s.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Domain is one YAML file.
type Domain struct {
	Name        string
	Description string
	File        string // path as given to Load, e.g. "schema/wandb.yaml"
	Tables      []*Table
	Views       []*View
}

// Table is one canonical table.
type Table struct {
	Name        string
	Description string
	RenamedFrom string
	PrimaryKey  []string
	// KeyNotIndexed (key_index: false) keeps PrimaryKey as the table's
	// documented key, its columns NOT NULL, without a PRIMARY KEY
	// constraint: DuckDB keeps no index of it, and the loads that write
	// the table must make rows that keep it (dschema verify checks it).
	KeyNotIndexed bool
	Indexes       []*Index
	Columns       []*Column
	Domain        string
	File          string
	Line          int
	goName        string
}

// Column is one column, after family expansion.
type Column struct {
	Name        string
	Type        string // as written in the YAML; DuckDB's canonical form after Canonicalize
	NotNull     bool
	Default     string // SQL expression, "" for none
	Unit        string
	Description string
	RenamedFrom string
	// Key is the source key the column holds (a W&B metric key such as
	// "logps/chosen") as written, "" when the YAML gives none: see SourceKey.
	// It tells loaders where values come from and never reaches the database.
	Key string
	// PromotedFrom names the MAP(VARCHAR, …) column of the same table that
	// held this key's values before the column existed; the migration that
	// adds the column moves them out of it (and Down moves them back).
	PromotedFrom string
	Family       string // the family pattern this column was expanded from, "" for plain columns
	// FamilyValues are the axis values that made this column, e.g. {task: arc_easy, metric: acc_raw}.
	FamilyValues map[string]string
	Line         int
	Col          int
}

// SourceKey is the key of the source data this column holds: Key, or the
// column name when the YAML gives no key.
func (c *Column) SourceKey() string {
	if c.Key != "" {
		return c.Key
	}
	return c.Name
}

// Index is a secondary index.
type Index struct {
	Name    string
	Columns []string
	Unique  bool
	Line    int
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

// Comment is the text stored by COMMENT ON TABLE.
func (t *Table) Comment() string { return t.Description }

// Comment is the text stored by COMMENT ON COLUMN: the description, and the unit when there is one.
func (c *Column) Comment() string {
	if c.Unit == "" {
		return c.Description
	}
	return c.Description + " [unit: " + c.Unit + "]"
}

// GoName is the exported Go name of one row of the table: the camel-cased
// table name with a plural "s" dropped, unless go_name overrides it.
func (t *Table) GoName() string {
	if t.goName != "" {
		return t.goName
	}
	n := GoIdent(t.Name)
	if strings.HasSuffix(n, "s") && !strings.HasSuffix(n, "ss") {
		n = strings.TrimSuffix(n, "s")
	}
	return n
}

// GoName is the exported Go field name of the column.
func (c *Column) GoName() string { return GoIdent(c.Name) }

var initialisms = map[string]string{
	"id": "ID", "url": "URL", "lr": "LR", "json": "JSON", "sql": "SQL", "qa": "QA",
	"uuid": "UUID", "api": "API", "mlp": "MLP", "eos": "EOS", "rms": "RMS", "sha256": "SHA256",
	"mmlu": "MMLU", "ppl": "PPL", "utc": "UTC",
}

// GoIdent turns a snake_case name into an exported Go identifier, with Go's
// initialisms (run_id → RunID).
func GoIdent(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "_") {
		if part == "" {
			continue
		}
		if up, ok := initialisms[part]; ok {
			b.WriteString(up)
			continue
		}
		r := []rune(part)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	s := b.String()
	if s == "" || !unicode.IsLetter([]rune(s)[0]) {
		s = "X" + s
	}
	return s
}
