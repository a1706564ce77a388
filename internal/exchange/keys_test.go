package exchange

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/dschema/dschema/schema"
)

// TestSchemaJSONKeys: schema.json names every table's primary key as the
// canonical schema declares it, the keys DuckDB does not hold
// (key_index: false) too.
func TestSchemaJSONKeys(t *testing.T) {
	_, dir, _ := quickstartExport(t)
	sch := &Schema{}
	if err := readJSON(filepath.Join(dir, SchemaFile), sch); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, st := range sch.Tables {
		got[st.Name] = st.PrimaryKey
	}
	s, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}
	notIndexed := 0
	for _, ct := range s.Tables {
		if ct.KeyNotIndexed {
			notIndexed++
		}
		if k, ok := got[ct.Name]; !ok || !slices.Equal(k, ct.PrimaryKey) {
			t.Errorf("schema.json: %s has primary key %v (listed %v), want %v", ct.Name, k, ok, ct.PrimaryKey)
		}
	}
	if notIndexed == 0 {
		t.Error("no table of the schema has key_index: false: this test checks nothing of it")
	}
}
