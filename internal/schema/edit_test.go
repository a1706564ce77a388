package schema

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestKeyColumnName(t *testing.T) {
	tests := map[string]string{
		"logps/chosen":     "logps_chosen",
		"eval/loss":        "eval_loss",
		"grad_norm":        "grad_norm",
		"Train Loss (avg)": "train_loss_avg",
		"__x__":            "x",
		"a--b//c":          "a_b_c",
		"1st/acc":          "m_1st_acc",
		"rewards/é":        "rewards",
		"///":              "",
	}
	for in, want := range tests {
		if got := KeyColumnName(in); got != want {
			t.Errorf("KeyColumnName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInsertColumn(t *testing.T) {
	const head = "domain: d\ndescription: x\ntables:\n  - name: t\n    description: a table\n    columns:\n"
	const next = "  - name: u\n    description: another\n    columns:\n      - {name: id, type: BIGINT, description: x}\n"
	col := NewColumn{Name: "logps_chosen", Type: "DOUBLE", Key: "logps/chosen", PromotedFrom: "m", Description: "logps/chosen (promoted from m)."}
	const line = `      - {name: logps_chosen, type: DOUBLE, key: "logps/chosen", promoted_from: m, description: "logps/chosen (promoted from m)."}` + "\n"
	const mapCol = "      - {name: m, type: \"MAP(VARCHAR, DOUBLE)\", description: x}\n"
	tests := []struct {
		name, in, before, want string
	}{
		{"before load_id and its comment",
			head + mapCol + "\n      # Provenance.\n      - {name: load_id, type: BIGINT, description: x}\n" + next, "load_id",
			head + mapCol + "\n" + line + "      # Provenance.\n      - {name: load_id, type: BIGINT, description: x}\n" + next},
		{"after a block-style last column",
			head + mapCol + "      - name: note\n        type: VARCHAR\n        description: >\n          Folded,\n\n          text.\n\n" + next, "load_id",
			head + mapCol + "      - name: note\n        type: VARCHAR\n        description: >\n          Folded,\n\n          text.\n" + line + "\n" + next},
		{"at the end of a file without a final newline",
			head + strings.TrimSuffix(mapCol, "\n"), "",
			head + mapCol + strings.TrimSuffix(line, "\n") + "\n"},
		{"CRLF",
			strings.ReplaceAll(head+mapCol+"      - {name: load_id, type: BIGINT, description: x}\n", "\n", "\r\n"), "load_id",
			strings.ReplaceAll(head+mapCol+line+"      - {name: load_id, type: BIGINT, description: x}\n", "\n", "\r\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InsertColumn([]byte(tt.in), "t", col, tt.before)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("InsertColumn() differs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestInsertColumnQuoting: whatever the key, type and description hold,
// the line reads back as written.
func TestInsertColumnQuoting(t *testing.T) {
	const in = "domain: d\ndescription: x\ntables:\n  - name: t\n    description: a table\n    columns:\n      - {name: m, type: \"MAP(VARCHAR, DOUBLE)\", description: x}\n"
	for _, c := range []NewColumn{
		{Name: "a", Type: "MAP(VARCHAR, DOUBLE)", Key: `say "hi" \ #1: {x}, [y]`, Description: "Tab\there, ünïcode, 'quotes'."},
		{Name: "b", Type: "TIMESTAMP WITH TIME ZONE", Key: "- dash", PromotedFrom: "m", Description: "#comment-like: yes"},
		{Name: "c", Type: "DECIMAL(10,2)", Key: "null", Description: "true"},
	} {
		t.Run(c.Name, func(t *testing.T) {
			out, err := InsertColumn([]byte(in), "t", c, "")
			if err != nil {
				t.Fatal(err)
			}
			s, err := Load(fstest.MapFS{"d.yaml": {Data: out}}, ".", "schema")
			if err != nil {
				t.Fatalf("Load() = %v\n%s", err, out)
			}
			got := s.Table("t").Column(c.Name)
			desc := strings.Join(strings.Fields(c.Description), " ") // as Load normalises it
			if got == nil || got.Type != c.Type || got.Key != c.Key || got.PromotedFrom != c.PromotedFrom || got.Description != desc {
				t.Errorf("read back %+v, want %+v\n%s", got, c, out)
			}
		})
	}
}

func TestInsertColumnRefuses(t *testing.T) {
	const head = "domain: d\ndescription: x\ntables:\n  - name: t\n    description: a table\n"
	c := NewColumn{Name: "x", Type: "DOUBLE", Description: "x"}
	tests := []struct{ name, in, table, want string }{
		{"unknown table", head + "    columns:\n      - {name: a, type: INT, description: x}\n", "nope", `table "nope": no columns list`},
		{"flow sequence", head + "    columns: [{name: a, type: INT, description: x}]\n", "t", "one flow sequence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := InsertColumn([]byte(tt.in), tt.table, c, "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("InsertColumn() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
