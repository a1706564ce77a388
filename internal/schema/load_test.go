package schema

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadErrors(t *testing.T) {
	const head = "domain: d\ndescription: x\ntables:\n  - name: t\n    description: a table\n"
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
		{"bad except", head + "    columns:\n      - family: {name: \"{x}_v\", axes: [{x: [a, b]}], except: [c_v]}\n        type: INT\n        description: d\n",
			`except names columns the family does not make: c_v`},
		{"family placeholder", head + "    columns:\n      - family: {name: \"{x}_{y}\", axes: [{x: [a]}]}\n        type: INT\n        description: d\n",
			`placeholder without an axis`},
		{"duplicate key", head + "    description: again\n", `schema/d.yaml:6: table "t": mapping key "description" already defined at line 5`},
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
