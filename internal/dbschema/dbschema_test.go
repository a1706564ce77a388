package dbschema_test

import (
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/schema"
)

// TestKeyIndex: a primary key is DuckDB's constraint unless the schema says
// key_index: false, which keeps its columns NOT NULL and nothing more.
func TestKeyIndex(t *testing.T) {
	for _, tt := range []struct {
		name, keyIndex string
		notIndexed     bool
		want           string
	}{
		{"default", "", false, "CREATE TABLE \"t\" (\n    \"a\" VARCHAR NOT NULL,\n    \"b\" BIGINT NOT NULL,\n    \"c\" DOUBLE,\n    PRIMARY KEY (\"a\", \"b\")\n);"},
		{"key_index true", "    key_index: true\n", false, "CREATE TABLE \"t\" (\n    \"a\" VARCHAR NOT NULL,\n    \"b\" BIGINT NOT NULL,\n    \"c\" DOUBLE,\n    PRIMARY KEY (\"a\", \"b\")\n);"},
		{"key_index false", "    key_index: false\n", true, "CREATE TABLE \"t\" (\n    \"a\" VARCHAR NOT NULL,\n    \"b\" BIGINT NOT NULL,\n    \"c\" DOUBLE\n);"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			y := "domain: d\ndescription: D.\ntables:\n  - name: t\n    description: T.\n    primary_key: [a, b]\n" + tt.keyIndex +
				"    columns:\n      - {name: a, type: VARCHAR, description: x}\n      - {name: b, type: BIGINT, description: x}\n      - {name: c, type: DOUBLE, description: x}\n"
			d, err := schema.ParseFile("schema/d.yaml", []byte(y))
			if err != nil {
				t.Fatal(err)
			}
			st := d.Tables[0]
			if st.KeyNotIndexed != tt.notIndexed || strings.Join(st.PrimaryKey, ",") != "a,b" {
				t.Errorf("KeyNotIndexed %v, PrimaryKey %v; want %v, [a b]", st.KeyNotIndexed, st.PrimaryKey, tt.notIndexed)
			}
			if got := dbschema.CreateTable(dbschema.FromSchemaTable(st)); got != tt.want {
				t.Errorf("CreateTable:\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
