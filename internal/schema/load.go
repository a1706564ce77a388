package schema

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dschema/dschema/internal/ducktype"
)

// Error is a problem in a schema file, at a position an editor can jump to.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// The YAML shapes. Decoding is strict: unknown fields are errors.
type fileYAML struct {
	Domain      string      `yaml:"domain"`
	Description string      `yaml:"description"`
	Tables      []tableYAML `yaml:"tables"`
	Views       []viewYAML  `yaml:"views"`
}

type viewYAML struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	SQL         string `yaml:"sql"`
}

type tableYAML struct {
	Name        string   `yaml:"name"`
	GoName      string   `yaml:"go_name"`
	Description string   `yaml:"description"`
	RenamedFrom string   `yaml:"renamed_from"`
	PrimaryKey  []string `yaml:"primary_key"`
	// KeyIndex false keeps the primary key without DuckDB's constraint
	// and its index (see Table.KeyNotIndexed).
	KeyIndex *bool        `yaml:"key_index"`
	Indexes  []indexYAML  `yaml:"indexes"`
	Columns  []columnYAML `yaml:"columns"`
}

type indexYAML struct {
	Name    string   `yaml:"name"`
	Columns []string `yaml:"columns"`
	Unique  bool     `yaml:"unique"`
}

type columnYAML struct {
	Name        string      `yaml:"name"`
	Family      *familyYAML `yaml:"family"`
	Type        string      `yaml:"type"`
	NotNull     bool        `yaml:"not_null"`
	Default     string      `yaml:"default"`
	Unit        string      `yaml:"unit"`
	Description string      `yaml:"description"`
	RenamedFrom string      `yaml:"renamed_from"`
	// Key is the source key (e.g. a W&B metric key) the column holds, when
	// it is not the column name.
	Key string `yaml:"key"`
	// PromotedFrom names the MAP column that held the key's values before.
	PromotedFrom string `yaml:"promoted_from"`
}

// familyYAML is a compact grid of columns: every combination of the axes'
// values (the first axis outermost) substituted into the name pattern, less
// the names in except.
type familyYAML struct {
	Name   string                `yaml:"name"`
	Axes   []map[string][]string `yaml:"axes"`
	Except []string              `yaml:"except"`
}

var identRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// ValidIdent reports whether name is a table or column name the schema
// accepts: lower snake_case, starting with a letter.
func ValidIdent(name string) bool { return identRE.MatchString(name) }

// reservedPrefixes are table-name prefixes the tool keeps for itself.
var reservedTables = map[string]bool{"dschema_migrations": true}

// Load reads every *.yaml file in dir of fsys (sorted by name) and returns
// the validated schema. displayDir prefixes file names in errors and in
// Domain.File (e.g. "schema").
func Load(fsys fs.FS, dir, displayDir string) (*Schema, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no schema files (*.yaml) in %s", displayDir)
	}
	sort.Strings(names)
	s := &Schema{}
	seen := map[string]*Table{}
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		d, err := parseFile(path.Join(displayDir, path.Base(n)), data)
		if err != nil {
			return nil, err
		}
		for _, t := range d.Tables {
			if prev, ok := seen[t.Name]; ok {
				return nil, &Error{t.File, t.Line, 1, fmt.Sprintf("table %q is already defined at %s:%d", t.Name, prev.File, prev.Line)}
			}
			seen[t.Name] = t
			s.Tables = append(s.Tables, t)
		}
		for _, v := range d.Views {
			if prev, ok := seen[v.Name]; ok {
				return nil, &Error{v.File, v.Line, 1, fmt.Sprintf("view %q has the name of the table at %s:%d", v.Name, prev.File, prev.Line)}
			}
			if prev := s.View(v.Name); prev != nil {
				return nil, &Error{v.File, v.Line, 1, fmt.Sprintf("view %q is already defined at %s:%d", v.Name, prev.File, prev.Line)}
			}
			s.Views = append(s.Views, v)
		}
		s.Domains = append(s.Domains, d)
	}
	sort.Slice(s.Tables, func(i, j int) bool { return s.Tables[i].Name < s.Tables[j].Name })
	if err := s.addKeysView(seen); err != nil {
		return nil, err
	}
	goNames := map[string]string{}
	for _, t := range s.Tables {
		if other, ok := goNames[t.GoName()]; ok {
			return nil, &Error{t.File, t.Line, 1, fmt.Sprintf("table %q has the same Go name %s as table %q; set go_name", t.Name, t.GoName(), other)}
		}
		goNames[t.GoName()] = t.Name
	}
	return s, nil
}

// KeysView is the view that lists the key of each table whose key DuckDB
// does not hold (key_index: false), so that a database says them itself at
// every version: export names them, import checks them.
const KeysView = "dschema_keys"

// addKeysView adds KeysView to s, in the domain of the first table (by
// name) whose key is not indexed, when there is one. seen holds every
// table and view name.
func (s *Schema) addKeysView(seen map[string]*Table) error {
	var rows []string
	var first *Table
	for _, t := range s.Tables {
		if !t.KeyNotIndexed {
			continue
		}
		if first == nil {
			first = t
		}
		cols := make([]string, len(t.PrimaryKey))
		for i, k := range t.PrimaryKey {
			cols[i] = quoteLiteral(k)
		}
		rows = append(rows, fmt.Sprintf("(%s, [%s])", quoteLiteral(t.Name), strings.Join(cols, ", ")))
	}
	if first == nil {
		return nil
	}
	if t, ok := seen[KeysView]; ok {
		return &Error{t.File, t.Line, 1, fmt.Sprintf("table %q has the name of the view dschema makes for keys without an index", KeysView)}
	}
	if v := s.View(KeysView); v != nil {
		return &Error{v.File, v.Line, 1, fmt.Sprintf("view %q has the name of the view dschema makes for keys without an index", KeysView)}
	}
	v := &View{Name: KeysView, Domain: first.Domain, File: first.File, Line: first.Line,
		Description: "The primary key of each table whose key DuckDB does not hold (key_index: false in the schema): every load keeps it, import checks it, export names it.",
		SQL:         "SELECT table_name, key_columns FROM (VALUES " + strings.Join(rows, ", ") + ") AS k(table_name, key_columns)"}
	s.Views = append(s.Views, v)
	for _, d := range s.Domains {
		if d.Name == first.Domain && d.File == first.File {
			d.Views = append(d.Views, v)
		}
	}
	return nil
}

// KeyChecks are statements that fail, naming the table, when rows of a
// table whose key DuckDB does not hold share a key: a migration that
// makes or changes KeysView runs them.
func (s *Schema) KeyChecks() []string {
	var out []string
	for _, t := range s.Tables {
		if !t.KeyNotIndexed {
			continue
		}
		cols := make([]string, len(t.PrimaryKey))
		for i, k := range t.PrimaryKey {
			cols[i] = quoteIdent(k)
		}
		c := strings.Join(cols, ", ")
		out = append(out, fmt.Sprintf("SELECT CASE WHEN count(*) > 0 THEN error(%s || count(*) || ' keys (%s) are each on more than one row, such as ' || min(k)) END FROM (SELECT concat_ws(' / ', %s) AS k FROM %s GROUP BY %s HAVING count(*) > 1);",
			quoteLiteral(t.Name+": "), strings.Join(t.PrimaryKey, ", "), c, quoteIdent(t.Name), c))
	}
	return out
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
func quoteIdent(s string) string   { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// ParseFile reads and validates the text of one schema file on its own
// (no checks across files); file names it in errors and in Domain.File.
func ParseFile(file string, data []byte) (*Domain, error) { return parseFile(file, data) }

// parseFile is ParseFile: it decodes the file strictly, then reads each
// table and view.
func parseFile(file string, data []byte) (*Domain, error) {
	var f fileYAML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(file, err, nodePositions{})
	}
	pos := positions(&root)
	if err := dec.Decode(&f); err != nil {
		return nil, yamlError(file, err, pos)
	}
	if f.Domain == "" {
		return nil, errorAt(file, [2]int{1, 1}, "missing domain")
	}
	d := &Domain{Name: f.Domain, Description: f.Description, File: file}
	for ti, ty := range f.Tables {
		t, err := parseTable(file, f.Domain, pos, ti, ty)
		if err != nil {
			return nil, err
		}
		d.Tables = append(d.Tables, t)
	}
	for vi, vy := range f.Views {
		vp := pos.view(vi)
		if !identRE.MatchString(vy.Name) {
			return nil, errorAt(file, vp, "view %q: bad identifier (want lower snake_case, starting with a letter)", vy.Name)
		}
		if strings.TrimSpace(vy.Description) == "" {
			return nil, errorAt(file, vp, "view %q: missing description", vy.Name)
		}
		sql := strings.TrimSpace(vy.SQL)
		if sql == "" {
			return nil, errorAt(file, vp, "view %q: missing sql", vy.Name)
		}
		if strings.Contains(strings.TrimSuffix(sql, ";"), ";") {
			return nil, errorAt(file, vp, "view %q: sql must be one SELECT statement", vy.Name)
		}
		d.Views = append(d.Views, &View{Name: vy.Name, Description: strings.Join(strings.Fields(vy.Description), " "),
			SQL: strings.TrimSuffix(sql, ";"), Domain: f.Domain, File: file, Line: vp[0]})
	}
	return d, nil
}

// errorAt is an error at line and column p of file.
func errorAt(file string, p [2]int, format string, args ...any) error {
	return &Error{file, p[0], p[1], fmt.Sprintf(format, args...)}
}

// parseTable reads and validates table ti of a file of domain: its name,
// columns, primary key, keys and indexes.
func parseTable(file, domain string, pos nodePositions, ti int, ty tableYAML) (*Table, error) {
	tp := pos.table(ti)
	if !identRE.MatchString(ty.Name) {
		return nil, errorAt(file, tp, "table %q: bad identifier (want lower snake_case, starting with a letter)", ty.Name)
	}
	if reservedTables[ty.Name] {
		return nil, errorAt(file, tp, "table %q: the name is reserved for dschema's own bookkeeping", ty.Name)
	}
	if strings.TrimSpace(ty.Description) == "" {
		return nil, errorAt(file, tp, "table %q: missing description", ty.Name)
	}
	if ty.RenamedFrom != "" && !identRE.MatchString(ty.RenamedFrom) {
		return nil, errorAt(file, tp, "table %q: renamed_from %q: bad identifier", ty.Name, ty.RenamedFrom)
	}
	t := &Table{Name: ty.Name, Description: strings.Join(strings.Fields(ty.Description), " "), RenamedFrom: ty.RenamedFrom,
		Domain: domain, File: file, Line: tp[0], goName: ty.GoName}
	for ci, cy := range ty.Columns {
		if err := t.parseColumns(pos.column(ti, ci), ci, cy); err != nil {
			return nil, err
		}
	}
	if len(t.Columns) == 0 {
		return nil, errorAt(file, tp, "table %q: no columns", ty.Name)
	}
	goNames := map[string]string{}
	for _, c := range t.Columns {
		if other, ok := goNames[c.GoName()]; ok {
			return nil, errorAt(file, [2]int{c.Line, c.Col}, "table %q: column %q has the same Go name %s as column %q", t.Name, c.Name, c.GoName(), other)
		}
		goNames[c.GoName()] = c.Name
	}
	for _, k := range ty.PrimaryKey {
		c := t.Column(k)
		if c == nil {
			return nil, errorAt(file, pos.key(ti, "primary_key"), "table %q: primary_key names unknown column %q", t.Name, k)
		}
		c.NotNull = true
		t.PrimaryKey = append(t.PrimaryKey, k)
	}
	if ty.KeyIndex != nil {
		if len(t.PrimaryKey) == 0 {
			return nil, errorAt(file, pos.key(ti, "key_index"), "table %q: key_index without a primary_key", t.Name)
		}
		t.KeyNotIndexed = !*ty.KeyIndex
	}
	if err := checkKeys(t); err != nil {
		return nil, err
	}
	for ii, iy := range ty.Indexes {
		ip := pos.index(ti, ii)
		if !identRE.MatchString(iy.Name) {
			return nil, errorAt(file, ip, "table %q: index %q: bad identifier", t.Name, iy.Name)
		}
		if len(iy.Columns) == 0 {
			return nil, errorAt(file, ip, "table %q: index %q: no columns", t.Name, iy.Name)
		}
		for _, k := range iy.Columns {
			if t.Column(k) == nil {
				return nil, errorAt(file, ip, "table %q: index %q names unknown column %q", t.Name, iy.Name, k)
			}
		}
		t.Indexes = append(t.Indexes, &Index{Name: iy.Name, Columns: iy.Columns, Unique: iy.Unique, Line: ip[0]})
	}
	return t, nil
}

// parseColumns validates the columns of column entry ci (at cp) of table
// t, which an entry may expand into several, and adds them to t.
func (t *Table) parseColumns(cp [2]int, ci int, cy columnYAML) error {
	file := t.File
	cols, err := expandColumn(cy)
	if err != nil {
		return errorAt(file, cp, "table %q: column %d: %v", t.Name, ci+1, err)
	}
	for _, c := range cols {
		c.Line, c.Col = cp[0], cp[1]
		if !identRE.MatchString(c.Name) {
			return errorAt(file, cp, "table %q: column %q: bad identifier (want lower snake_case, starting with a letter)", t.Name, c.Name)
		}
		if prev := t.Column(c.Name); prev != nil {
			return errorAt(file, cp, "table %q: column %q: duplicate column (first defined at line %d)", t.Name, c.Name, prev.Line)
		}
		if strings.TrimSpace(c.Type) == "" {
			return errorAt(file, cp, "table %q: column %q: missing type", t.Name, c.Name)
		}
		if strings.ContainsAny(c.Type, ";") || strings.Contains(c.Type, "--") {
			return errorAt(file, cp, "table %q: column %q: type %q is not a DuckDB type", t.Name, c.Name, c.Type)
		}
		if strings.TrimSpace(c.Description) == "" {
			return errorAt(file, cp, "table %q: column %q: missing description", t.Name, c.Name)
		}
		if c.RenamedFrom != "" && !identRE.MatchString(c.RenamedFrom) {
			return errorAt(file, cp, "table %q: column %q: renamed_from %q: bad identifier", t.Name, c.Name, c.RenamedFrom)
		}
		t.Columns = append(t.Columns, c)
	}
	return nil
}

// checkKeys validates the key and promoted_from attributes of t's columns
// (after primary_key, which makes its columns NOT NULL). Whether the named
// column is a MAP that can feed the promoted one depends on canonical types:
// CheckPromotions.
func checkKeys(t *Table) error {
	errAt := func(c *Column, format string, args ...any) error {
		return &Error{t.File, c.Line, c.Col, fmt.Sprintf("table %q: column %q: ", t.Name, c.Name) + fmt.Sprintf(format, args...)}
	}
	keys := map[string]*Column{}
	for _, c := range t.Columns {
		if c.Key != "" && strings.TrimSpace(c.Key) == "" {
			return errAt(c, "key is blank")
		}
		if prev, ok := keys[c.SourceKey()]; ok {
			return errAt(c, "key %q is already the key of column %q (line %d)", c.SourceKey(), prev.Name, prev.Line)
		}
		keys[c.SourceKey()] = c
		if c.PromotedFrom == "" {
			continue
		}
		m := t.Column(c.PromotedFrom)
		switch {
		case m == nil:
			return errAt(c, "promoted_from names unknown column %q (it must be a MAP column of the same table)", c.PromotedFrom)
		case m == c:
			return errAt(c, "promoted_from names the column itself")
		case m.PromotedFrom != "":
			return errAt(c, "promoted_from names column %q, which is itself promoted from %q", m.Name, m.PromotedFrom)
		case c.NotNull || c.Default != "":
			// Rows without the key must read NULL, and Down must be able to
			// tell them apart from rows that had it.
			return errAt(c, "a column promoted from %q must be nullable, without a default and outside the primary key", m.Name)
		}
	}
	return nil
}

// CheckPromotions checks every promoted_from against the canonical types
// (call it once DuckDB's canonical types are in s, as
// project.CanonicalState does): the named column must be a MAP with VARCHAR
// keys, and every value of the map must fit the promoted column exactly, so
// that moving values into the column and back loses nothing.
func CheckPromotions(s *Schema) error {
	for _, t := range s.Tables {
		for _, c := range t.Columns {
			if c.PromotedFrom == "" {
				continue
			}
			errAt := func(format string, args ...any) error {
				return &Error{t.File, c.Line, c.Col, fmt.Sprintf("table %q: column %q: promoted_from %q: ", t.Name, c.Name, c.PromotedFrom) + fmt.Sprintf(format, args...)}
			}
			m := t.Column(c.PromotedFrom)
			if m == nil {
				return errAt("no such column")
			}
			mt, err := ducktype.Parse(m.Type)
			if err != nil || mt.Kind != ducktype.Map || mt.Key.Text != "VARCHAR" {
				return errAt("want a MAP(VARCHAR, …) column, %s is %s", m.Name, m.Type)
			}
			ct, err := ducktype.Parse(c.Type)
			if err != nil {
				return errAt("cannot read type %s: %v", c.Type, err)
			}
			if !ducktype.Widens(mt.Value, ct) {
				return errAt("type %s cannot hold every %s value of %s exactly; use %s", c.Type, mt.Value.Text, m.Name, mt.Value.Text)
			}
		}
	}
	return nil
}

func expandColumn(cy columnYAML) ([]*Column, error) {
	base := Column{Name: cy.Name, Type: strings.TrimSpace(cy.Type), NotNull: cy.NotNull, Default: cy.Default,
		Unit: cy.Unit, Description: strings.Join(strings.Fields(cy.Description), " "), RenamedFrom: cy.RenamedFrom,
		Key: cy.Key, PromotedFrom: cy.PromotedFrom}
	if cy.Family == nil {
		if cy.Name == "" {
			return nil, fmt.Errorf("missing name (or family)")
		}
		c := base
		return []*Column{&c}, nil
	}
	if cy.Name != "" {
		return nil, fmt.Errorf("has both name %q and family", cy.Name)
	}
	if cy.RenamedFrom != "" {
		return nil, fmt.Errorf("family %q: renamed_from is not allowed on a family", cy.Family.Name)
	}
	if cy.Key != "" || cy.PromotedFrom != "" {
		return nil, fmt.Errorf("family %q: key and promoted_from are not allowed on a family", cy.Family.Name)
	}
	fam := cy.Family
	type binding map[string]string
	combos := []binding{{}}
	for _, axis := range fam.Axes {
		if len(axis) != 1 {
			return nil, fmt.Errorf("family %q: each axis is one key with a list of values", fam.Name)
		}
		for key, values := range axis {
			if len(values) == 0 {
				return nil, fmt.Errorf("family %q: axis %q has no values", fam.Name, key)
			}
			var next []binding
			for _, b := range combos {
				for _, v := range values {
					nb := binding{key: v}
					for k, x := range b {
						nb[k] = x
					}
					next = append(next, nb)
				}
			}
			combos = next
		}
	}
	except := map[string]bool{}
	for _, e := range fam.Except {
		except[e] = true
	}
	subst := func(tmpl string, b binding) string {
		for k, v := range b {
			tmpl = strings.ReplaceAll(tmpl, "{"+k+"}", v)
		}
		return tmpl
	}
	var out []*Column
	for _, b := range combos {
		c := base
		c.Name = subst(fam.Name, b)
		if strings.ContainsAny(c.Name, "{}") {
			return nil, fmt.Errorf("family %q: placeholder without an axis in %q", fam.Name, c.Name)
		}
		if except[c.Name] {
			delete(except, c.Name)
			continue
		}
		c.Description = subst(c.Description, b)
		c.Family = fam.Name
		c.FamilyValues = b
		out = append(out, &c)
	}
	if len(except) > 0 {
		var left []string
		for e := range except {
			left = append(left, e)
		}
		sort.Strings(left)
		return nil, fmt.Errorf("family %q: except names columns the family does not make: %s", fam.Name, strings.Join(left, ", "))
	}
	return out, nil
}

var (
	yamlLineRE  = regexp.MustCompile(`line (\d+): (.*)`)
	yamlFieldRE = regexp.MustCompile(`^field (\S+) not found in type schema\.(\w+)$`)
)

// yamlError turns a yaml.v3 error into file:line errors, one per problem,
// naming the table and column the line belongs to.
func yamlError(file string, err error, pos nodePositions) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(l)
		if m := yamlLineRE.FindStringSubmatch(l); m != nil {
			text := m[2]
			if f := yamlFieldRE.FindStringSubmatch(text); f != nil {
				text = fmt.Sprintf("unknown field %q", f[1])
			}
			line, _ := strconv.Atoi(m[1])
			lines = append(lines, fmt.Sprintf("%s:%s: %s%s", file, m[1], pos.context(line), text))
		} else if l != "" {
			lines = append(lines, file+": "+l)
		}
	}
	return fmt.Errorf("%s", strings.Join(lines, "\n"))
}

// nodePositions finds the line and column of tables, columns, indexes and
// keys in the parsed YAML tree.
type nodePositions struct{ root *yaml.Node }

func positions(root *yaml.Node) nodePositions { return nodePositions{root} }

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func seqItem(n *yaml.Node, i int) *yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
		return nil
	}
	return n.Content[i]
}

func at(n *yaml.Node) [2]int {
	if n == nil {
		return [2]int{0, 0}
	}
	return [2]int{n.Line, n.Column}
}

func (p nodePositions) doc() *yaml.Node {
	if p.root != nil && p.root.Kind == yaml.DocumentNode && len(p.root.Content) > 0 {
		return p.root.Content[0]
	}
	return nil
}

func (p nodePositions) tableNode(ti int) *yaml.Node {
	return seqItem(mapValue(p.doc(), "tables"), ti)
}
func (p nodePositions) table(ti int) [2]int { return at(p.tableNode(ti)) }
func (p nodePositions) column(ti, ci int) [2]int {
	return at(seqItem(mapValue(p.tableNode(ti), "columns"), ci))
}
func (p nodePositions) index(ti, ii int) [2]int {
	return at(seqItem(mapValue(p.tableNode(ti), "indexes"), ii))
}
func (p nodePositions) view(vi int) [2]int {
	return at(seqItem(mapValue(p.doc(), "views"), vi))
}

func (p nodePositions) key(ti int, key string) [2]int {
	if n := mapValue(p.tableNode(ti), key); n != nil {
		return at(n)
	}
	return p.table(ti)
}

// context names the table and column that contain line, as a message prefix.
func (p nodePositions) context(line int) string {
	tables := mapValue(p.doc(), "tables")
	if tables == nil || tables.Kind != yaml.SequenceNode {
		return ""
	}
	var table *yaml.Node
	for _, t := range tables.Content {
		if t.Line <= line {
			table = t
		}
	}
	if table == nil {
		return ""
	}
	out := ""
	if n := mapValue(table, "name"); n != nil {
		out = fmt.Sprintf("table %q: ", n.Value)
	}
	if cols := mapValue(table, "columns"); cols != nil && cols.Kind == yaml.SequenceNode {
		for _, c := range cols.Content {
			if c.Line <= line && line <= lastLine(c) {
				if n := mapValue(c, "name"); n != nil {
					out += fmt.Sprintf("column %q: ", n.Value)
				}
			}
		}
	}
	return out
}

func lastLine(n *yaml.Node) int {
	last := n.Line
	for _, c := range n.Content {
		last = max(last, lastLine(c))
	}
	return last
}
