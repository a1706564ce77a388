package schema

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadEmbedded(t *testing.T) {
	s, err := LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	evals := s.Table("pretrain_evals")
	if evals == nil {
		t.Fatal("no pretrain_evals table")
	}
	// 8 base columns + 11 perplexities + 1,866 task × metric + overflow + load_id.
	if got, want := len(evals.Columns), 8+11+1866+1+1; got != want {
		t.Errorf("pretrain_evals has %d columns, want %d", got, want)
	}
	if c := evals.Column("boolq_acc_uncond"); c != nil {
		t.Errorf("boolq_acc_uncond exists, want it excepted")
	}
	c := evals.Column("mmlu_average_primary_metric")
	if c == nil || c.Description != "Downstream evaluation: primary_metric on mmlu_average." {
		t.Errorf("mmlu_average_primary_metric = %+v", c)
	}
	if got := len(s.Table("pretrain_models").Columns); got != 46 {
		t.Errorf("pretrain_models has %d columns, want 46 (params, 4 schedule columns, 40 model details, load_id)", got)
	}
	var names []string
	for _, d := range s.Domains {
		names = append(names, d.Name)
	}
	if got := strings.Join(names, ","); got != "finetune,pretraining,provenance,wandb,wandb_history" {
		t.Errorf("domains = %s", got)
	}
}

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
