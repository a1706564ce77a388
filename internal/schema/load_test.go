package schema

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadErrors(t *testing.T) {
	const head = "domain: d\ndescription: x\ntables:\n  - name: t\n    description: a table\n"
	const mapCol = "      - {name: m, type: \"MAP(VARCHAR, DOUBLE)\", description: x}\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", head + "    colums: []\n", `schema/d.yaml:6: table "t": unknown field "colums"`},
		{"unknown column field", head + "    columns:\n      - name: a\n        type: INT\n        descripton: x\n",
			`schema/d.yaml:9: table "t": column "a": unknown field "descripton"`},
		{"duplicate column", head + "    columns:\n      - {name: a, type: INT, description: x}\n      - {name: a, type: INT, description: y}\n",
			`schema/d.yaml:8:9: table "t": column "a": duplicate column (first defined at line 7)`},
		{"bad identifier", head + "    columns:\n      - {name: Bad-Name, type: INT, description: x}\n",
			`schema/d.yaml:7:9: table "t": column "Bad-Name": bad identifier`},
		{"missing type", head + "    columns:\n      - {name: a, description: x}\n", `schema/d.yaml:7:9: table "t": column "a": missing type`},
		{"missing description", head + "    columns:\n      - {name: a, type: INT}\n", `column "a": missing description`},
		{"unknown pk", head + "    primary_key: [b]\n    columns:\n      - {name: a, type: INT, description: x}\n",
			`schema/d.yaml:6:18: table "t": primary_key names unknown column "b"`},
		{"key_index without a key", head + "    key_index: false\n    columns:\n      - {name: a, type: INT, description: x}\n",
			`schema/d.yaml:6:16: table "t": key_index without a primary_key`},
		{"key_index not a bool", head + "    primary_key: [a]\n    key_index: no-index\n    columns:\n      - {name: a, type: INT, description: x}\n",
			`schema/d.yaml:7`},
		{"bad except", head + "    columns:\n      - family: {name: \"{x}_v\", axes: [{x: [a, b]}], except: [c_v]}\n        type: INT\n        description: d\n",
			`except names columns the family does not make: c_v`},
		{"family placeholder", head + "    columns:\n      - family: {name: \"{x}_{y}\", axes: [{x: [a]}]}\n        type: INT\n        description: d\n",
			`placeholder without an axis`},
		{"duplicate key", head + "    description: again\n", `schema/d.yaml:6: table "t": mapping key "description" already defined at line 5`},
		{"promoted from unknown column", head + "    columns:\n      - {name: a, type: DOUBLE, promoted_from: m, description: x}\n",
			`schema/d.yaml:7:9: table "t": column "a": promoted_from names unknown column "m"`},
		{"promoted from itself", head + "    columns:\n      - {name: a, type: DOUBLE, promoted_from: a, description: x}\n",
			`schema/d.yaml:7:9: table "t": column "a": promoted_from names the column itself`},
		{"promoted from a promoted column", head + "    columns:\n" + mapCol +
			"      - {name: a, type: DOUBLE, promoted_from: m, description: x}\n      - {name: b, type: DOUBLE, promoted_from: a, description: x}\n",
			`schema/d.yaml:9:9: table "t": column "b": promoted_from names column "a", which is itself promoted from "m"`},
		{"promoted not null", head + "    columns:\n" + mapCol + "      - {name: a, type: DOUBLE, not_null: true, default: '0', promoted_from: m, description: x}\n",
			`schema/d.yaml:8:9: table "t": column "a": a column promoted from "m" must be nullable, without a default and outside the primary key`},
		{"promoted primary key", head + "    primary_key: [a]\n    columns:\n" + mapCol + "      - {name: a, type: DOUBLE, promoted_from: m, description: x}\n",
			`schema/d.yaml:9:9: table "t": column "a": a column promoted from "m" must be nullable`},
		{"blank key", head + "    columns:\n      - {name: a, type: DOUBLE, key: ' ', description: x}\n",
			`schema/d.yaml:7:9: table "t": column "a": key is blank`},
		{"key taken by a name", head + "    columns:\n      - {name: grad_norm, type: DOUBLE, description: x}\n      - {name: g, type: DOUBLE, key: grad_norm, description: x}\n",
			`schema/d.yaml:8:9: table "t": column "g": key "grad_norm" is already the key of column "grad_norm" (line 7)`},
		{"key taken by a key", head + "    columns:\n      - {name: a, type: DOUBLE, key: eval/loss, description: x}\n      - {name: b, type: DOUBLE, key: eval/loss, description: x}\n",
			`schema/d.yaml:8:9: table "t": column "b": key "eval/loss" is already the key of column "a" (line 7)`},
		{"key on a family", head + "    columns:\n      - family: {name: \"{x}_v\", axes: [{x: [a, b]}]}\n        type: INT\n        key: k\n        description: d\n",
			`key and promoted_from are not allowed on a family`},
		{"a view named as the keys view", head + "    primary_key: [a]\n    key_index: false\n    columns:\n      - {name: a, type: INT, description: x}\nviews:\n  - {name: dschema_keys, description: x, sql: SELECT 1}\n",
			`schema/d.yaml:11:1: view "dschema_keys" has the name of the view dschema makes for keys without an index`},
		{"a table named as the keys view", head + "    primary_key: [a]\n    key_index: false\n    columns:\n      - {name: a, type: INT, description: x}\n  - name: dschema_keys\n    description: x\n    columns:\n      - {name: a, type: INT, description: x}\n",
			`table "dschema_keys" has the name of the view dschema makes for keys without an index`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(fstest.MapFS{"d.yaml": {Data: []byte(tt.yaml)}}, ".", "schema")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestGoIdent(t *testing.T) {
	for in, want := range map[string]string{"run_id": "RunID", "lr_at_step": "LRAtStep", "wikitext_103_valppl": "Wikitext103Valppl", "url": "URL"} {
		if got := GoIdent(in); got != want {
			t.Errorf("GoIdent(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPromotion: key and promoted_from reach the IR; SourceKey falls back to
// the column name.
func TestPromotion(t *testing.T) {
	const yaml = `domain: d
description: x
tables:
  - name: t
    description: a table
    columns:
      - {name: m, type: "MAP(VARCHAR, DOUBLE)", description: x}
      - {name: logps_chosen, type: DOUBLE, key: "logps/chosen", promoted_from: m, description: x}
      - {name: grad_norm, type: DOUBLE, promoted_from: m, description: x}
      - {name: plain, type: DOUBLE, description: x}
`
	s, err := Load(fstest.MapFS{"d.yaml": {Data: []byte(yaml)}}, ".", "schema")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckPromotions(s); err != nil {
		t.Fatalf("CheckPromotions() = %v", err)
	}
	tests := []struct {
		column, key, sourceKey, promotedFrom string
	}{
		{"logps_chosen", "logps/chosen", "logps/chosen", "m"},
		{"grad_norm", "", "grad_norm", "m"},
		{"plain", "", "plain", ""},
	}
	for _, tt := range tests {
		c := s.Table("t").Column(tt.column)
		if c.Key != tt.key || c.SourceKey() != tt.sourceKey || c.PromotedFrom != tt.promotedFrom {
			t.Errorf("column %s: Key %q, SourceKey() %q, PromotedFrom %q; want %q, %q, %q",
				tt.column, c.Key, c.SourceKey(), c.PromotedFrom, tt.key, tt.sourceKey, tt.promotedFrom)
		}
	}
}

// TestCheckPromotions checks promoted_from against (canonical) types: the
// map must have VARCHAR keys and values the column holds exactly.
func TestCheckPromotions(t *testing.T) {
	tests := []struct {
		name, mapType, colType, want string // want "" for no error
	}{
		{"same type", "MAP(VARCHAR, DOUBLE)", "DOUBLE", ""},
		{"widening", "MAP(VARCHAR, FLOAT)", "DOUBLE", ""},
		{"to text", "MAP(VARCHAR, DOUBLE)", "VARCHAR", ""},
		{"narrowing", "MAP(VARCHAR, DOUBLE)", "BIGINT",
			`schema/d.yaml:8:9: table "t": column "c": promoted_from "m": type BIGINT cannot hold every DOUBLE value of m exactly; use DOUBLE`},
		{"not a map", "DOUBLE", "DOUBLE", `promoted_from "m": want a MAP(VARCHAR, …) column, m is DOUBLE`},
		{"integer keys", "MAP(INTEGER, DOUBLE)", "DOUBLE", `want a MAP(VARCHAR, …) column, m is MAP(INTEGER, DOUBLE)`},
		{"a struct", "MAP(VARCHAR, DOUBLE)", "STRUCT(a DOUBLE)", `type STRUCT(a DOUBLE) cannot hold every DOUBLE value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := fmt.Sprintf("domain: d\ndescription: x\ntables:\n  - name: t\n    description: a table\n    columns:\n"+
				"      - {name: m, type: %q, description: x}\n      - {name: c, type: %q, promoted_from: m, description: x}\n", tt.mapType, tt.colType)
			s, err := Load(fstest.MapFS{"d.yaml": {Data: []byte(yaml)}}, ".", "schema")
			if err != nil {
				t.Fatal(err)
			}
			err = CheckPromotions(s)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckPromotions() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckPromotions() = %v, want it to contain %q", err, tt.want)
			}
			var se *Error
			if err != nil && !errors.As(err, &se) {
				t.Errorf("CheckPromotions() = %T, want *Error", err)
			}
		})
	}
}

// TestKeysView: the tables whose key DuckDB does not hold are listed, by
// name and key, in the view dschema_keys of the first one's domain; a
// schema without such a table has no such view.
func TestKeysView(t *testing.T) {
	table := func(name, key string, notIndexed bool) string {
		y := "  - name: " + name + "\n    description: T.\n    primary_key: [" + key + "]\n"
		if notIndexed {
			y += "    key_index: false\n"
		}
		return y + "    columns:\n      - {name: a, type: INT, description: x}\n      - {name: b'c, type: INT, description: x}\n"
	}
	fs := fstest.MapFS{
		"a.yaml": {Data: []byte("domain: a\ndescription: A.\ntables:\n" + table("plain", "a", false))},
		"b.yaml": {Data: []byte("domain: b\ndescription: B.\ntables:\n" + table("zeta", "a", true) + table("beta", "a, b'c", true))},
	}
	_, err := Load(fs, ".", "schema")
	if err == nil || !strings.Contains(err.Error(), "bad identifier") {
		t.Fatalf("a quote in a column name: %v", err)
	}
	fs["b.yaml"] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(string(fs["b.yaml"].Data), "b'c", "bc"))}
	fs["a.yaml"] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(string(fs["a.yaml"].Data), "b'c", "bc"))}
	s, err := Load(fs, ".", "schema")
	if err != nil {
		t.Fatal(err)
	}
	v := s.View(KeysView)
	want := "SELECT table_name, key_columns FROM (VALUES ('beta', ['a', 'bc']), ('zeta', ['a'])) AS k(table_name, key_columns)"
	if v == nil || v.SQL != want || v.Domain != "b" || len(s.Domains[1].Views) != 1 || s.Domains[1].Views[0] != v || len(s.Domains[0].Views) != 0 {
		t.Fatalf("view %+v, want SQL %s in domain b only", v, want)
	}
	if checks := s.KeyChecks(); len(checks) != 2 || !strings.Contains(checks[0], `GROUP BY "a", "bc"`) || !strings.Contains(checks[1], `FROM "zeta" GROUP BY "a"`) {
		t.Errorf("KeyChecks: %q", checks)
	}
	delete(fs, "b.yaml")
	if s, err := Load(fs, ".", "schema"); err != nil || s.View(KeysView) != nil || len(s.KeyChecks()) != 0 {
		t.Errorf("without a key_index: false table: %v, view %v", err, s.View(KeysView))
	}
}
