package site

import (
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/schema"
)

// DomainView is one schema file's tables and views on the page.
type DomainView struct {
	Name, Description, File string
	Tables                  []TableView
	Views                   []*schema.View
}

// TableView is one table with its row count and columns.
type TableView struct {
	*schema.Table
	Rows     int64
	HasRows  bool // a database was read
	Open     bool // shown unfolded (tables of at most 60 columns)
	Columns  []ColumnView
	Declared int // columns with a declared legacy source
}

// ColumnView is one column with where it comes from.
type ColumnView struct {
	*schema.Column
	Sources []Source
}

// Source is one declared legacy source of a column.
type Source struct{ Kind, Layout, From string }

// dictionary builds the dictionary from s, the loaders' declared sources
// and the row counts (nil without a database).
func dictionary(s *schema.Schema, srcs map[string][]loaders.ColumnSource, counts map[string]int64) []DomainView {
	by := map[[2]string][]Source{}
	for _, kind := range loaders.Kinds() {
		for _, c := range srcs[kind] {
			layout := c.Layout
			if layout == "" {
				layout = "every layout"
			}
			k := [2]string{c.Table, c.Column}
			by[k] = append(by[k], Source{Kind: kind, Layout: layout, From: c.From})
		}
	}
	var out []DomainView
	for _, d := range s.Domains {
		dv := DomainView{Name: d.Name, Description: d.Description, File: d.File, Views: d.Views}
		for _, t := range d.Tables {
			tv := TableView{Table: t, Open: len(t.Columns) <= 60}
			tv.Rows, tv.HasRows = counts[t.Name], counts != nil
			for _, c := range t.Columns {
				cv := ColumnView{Column: c, Sources: by[[2]string{t.Name, c.Name}]}
				if len(cv.Sources) > 0 {
					tv.Declared++
				}
				tv.Columns = append(tv.Columns, cv)
			}
			dv.Tables = append(dv.Tables, tv)
		}
		out = append(out, dv)
	}
	return out
}
