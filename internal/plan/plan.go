// Package plan compares the state the committed migrations produce with the
// state the schema describes and writes the SQL that moves one to the other,
// with a Down that moves it back. It knows DuckDB's ALTER rules: a NOT NULL
// column is added with a default, backfilled, then set NOT NULL; a table's
// secondary indexes are dropped and recreated around any change that DuckDB
// refuses while an index depends on the table; STRUCT fields are added in
// place; renames come only from renamed_from; destructive steps are refused
// unless allowed. A new column with promoted_from takes its key's values out
// of the named MAP column (Down puts them back, then rebuilds the table).
package plan

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/ducktype"
	"github.com/dschema/dschema/internal/schema"
)

// Options tune planning.
type Options struct {
	// AllowDestructive permits dropping tables and columns and narrowing types.
	AllowDestructive bool
}

// Migration is a planned change.
type Migration struct {
	Up, Down []string
	// Changes lists what the migration does, one line per change, for the
	// file header and for naming.
	Changes []string
}

// Empty reports whether nothing needs to change.
func (m *Migration) Empty() bool { return len(m.Up) == 0 }

// ErrDestructive is wrapped by the error Plan returns when it refuses destructive steps.
var ErrDestructive = errors.New("destructive change refused")

// DestructiveError lists the destructive steps that were refused.
type DestructiveError struct{ Steps []string }

func (e *DestructiveError) Error() string {
	return "refusing destructive changes (name them with --allow-destructive to allow): " + strings.Join(e.Steps, "; ")
}

func (e *DestructiveError) Unwrap() error { return ErrDestructive }

type step struct {
	up, down []string
	change   string
}

type planner struct {
	opts        Options
	steps       []step
	refused     []string
	unsupported []string
}

func (p *planner) add(change string, up, down []string) {
	p.steps = append(p.steps, step{up: up, down: down, change: change})
}

func (p *planner) destructive(what string) {
	if !p.opts.AllowDestructive {
		p.refused = append(p.refused, what)
	}
}

// Plan computes the migration from old (the replayed migrations) to target
// (dbschema.Canonical of s). s supplies renamed_from.
func Plan(old, target *dbschema.State, s *schema.Schema, opts Options) (*Migration, error) {
	p := &planner{opts: opts}
	paired := map[string]bool{} // old table names that have a target

	var creates, alters []func()
	for _, nt := range target.Tables {
		nt := nt
		st := s.Table(nt.Name)
		if ot := old.Table(nt.Name); ot != nil {
			paired[ot.Name] = true
			alters = append(alters, func() { p.alterTable(ot, nt, st) })
			continue
		}
		if st != nil && st.RenamedFrom != "" {
			if ot := old.Table(st.RenamedFrom); ot != nil && target.Table(st.RenamedFrom) == nil {
				paired[ot.Name] = true
				if len(ot.Indexes) > 0 {
					// DuckDB crashes at COMMIT when an index is dropped and created
					// again under its name in one transaction: rebuild under the new name.
					alters = append(alters, func() { p.alterTable(ot, nt, st) })
					continue
				}
				p.renameTable(ot, nt)
				renamed := *ot
				renamed.Name = nt.Name
				alters = append(alters, func() { p.alterTable(&renamed, nt, st) })
				continue
			}
		}
		creates = append(creates, func() {
			p.add("create table "+nt.Name, dbschema.CreateStatements(nt), []string{fmt.Sprintf("DROP TABLE %s;", dbschema.Ident(nt.Name))})
		})
	}
	for _, f := range creates {
		f()
	}
	for _, f := range alters {
		f()
	}
	for _, ot := range old.Tables {
		if paired[ot.Name] {
			continue
		}
		p.destructive("drop table " + ot.Name)
		p.add("drop table "+ot.Name, []string{fmt.Sprintf("DROP TABLE %s;", dbschema.Ident(ot.Name))}, dbschema.CreateStatements(ot))
	}
	p.views(old, target, s)
	if len(p.unsupported) > 0 {
		return nil, fmt.Errorf("cannot plan a migration: %s", strings.Join(p.unsupported, "; "))
	}
	if len(p.refused) > 0 {
		return nil, &DestructiveError{Steps: p.refused}
	}
	m := &Migration{}
	for _, st := range p.steps {
		m.Up = append(m.Up, st.up...)
		m.Changes = append(m.Changes, st.change)
	}
	for i := len(p.steps) - 1; i >= 0; i-- {
		m.Down = append(m.Down, p.steps[i].down...)
	}
	return m, nil
}

// views creates, replaces and drops views after every table change (and so
// before them in Down). The SQL of a new or changed view is the schema's own
// text; the Down of a change restores DuckDB's stored text of the old view.
func (p *planner) views(old, target *dbschema.State, s *schema.Schema) {
	for _, nv := range target.Views {
		sv := s.View(nv.Name)
		if sv == nil {
			continue
		}
		ov := old.View(nv.Name)
		switch {
		case ov == nil:
			p.add("create view "+nv.Name,
				append([]string{dbschema.CreateView(nv.Name, sv.SQL, false), dbschema.CommentOnView(nv.Name, nv.Comment)}, keyChecks(s, nv.Name)...),
				[]string{dbschema.DropView(nv.Name)})
		case schema.ViewSQLHash(ov.Comment) != schema.ViewSQLHash(nv.Comment):
			p.add("replace view "+nv.Name,
				append([]string{dbschema.CreateView(nv.Name, sv.SQL, true), dbschema.CommentOnView(nv.Name, nv.Comment)}, keyChecks(s, nv.Name)...),
				[]string{dbschema.RecreateView(ov), dbschema.CommentOnView(ov.Name, ov.Comment)})
		case ov.Comment != nv.Comment:
			p.add("comment on view "+nv.Name,
				[]string{dbschema.CommentOnView(nv.Name, nv.Comment)},
				[]string{dbschema.CommentOnView(ov.Name, ov.Comment)})
		}
	}
	for i := len(old.Views) - 1; i >= 0; i-- {
		ov := old.Views[i]
		if target.View(ov.Name) == nil {
			p.add("drop view "+ov.Name, []string{dbschema.DropView(ov.Name)},
				[]string{dbschema.RecreateView(ov), dbschema.CommentOnView(ov.Name, ov.Comment)})
		}
	}
}

// keyChecks are the checks that the rows keep every key DuckDB does not
// hold, when view is the view that lists those keys: a key that is new, or
// changed, or no longer indexed, is proven on the rows there.
func keyChecks(s *schema.Schema, view string) []string {
	if view != schema.KeysView {
		return nil
	}
	return s.KeyChecks()
}

// renameTable renames a table without indexes (one with indexes is rebuilt
// under its new name: see alterTable).
func (p *planner) renameTable(ot, nt *dbschema.Table) {
	p.add(fmt.Sprintf("rename table %s to %s", ot.Name, nt.Name),
		[]string{fmt.Sprintf("ALTER TABLE %s RENAME TO %s;", dbschema.Ident(ot.Name), dbschema.Ident(nt.Name))},
		[]string{fmt.Sprintf("ALTER TABLE %s RENAME TO %s;", dbschema.Ident(nt.Name), dbschema.Ident(ot.Name))})
}

func alterCol(table, column, rest string) string {
	return fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s %s;", dbschema.Ident(table), dbschema.Ident(column), rest)
}

// alterTable plans the changes of table ot into nt (st is nt's schema
// table, for renamed_from and promotions): in place, or as a rebuild when
// DuckDB cannot alter the table in place (see rebuildReason).
func (p *planner) alterTable(ot, nt *dbschema.Table, st *schema.Table) {
	c := p.tableChanges(ot, nt, st)
	if why := rebuildReason(ot, nt, c); why != "" {
		p.addRebuild(ot, nt, c, why)
		return
	}
	p.addInPlace(ot, nt, c)
}

// tableSteps are the steps of one table's change, before the planner
// knows whether they run in place.
type tableSteps struct {
	structural []step            // changes that need the table's indexes out of the way
	key        string            // the primary key's change, "" for none: only a rebuild makes it
	light      []step            // ADD COLUMN and comments, which DuckDB allows with indexes
	pairs      map[string]string // new column name -> old column name
	added      []string          // columns added
	promos     []*promotion      // added columns that take over a key of a MAP column
}

func (c *tableSteps) addS(change string, up, down []string) {
	c.structural = append(c.structural, step{up: up, down: down, change: change})
}

func (c *tableSteps) addL(change string, up, down []string) {
	c.light = append(c.light, step{up: up, down: down, change: change})
}

// tableChanges lists the column, primary key and comment changes of ot
// into nt; what it cannot do goes to p.unsupported.
func (p *planner) tableChanges(ot, nt *dbschema.Table, st *schema.Table) *tableSteps {
	t := nt.Name
	q := dbschema.Ident(t)
	c := &tableSteps{pairs: map[string]string{}}
	pairedOld := map[string]bool{}
	pkRename := map[string]string{}
	for _, nc := range nt.Columns {
		oc := oldColumn(ot, nt, st, nc.Name)
		if oc != nil && oc.Name != nc.Name {
			pkRename[oc.Name] = nc.Name
			c.addS(fmt.Sprintf("rename column %s.%s to %s", t, oc.Name, nc.Name),
				[]string{fmt.Sprintf("ALTER TABLE %s RENAME COLUMN %s TO %s;", q, dbschema.Ident(oc.Name), dbschema.Ident(nc.Name))},
				[]string{fmt.Sprintf("ALTER TABLE %s RENAME COLUMN %s TO %s;", q, dbschema.Ident(nc.Name), dbschema.Ident(oc.Name))})
		}
		if oc == nil {
			pr := p.promotion(ot, nt, st, nc)
			if pr != nil {
				c.promos = append(c.promos, pr)
			}
			p.addColumn(t, nc, pr, c.addL)
			c.added = append(c.added, nc.Name)
			continue
		}
		pairedOld[oc.Name] = true
		c.pairs[nc.Name] = oc.Name
		p.alterColumn(t, oc, nc, inPK(ot, oc.Name), c.addS, c.addL)
	}
	for _, oc := range ot.Columns {
		if !pairedOld[oc.Name] {
			p.dropColumn(ot, t, oc, c)
		}
	}
	oldPK := make([]string, len(ot.PrimaryKey))
	for i, k := range ot.PrimaryKey {
		oldPK[i] = k
		if n, ok := pkRename[k]; ok {
			oldPK[i] = n
		}
	}
	if strings.Join(oldPK, ",") != strings.Join(nt.PrimaryKey, ",") {
		switch from, to := strings.Join(oldPK, ", "), strings.Join(nt.PrimaryKey, ", "); {
		case to == "":
			c.key = fmt.Sprintf("drop the primary key (%s)", from)
		case from == "":
			c.key = fmt.Sprintf("add the primary key (%s)", to)
		default:
			c.key = fmt.Sprintf("change the primary key from (%s) to (%s)", from, to)
		}
	}
	if ot.Comment != nt.Comment {
		c.addL("comment on table "+t, []string{dbschema.CommentOnTable(t, nt.Comment)}, []string{dbschema.CommentOnTable(t, ot.Comment)})
	}
	return c
}

// dropColumn plans the drop of ot's column oc from table t (ot under its
// new name), destructive; a primary key column cannot be dropped.
func (p *planner) dropColumn(ot *dbschema.Table, t string, oc *dbschema.Column, c *tableSteps) {
	if inPK(ot, oc.Name) {
		p.unsupported = append(p.unsupported, fmt.Sprintf("column %s.%s is part of the primary key and cannot be dropped by ALTER in DuckDB; write this migration by hand", t, oc.Name))
		return
	}
	q := dbschema.Ident(t)
	p.destructive(fmt.Sprintf("drop column %s.%s", t, oc.Name))
	down := []string{fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s;", q, dbschema.ColumnDef(&dbschema.Column{Name: oc.Name, Type: oc.Type, Default: oc.Default}))}
	if oc.NotNull {
		down = append(down, alterCol(t, oc.Name, "SET NOT NULL"))
	}
	if oc.Comment != "" {
		down = append(down, dbschema.CommentOnColumn(t, oc.Name, oc.Comment))
	}
	c.addS(fmt.Sprintf("drop column %s.%s", t, oc.Name), []string{fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s;", q, dbschema.Ident(oc.Name))}, down)
}

// rebuildReason says why the change of ot into nt must rebuild the table,
// or "" when it can run in place. With an index on the table, DuckDB
// refuses every ALTER but ADD COLUMN and COMMENT (and retypes or drops of
// an indexed column even after DROP INDEX in the same transaction), and
// crashes at COMMIT when an index is dropped and created again under its
// name in one transaction (DuckDB 1.5): such tables are rebuilt. So is a
// table whose primary key changes: DuckDB cannot add, drop or alter one in
// place. A rebuild to a new key copies the rows into a table with it, and
// fails (leaving the database as it was) if they do not keep it.
func rebuildReason(ot, nt *dbschema.Table, c *tableSteps) string {
	t := nt.Name
	rebuildWhy := ""
	if ot.Name != nt.Name {
		rebuildWhy = "DuckDB cannot drop and recreate its indexes under their names in one transaction"
	} else if c.key != "" {
		rebuildWhy = "DuckDB cannot add, drop or change a primary key in place"
	} else if len(ot.Indexes) > 0 {
		if len(c.structural) > 0 {
			rebuildWhy = fmt.Sprintf("DuckDB cannot alter %s in place while it has an index", t)
		}
		for _, oi := range ot.Indexes {
			if ni := nt.Index(oi.Name); ni != nil && !sameIndex(oi, ni) {
				rebuildWhy = fmt.Sprintf("index %s changes, and DuckDB cannot drop and recreate an index under one name in one transaction", oi.Name)
			}
		}
	}
	return rebuildWhy
}

// addRebuild plans the change of ot into nt as one rebuild of the table,
// naming c's changes and why.
func (p *planner) addRebuild(ot, nt *dbschema.Table, c *tableSteps, rebuildWhy string) {
	t := nt.Name
	var changes []string
	for _, group := range [][]step{c.structural, c.light} {
		for _, s := range group {
			changes = append(changes, s.change)
		}
	}
	if c.key != "" {
		changes = append(changes, c.key)
	}
	what := fmt.Sprintf("rebuild table %s", t)
	if ot.Name != nt.Name {
		what = fmt.Sprintf("rename table %s to %s", ot.Name, t)
	}
	if len(changes) > 0 {
		what += ": " + strings.Join(changes, ", ")
	}
	// The rebuild leaves promoted columns NULL: fill them after it, and
	// put the keys back before the rebuild of Down drops the columns.
	up := rebuildTable(ot, nt, c.pairs)
	for _, pr := range c.promos {
		up = append(up, pr.up())
	}
	p.add(fmt.Sprintf("%s (as a rebuild: %s)", what, rebuildWhy), up, append(restores(c.promos), rebuildTable(nt, ot, invert(c.pairs))...))
}

// addInPlace plans c's steps as ALTERs of the table in place, with the
// indexes that are new or gone (a changed one needs a rebuild).
func (p *planner) addInPlace(ot, nt *dbschema.Table, c *tableSteps) {
	t := nt.Name
	var dropIx, createIx []step
	for _, oi := range ot.Indexes {
		if nt.Index(oi.Name) == nil {
			dropIx = append(dropIx, step{up: []string{dbschema.DropIndex(oi)}, down: []string{dbschema.CreateIndex(ot.Name, oi)}, change: "drop index " + oi.Name})
		}
	}
	for _, ni := range nt.Indexes {
		oi := ot.Index(ni.Name)
		if oi == nil || !sameIndex(oi, ni) {
			createIx = append(createIx, step{up: []string{dbschema.CreateIndex(t, ni)}, down: []string{dbschema.DropIndex(ni)}, change: "create index " + ni.Name})
		}
	}
	if len(ot.Indexes) > 0 && len(c.added) > 0 || len(c.promos) > 0 {
		// ADD COLUMN works beside an index, but its Down (DROP COLUMN) does
		// not: the whole table's Down is a rebuild to the old shape. So is
		// the Down of a promotion, and its backfill comes after every ALTER
		// of the table: DuckDB 1.5 fails at COMMIT when a transaction
		// changes rows of a table and then adds, drops, retypes or
		// constrains one of its columns (CREATE INDEX, COMMENT and a
		// rebuild are fine).
		var up, changes []string
		for _, group := range [][]step{dropIx, c.structural, c.light} {
			for _, s := range group {
				up = append(up, s.up...)
				changes = append(changes, s.change)
			}
		}
		for _, pr := range c.promos {
			up = append(up, pr.up())
		}
		for _, s := range createIx {
			up = append(up, s.up...)
			changes = append(changes, s.change)
		}
		// The keys go back into their map before the rebuild drops the columns.
		p.add(strings.Join(changes, ", "), up, append(restores(c.promos), rebuildTable(nt, ot, invert(c.pairs))...))
		return
	}
	for _, group := range [][]step{dropIx, c.structural, c.light, createIx} {
		for _, s := range group {
			p.add(s.change, s.up, s.down)
		}
	}
}

// oldColumn is the column of ot that the column name of nt continues: the
// same name, or the schema's renamed_from when the old name is not kept.
func oldColumn(ot, nt *dbschema.Table, st *schema.Table, name string) *dbschema.Column {
	if oc := ot.Column(name); oc != nil {
		return oc
	}
	if st == nil {
		return nil
	}
	if sc := st.Column(name); sc != nil && sc.RenamedFrom != "" && nt.Column(sc.RenamedFrom) == nil {
		return ot.Column(sc.RenamedFrom)
	}
	return nil
}

// promotion moves the values of one key of a MAP(VARCHAR, V) column into a
// column added for it, and back.
type promotion struct {
	table, column, from, key  string
	colType, mapType, valType string
}

// promotion returns the promotion of the added column nc, nil when its
// schema column has no promoted_from. A map the old state lacks holds no
// values to move: that is refused, as a sign the schema is not what its
// author thinks.
func (p *planner) promotion(ot, nt *dbschema.Table, st *schema.Table, nc *dbschema.Column) *promotion {
	if st == nil {
		return nil
	}
	sc := st.Column(nc.Name)
	if sc == nil || sc.PromotedFrom == "" {
		return nil
	}
	mc := nt.Column(sc.PromotedFrom)
	if mc == nil || oldColumn(ot, nt, st, mc.Name) == nil {
		p.unsupported = append(p.unsupported, fmt.Sprintf("new column %s.%s is promoted_from %s.%s, which the migrations do not have yet: there are no values to move; add %s in a migration of its own first, or drop promoted_from",
			nt.Name, nc.Name, nt.Name, sc.PromotedFrom, sc.PromotedFrom))
		return nil
	}
	mt, err := ducktype.Parse(mc.Type)
	if err != nil || mt.Kind != ducktype.Map {
		p.unsupported = append(p.unsupported, fmt.Sprintf("new column %s.%s is promoted_from %s.%s, which is %s, not a MAP", nt.Name, nc.Name, nt.Name, mc.Name, mc.Type))
		return nil
	}
	return &promotion{table: nt.Name, column: nc.Name, from: mc.Name, key: sc.SourceKey(),
		colType: nc.Type, mapType: mc.Type, valType: mt.Value.Text}
}

func (pr *promotion) change() string {
	return fmt.Sprintf("promote column %s.%s from %s[%s]", pr.table, pr.column, pr.from, dbschema.Literal(pr.key))
}

// up moves the key's values into the column, in one pass over the rows that
// have the key. An entry whose value is NULL stays in the map: the column
// could not tell it from a row without the key, and Down could not restore it.
// The lambda's parameter starts with "_" so that no column (schema names
// start with a letter) shadows it: DuckDB resolves columns first.
func (pr *promotion) up() string {
	m, k := dbschema.Ident(pr.from), dbschema.Literal(pr.key)
	val := fmt.Sprintf("%s[%s]", m, k) // the value, or NULL without the key (probed on DuckDB 1.5.6)
	set := val
	if pr.colType != pr.valType {
		set = fmt.Sprintf("CAST(%s AS %s)", val, pr.colType)
	}
	// A map left empty becomes NULL, as a load writes a row with no other keys.
	return fmt.Sprintf("UPDATE %s SET %s = %s, %s = CASE WHEN cardinality(%s) = 1 THEN NULL ELSE map_from_entries(list_filter(map_entries(%s), lambda _entry: _entry.key <> %s)) END WHERE %s IS NOT NULL;",
		dbschema.Ident(pr.table), dbschema.Ident(pr.column), set, m, m, m, k, val)
}

// down puts the column's values back into the map, where they win over an
// entry of the same key (one written after the promotion); a NULL map
// becomes a map of the one key. The key goes to the end of the map: DuckDB
// keeps no trace of where it was.
func (pr *promotion) down() string {
	m, k, c := dbschema.Ident(pr.from), dbschema.Literal(pr.key), dbschema.Ident(pr.column)
	val := c
	if pr.colType != pr.valType {
		val = fmt.Sprintf("CAST(%s AS %s)", c, pr.valType)
	}
	return fmt.Sprintf("UPDATE %s SET %s = map_concat(coalesce(%s, CAST(MAP {} AS %s)), MAP {%s: %s}) WHERE %s IS NOT NULL;",
		dbschema.Ident(pr.table), m, m, pr.mapType, k, val, c)
}

// restores is the Down of promos, last first. A promotion whose column has
// the map's value type is put back exactly: a marker line says so, and
// migrate's loss check (migrate.RestoredColumns) then does not count its
// values as dropped. With another type the cast back may not be exact, so
// there is no marker and reverting needs --allow-destructive.
func restores(promos []*promotion) []string {
	var out []string
	for i := len(promos) - 1; i >= 0; i-- {
		if pr := promos[i]; pr.colType == pr.valType {
			out = append(out, fmt.Sprintf("%s%s.%s", dbschema.RestoresMarker, pr.table, pr.column))
		}
		out = append(out, promos[i].down())
	}
	return out
}

func inPK(t *dbschema.Table, col string) bool {
	for _, k := range t.PrimaryKey {
		if k == col {
			return true
		}
	}
	return false
}

func sameIndex(a, b *dbschema.Index) bool {
	return a.Unique == b.Unique && strings.Join(a.Columns, ",") == strings.Join(b.Columns, ",")
}

// addColumn plans a new column; pr, when not nil, names the change a
// promotion (alterTable moves the values: see promotion).
func (p *planner) addColumn(t string, nc *dbschema.Column, pr *promotion, add func(string, []string, []string)) {
	q := dbschema.Ident(t)
	if nc.NotNull && nc.Default == "" {
		p.unsupported = append(p.unsupported, fmt.Sprintf("new column %s.%s is NOT NULL without a default: existing rows could not be filled; give it a default", t, nc.Name))
		return
	}
	def := &dbschema.Column{Name: nc.Name, Type: nc.Type, Default: nc.Default}
	up := []string{fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s;", q, dbschema.ColumnDef(def))}
	if nc.NotNull {
		// DuckDB refuses ADD COLUMN ... NOT NULL: add, backfill, then constrain.
		up = append(up,
			fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s IS NULL;", q, dbschema.Ident(nc.Name), nc.Default, dbschema.Ident(nc.Name)),
			alterCol(t, nc.Name, "SET NOT NULL"))
	}
	change := fmt.Sprintf("add column %s.%s", t, nc.Name)
	if pr != nil {
		change = pr.change()
	}
	if nc.Comment != "" {
		up = append(up, dbschema.CommentOnColumn(t, nc.Name, nc.Comment))
	}
	add(change, up, []string{fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s;", q, dbschema.Ident(nc.Name))})
}

// alterColumn plans the changes of one paired column.
func (p *planner) alterColumn(t string, oc, nc *dbschema.Column, pk bool, addS, addL func(string, []string, []string)) {
	q := dbschema.Ident(t)
	c := nc.Name
	if oc.Type != nc.Type {
		ft, err1 := ducktype.Parse(oc.Type)
		tt, err2 := ducktype.Parse(nc.Type)
		switch {
		case pk:
			p.unsupported = append(p.unsupported, fmt.Sprintf("column %s.%s is part of the primary key: DuckDB cannot change its type (%s to %s); write this migration by hand", t, c, oc.Type, nc.Type))
		case err1 != nil || err2 != nil:
			p.unsupported = append(p.unsupported, fmt.Sprintf("column %s.%s: cannot compare types %s and %s", t, c, oc.Type, nc.Type))
		default:
			if fields, ok := ducktype.StructAddsFields(ft, tt); ok {
				var up, down []string
				for _, f := range fields {
					up = append(up, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s.%s %s;", q, dbschema.Ident(c), dbschema.Ident(f.Name), f.Type.Text))
				}
				for i := len(fields) - 1; i >= 0; i-- {
					down = append(down, fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s.%s;", q, dbschema.Ident(c), dbschema.Ident(fields[i].Name)))
				}
				addS(fmt.Sprintf("add struct fields to %s.%s", t, c), up, down)
				break
			}
			change := fmt.Sprintf("widen %s.%s from %s to %s", t, c, oc.Type, nc.Type)
			if !ducktype.Widens(ft, tt) {
				change = fmt.Sprintf("narrow %s.%s from %s to %s", t, c, oc.Type, nc.Type)
				p.destructive(change)
			}
			addS(change, []string{alterCol(t, c, "TYPE "+nc.Type)}, []string{alterCol(t, c, "TYPE "+oc.Type)})
		}
	}
	if oc.Default != nc.Default {
		set := func(d string) string {
			if d == "" {
				return alterCol(t, c, "DROP DEFAULT")
			}
			return alterCol(t, c, "SET DEFAULT "+d)
		}
		addS(fmt.Sprintf("change default of %s.%s", t, c), []string{set(nc.Default)}, []string{set(oc.Default)})
	}
	if oc.NotNull != nc.NotNull {
		if nc.NotNull {
			up := []string{}
			if nc.Default != "" {
				up = append(up, fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s IS NULL;", q, dbschema.Ident(c), nc.Default, dbschema.Ident(c)))
			}
			up = append(up, alterCol(t, c, "SET NOT NULL"))
			addS(fmt.Sprintf("set %s.%s NOT NULL", t, c), up, []string{alterCol(t, c, "DROP NOT NULL")})
		} else {
			addS(fmt.Sprintf("drop NOT NULL of %s.%s", t, c), []string{alterCol(t, c, "DROP NOT NULL")}, []string{alterCol(t, c, "SET NOT NULL")})
		}
	}
	if oc.Comment != nc.Comment {
		addL(fmt.Sprintf("comment on %s.%s", t, c), []string{dbschema.CommentOnColumn(t, c, nc.Comment)}, []string{dbschema.CommentOnColumn(t, c, oc.Comment)})
	}
}

// rebuildTable moves table from to the shape of to inside one transaction:
// create the new table, copy the rows (casting changed types, filling
// defaults), drop the old table with its indexes, rename, then recreate
// indexes and comments. pairs maps to's column names to from's.
func rebuildTable(from, to *dbschema.Table, pairs map[string]string) []string {
	tmp := to.Name + "__dschema_rebuild"
	if from.Name != to.Name {
		tmp = to.Name
	}
	shape := *to
	shape.Name = tmp
	var cols, exprs []string
	for _, c := range to.Columns {
		src, ok := pairs[c.Name]
		if !ok {
			if from.Column(c.Name) != nil {
				src, ok = c.Name, true
			}
		}
		expr := "NULL"
		if ok {
			expr = dbschema.Ident(src)
			if fc := from.Column(src); fc != nil && fc.Type != c.Type {
				expr = fmt.Sprintf("CAST(%s AS %s)", expr, c.Type)
			}
		}
		if c.Default != "" {
			expr = fmt.Sprintf("coalesce(%s, %s)", expr, c.Default)
		}
		cols = append(cols, dbschema.Ident(c.Name))
		exprs = append(exprs, expr)
	}
	out := []string{
		dbschema.CreateTable(&shape),
		fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s;", dbschema.Ident(tmp), strings.Join(cols, ", "), strings.Join(exprs, ", "), dbschema.Ident(from.Name)),
		fmt.Sprintf("DROP TABLE %s;", dbschema.Ident(from.Name)),
	}
	if tmp != to.Name {
		out = append(out, fmt.Sprintf("ALTER TABLE %s RENAME TO %s;", dbschema.Ident(tmp), dbschema.Ident(to.Name)))
	}
	all := dbschema.CreateStatements(to)
	return append(out, all[1:]...) // indexes and comments
}

func invert(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

// Name proposes a file-name part for a migration from its changes.
func Name(m *Migration, first bool) string {
	if first {
		return "init"
	}
	// Indexes dropped and recreated around a change do not name it.
	var changes []string
	for _, c := range m.Changes {
		if !strings.HasPrefix(c, "drop index ") && !strings.HasPrefix(c, "create index ") {
			changes = append(changes, c)
		}
	}
	if len(changes) == 0 {
		changes = m.Changes
	}
	if len(changes) == 1 {
		return Sanitize(changes[0])
	}
	kinds := map[string]bool{}
	for _, c := range changes {
		kinds[strings.Fields(c)[0]] = true
	}
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return Sanitize(strings.Join(ks, "_"))
}

// Sanitize turns text into a migration file-name part: lower case letters,
// digits and single underscores, at most 60 characters ("change" if empty).
func Sanitize(s string) string {
	var b strings.Builder
	lastUnderscore := false
	for _, r := range strings.ToLower(s) {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if ok {
			b.WriteRune(r)
			lastUnderscore = false
		} else if !lastUnderscore {
			b.WriteByte('_')
			lastUnderscore = true
		}
	}
	out := strings.Trim(b.String(), "_")
	if len(out) > 60 {
		out = strings.TrimRight(out[:60], "_")
	}
	if out == "" {
		out = "change"
	}
	return out
}
