package project

import (
	"fmt"
	"testing"

	"github.com/dschema/dschema/internal/schema"
)

// TestReadsBackRefusesAnEditThatSaysOtherwise: the edited file must declare
// the new column as meant, field by field; a line that parses but names
// another type, key or map (a bad edit) is refused before anything is
// written, as is a file where the column is missing.
func TestReadsBackRefusesAnEditThatSaysOtherwise(t *testing.T) {
	t.Parallel()
	const file = `domain: lab
description: D.
tables:
  - name: history
    description: Rows.
    columns:
      - {name: run_id, type: VARCHAR, description: "Run."}
      - {name: extra_metrics, type: "MAP(VARCHAR, DOUBLE)", description: "Other keys."}
%s`
	nc := schema.NewColumn{Name: "a_b", Type: "DOUBLE", Key: "a'b", PromotedFrom: "extra_metrics", Description: "a'b (promoted)."}
	tbl := &schema.Table{Name: "history", File: "schema/lab.yaml"}
	for _, tt := range []struct {
		name, line string
		ok         bool
	}{
		{"as meant", `      - {name: a_b, type: DOUBLE, key: "a'b", promoted_from: extra_metrics, description: "a'b (promoted)."}`, true},
		{"another type", `      - {name: a_b, type: BIGINT, key: "a'b", promoted_from: extra_metrics, description: "a'b (promoted)."}`, false},
		{"another key", `      - {name: a_b, type: DOUBLE, key: "a_b", promoted_from: extra_metrics, description: "a'b (promoted)."}`, false},
		{"no promoted_from", `      - {name: a_b, type: DOUBLE, key: "a'b", description: "a'b (promoted)."}`, false},
		{"missing", ``, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := readsBack([]byte(fmt.Sprintf(file, tt.line)), tbl, nc)
			if (err == nil) != tt.ok {
				t.Errorf("readsBack(%s) = %v, want ok %v", tt.name, err, tt.ok)
			}
		})
	}
}
