package plan

import (
	"fmt"
	"strings"

	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/schema"
)

// Difference is one way two states differ.
type Difference struct {
	Table, Column string // Column is "" for table-level differences
	View          bool   // Table names a view
	Msg           string
}

func (d Difference) String() string {
	if d.View {
		return fmt.Sprintf("view %q: %s", d.Table, d.Msg)
	}
	if d.Column != "" {
		return fmt.Sprintf("table %q: column %q: %s", d.Table, d.Column, d.Msg)
	}
	return fmt.Sprintf("table %q: %s", d.Table, d.Msg)
}

// Compare lists how got differs from want; gotName and wantName label the
// two sides in messages (e.g. "migrations" and "schema"). Column order is not
// compared: DuckDB appends added columns at the end, and every reader and
// appender names its columns.
func Compare(got, want *dbschema.State, gotName, wantName string) []Difference {
	var out []Difference
	for _, wt := range want.Tables {
		gt := got.Table(wt.Name)
		if gt == nil {
			out = append(out, Difference{Table: wt.Name, Msg: fmt.Sprintf("in %s but not in %s", wantName, gotName)})
			continue
		}
		if gt.Comment != wt.Comment {
			out = append(out, Difference{Table: wt.Name, Msg: fmt.Sprintf("description differs (%s %q, %s %q)", gotName, gt.Comment, wantName, wt.Comment)})
		}
		if a, b := strings.Join(gt.PrimaryKey, ","), strings.Join(wt.PrimaryKey, ","); a != b {
			out = append(out, Difference{Table: wt.Name, Msg: fmt.Sprintf("primary key differs (%s (%s), %s (%s))", gotName, a, wantName, b)})
		}
		for _, wc := range wt.Columns {
			gc := gt.Column(wc.Name)
			d := func(format string, args ...any) {
				out = append(out, Difference{Table: wt.Name, Column: wc.Name, Msg: fmt.Sprintf(format, args...)})
			}
			if gc == nil {
				d("in %s but not in %s", wantName, gotName)
				continue
			}
			if gc.Type != wc.Type {
				d("type differs (%s %s, %s %s)", gotName, gc.Type, wantName, wc.Type)
			}
			if gc.NotNull != wc.NotNull {
				d("NOT NULL differs (%s %v, %s %v)", gotName, gc.NotNull, wantName, wc.NotNull)
			}
			if gc.Default != wc.Default {
				d("default differs (%s %q, %s %q)", gotName, gc.Default, wantName, wc.Default)
			}
			if gc.Comment != wc.Comment {
				d("description differs (%s %q, %s %q)", gotName, gc.Comment, wantName, wc.Comment)
			}
		}
		for _, gc := range gt.Columns {
			if wt.Column(gc.Name) == nil {
				out = append(out, Difference{Table: wt.Name, Column: gc.Name, Msg: fmt.Sprintf("in %s but not in %s", gotName, wantName)})
			}
		}
		for _, wi := range wt.Indexes {
			gi := gt.Index(wi.Name)
			switch {
			case gi == nil:
				out = append(out, Difference{Table: wt.Name, Msg: fmt.Sprintf("index %q in %s but not in %s", wi.Name, wantName, gotName)})
			case !sameIndex(gi, wi):
				out = append(out, Difference{Table: wt.Name, Msg: fmt.Sprintf("index %q differs", wi.Name)})
			}
		}
		for _, gi := range gt.Indexes {
			if wt.Index(gi.Name) == nil {
				out = append(out, Difference{Table: wt.Name, Msg: fmt.Sprintf("index %q in %s but not in %s", gi.Name, gotName, wantName)})
			}
		}
	}
	for _, gt := range got.Tables {
		if want.Table(gt.Name) == nil {
			out = append(out, Difference{Table: gt.Name, Msg: fmt.Sprintf("in %s but not in %s", gotName, wantName)})
		}
	}
	for _, wv := range want.Views {
		gv := got.View(wv.Name)
		switch {
		case gv == nil:
			out = append(out, Difference{Table: wv.Name, View: true, Msg: fmt.Sprintf("in %s but not in %s", wantName, gotName)})
		case schema.ViewSQLHash(gv.Comment) != schema.ViewSQLHash(wv.Comment):
			out = append(out, Difference{Table: wv.Name, View: true, Msg: fmt.Sprintf("definition differs (%s sql %s, %s sql %s)",
				gotName, schema.ViewSQLHash(gv.Comment), wantName, schema.ViewSQLHash(wv.Comment))})
		case gv.Comment != wv.Comment:
			out = append(out, Difference{Table: wv.Name, View: true, Msg: fmt.Sprintf("description differs (%s %q, %s %q)", gotName, gv.Comment, wantName, wv.Comment)})
		}
	}
	for _, gv := range got.Views {
		if want.View(gv.Name) == nil {
			out = append(out, Difference{Table: gv.Name, View: true, Msg: fmt.Sprintf("in %s but not in %s", gotName, wantName)})
		}
	}
	return out
}
