// Package docs renders the schema as a Markdown data dictionary.
package docs

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/dschema/dschema/internal/project"
	schemafiles "github.com/dschema/dschema/schema"

	"github.com/dschema/dschema/internal/schema"
)

// Write renders every domain and table of s.
func Write(w io.Writer, s *schema.Schema) error {
	var b strings.Builder
	b.WriteString("# dschema data dictionary\n\n")
	for _, d := range s.Domains {
		fmt.Fprintf(&b, "- [%s](#domain-%s): %s\n", d.Name, strings.ReplaceAll(d.Name, "_", "-"), strings.Join(tableNames(d), ", "))
	}
	for _, d := range s.Domains {
		fmt.Fprintf(&b, "\n## Domain %s\n\n%s\n\nDefined in `%s`.\n", d.Name, d.Description, d.File)
		for _, t := range d.Tables {
			fmt.Fprintf(&b, "\n### %s\n\n%s\n\n", t.Name, t.Description)
			if len(t.PrimaryKey) > 0 {
				fmt.Fprintf(&b, "Primary key: `%s`. ", strings.Join(t.PrimaryKey, "`, `"))
				if t.KeyNotIndexed {
					b.WriteString("Not indexed: DuckDB holds no constraint for it; every load writes rows that keep it, `import` checks it, `dschema verify` counts rows sharing a key the file has, and the view `dschema_keys` lists it. ")
				}
			}
			fmt.Fprintf(&b, "%d columns.\n", len(t.Columns))
			for _, ix := range t.Indexes {
				u := ""
				if ix.Unique {
					u = "unique "
				}
				fmt.Fprintf(&b, "Index `%s`: %son `%s`.\n", ix.Name, u, strings.Join(ix.Columns, "`, `"))
			}
			b.WriteString("\n| column | type | null | unit | description |\n|---|---|---|---|---|\n")
			for _, c := range t.Columns {
				null := "yes"
				if c.NotNull {
					null = "no"
				}
				def := ""
				if c.Default != "" {
					def = fmt.Sprintf(" Default `%s`.", c.Default)
				}
				fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s%s |\n", c.Name, cell(c.Type), null, cell(c.Unit), cell(c.Description), def)
			}
		}
		for _, v := range d.Views {
			fmt.Fprintf(&b, "\n### %s (view)\n\n%s\n\n```sql\n%s\n```\n", v.Name, v.Description, v.SQL)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func tableNames(d *schema.Domain) []string {
	var out []string
	for _, t := range d.Tables {
		out = append(out, t.Name)
	}
	for _, v := range d.Views {
		out = append(out, v.Name+" (view)")
	}
	return out
}

// CanonicalSchema loads the embedded schema (schema/*.yaml) with DuckDB's
// canonical types, as dschema docs shows it. (It lives here, not in
// internal/project, so that the generator, which reads the schema from
// disk, does not embed it.)
func CanonicalSchema(ctx context.Context) (*schema.Schema, error) {
	s, err := schemafiles.Load()
	if err != nil {
		return nil, err
	}
	if _, err := project.CanonicalState(ctx, s); err != nil {
		return nil, err
	}
	return s, nil
}
