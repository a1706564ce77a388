package project

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dschema/dschema/internal/ducktype"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/internal/plan"
	"github.com/dschema/dschema/internal/schema"
)

// PromoteOptions are the choices of a promotion; the zero value takes the
// defaults dschema promote documents.
type PromoteOptions struct {
	// Root is the checkout's root folder ("" is the current one).
	Root string
	// Column names the new column (default: the key in lower snake_case).
	Column string
	// Type is its DuckDB type (default: the map's value type).
	Type string
	// Description is its description (default: "<key> (promoted from <map>).").
	Description string
	// From names the MAP column that holds the key; needed only when the
	// table has more than one.
	From string
}

// Promote gives key of table's MAP(VARCHAR, …) overflow column a typed
// column: it adds the column to the schema file that declares table and
// runs Gen, which writes the migration that moves the key's values, and
// reports on out. It refuses, leaving the file as it was, when the table
// or map is unknown, the column or key is already there, or the schema has
// edits no migration holds yet; when Gen fails the file gets its old bytes
// back.
func Promote(ctx context.Context, out io.Writer, table, key string, o PromoteOptions) error {
	l := DefaultLayout(o.Root)
	if fi, err := os.Stat(filepath.Join(l.Root, l.Schema)); err != nil || !fi.IsDir() {
		return fmt.Errorf("%w: %s has no %s/ folder; run promote in a dschema checkout or name one with --root", ErrNotCheckout, l.Root, l.Schema)
	}
	ld, err := Load(ctx, l)
	if err != nil {
		return err
	}
	// The promotion gets a migration of its own: other schema edits would
	// ride along in it unreviewed.
	old, err := migrate.Replay(ctx, ld.Files, -1)
	if err != nil {
		return err
	}
	if d := plan.Compare(old, ld.Target, "migrations", "schema"); len(d) > 0 {
		return fmt.Errorf("%s/ has edits no migration holds yet (%s); run go generate ./... (or dschema gen) first", l.Schema, d[0])
	}
	nc, t, err := promotion(ld.Schema, table, key, o)
	if err != nil {
		return err
	}
	path := filepath.Join(l.Root, filepath.FromSlash(t.File))
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	before := ""
	if t.Column("load_id") != nil {
		before = "load_id" // provenance stays last
	}
	edited, err := schema.InsertColumn(data, t.Name, nc, before)
	if err != nil {
		return fmt.Errorf("edit %s: %w", t.File, err)
	}
	if err := readsBack(edited, t, nc); err != nil {
		return fmt.Errorf("edit %s: %w", t.File, err)
	}
	if err := os.WriteFile(path, edited, fi.Mode().Perm()); err != nil {
		return fmt.Errorf("write %s: %w", t.File, err)
	}
	res, err := Gen(ctx, l, GenOptions{Name: fmt.Sprintf("promote_%s_%s", t.Name, nc.Name)})
	if err != nil {
		if rerr := os.WriteFile(path, data, fi.Mode().Perm()); rerr != nil {
			return fmt.Errorf("generate: %w; and restoring %s failed: %v", err, t.File, rerr)
		}
		return fmt.Errorf("generate: %w (%s is as it was)", err, t.File)
	}
	fmt.Fprintf(out, "added column %s.%s (%s) for key %q of %s to %s\n", t.Name, nc.Name, nc.Type, key, nc.PromotedFrom, t.File)
	PrintGen(out, res)
	fmt.Fprintln(out, "next: review and commit the schema, migration and gen/ changes, rebuild dschema (go build ./cmd/dschema), then run dschema migrate up to move the values in your database")
	return nil
}

// promotion works out the column to add for key of table, refusing what
// the schema already has. s has canonical types.
func promotion(s *schema.Schema, table, key string, o PromoteOptions) (schema.NewColumn, *schema.Table, error) {
	t := s.Table(table)
	if t == nil {
		return schema.NewColumn{}, nil, fmt.Errorf("no table %q in the schema", table)
	}
	if strings.TrimSpace(key) == "" {
		return schema.NewColumn{}, nil, fmt.Errorf("the key is blank")
	}
	for _, c := range t.Columns {
		if c.SourceKey() == key {
			return schema.NewColumn{}, nil, fmt.Errorf("column %s.%s (%s:%d) already holds key %q", t.Name, c.Name, t.File, c.Line, key)
		}
	}
	var maps []*schema.Column
	for _, c := range t.Columns {
		if ty, err := ducktype.Parse(c.Type); err == nil && ty.Kind == ducktype.Map && ty.Key.Text == "VARCHAR" {
			maps = append(maps, c)
		}
	}
	var from *schema.Column
	switch {
	case o.From != "":
		for _, c := range maps {
			if c.Name == o.From {
				from = c
			}
		}
		if from == nil {
			return schema.NewColumn{}, nil, fmt.Errorf("--from %s: %s has no MAP(VARCHAR, …) column of that name", o.From, t.Name)
		}
	case len(maps) == 0:
		return schema.NewColumn{}, nil, fmt.Errorf("table %s has no MAP(VARCHAR, …) column to promote a key from", t.Name)
	case len(maps) > 1:
		var names []string
		for _, c := range maps {
			names = append(names, c.Name)
		}
		return schema.NewColumn{}, nil, fmt.Errorf("table %s has %d MAP(VARCHAR, …) columns (%s): name the one holding %q with --from", t.Name, len(maps), strings.Join(names, ", "), key)
	default:
		from = maps[0]
	}
	name := o.Column
	if name == "" {
		if name = schema.KeyColumnName(key); name == "" {
			return schema.NewColumn{}, nil, fmt.Errorf("key %q gives no column name; name one with --column", key)
		}
	}
	if !schema.ValidIdent(name) {
		return schema.NewColumn{}, nil, fmt.Errorf("column name %q: want lower snake_case, starting with a letter", name)
	}
	if c := t.Column(name); c != nil {
		return schema.NewColumn{}, nil, fmt.Errorf("column %s.%s already exists (%s:%d); name another with --column, or if it holds %q, give it key: %q", t.Name, name, t.File, c.Line, key, key)
	}
	typ := o.Type
	if typ == "" {
		mt, _ := ducktype.Parse(from.Type) // parsed above
		typ = mt.Value.Text
	}
	desc := o.Description
	if strings.TrimSpace(desc) == "" {
		desc = fmt.Sprintf("%s (promoted from %s).", key, from.Name)
	}
	return schema.NewColumn{Name: name, Type: typ, Key: key, PromotedFrom: from.Name, Description: desc}, t, nil
}

// readsBack checks that the edited file still loads and declares the new
// column as meant, before anything is written.
func readsBack(edited []byte, t *schema.Table, nc schema.NewColumn) error {
	d, err := schema.ParseFile(t.File, edited)
	if err != nil {
		return err
	}
	var c *schema.Column
	for _, dt := range d.Tables {
		if dt.Name == t.Name {
			c = dt.Column(nc.Name)
		}
	}
	if c == nil || c.Type != nc.Type || c.Key != nc.Key || c.PromotedFrom != nc.PromotedFrom {
		return fmt.Errorf("the inserted line does not read back as column %s", nc.Name)
	}
	return nil
}
