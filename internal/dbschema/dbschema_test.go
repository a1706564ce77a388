package dbschema_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/duckdbtest"
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

// TestKeysNotIndexedAndSharedKeys: a database without the keys view lists
// no key; with it, each table's; SharedKeys counts the keys on more than
// one row and names five, in key order.
func TestKeysNotIndexedAndSharedKeys(t *testing.T) {
	ctx := context.Background()
	db := duckdbtest.Open(t)
	exec := func(q string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if keys, err := dbschema.KeysNotIndexed(ctx, db); err != nil || len(keys) != 0 {
		t.Fatalf("without the view: %v, %v", keys, err)
	}
	exec(`CREATE TABLE t (a VARCHAR, "b c" BIGINT)`)
	exec(`CREATE VIEW ` + schema.KeysView + ` AS SELECT table_name, key_columns FROM (VALUES ('t', ['a', 'b c'])) AS k(table_name, key_columns)`)
	keys, err := dbschema.KeysNotIndexed(ctx, db)
	if err != nil || len(keys) != 1 || strings.Join(keys["t"], ",") != "a,b c" {
		t.Fatalf("with the view: %v, %v", keys, err)
	}
	for _, tc := range []struct {
		rows     string
		n        int64
		examples string
	}{
		{"('x', 1), ('x', 2)", 0, ""},
		{"('x', 1)", 1, "x / 1 (2 rows)"},
		{"('a', 9), ('a', 9), ('a', 9), ('b', 1), ('b', 1), ('c', 1), ('c', 1), ('d', 1), ('d', 1), ('e', 1), ('e', 1)", 6,
			"a / 9 (3 rows); b / 1 (2 rows); c / 1 (2 rows); d / 1 (2 rows); e / 1 (2 rows)"},
	} {
		exec(`INSERT INTO t VALUES ` + tc.rows)
		var n int64
		var examples string
		if err := db.QueryRowContext(ctx, dbschema.SharedKeys("t", keys["t"])).Scan(&n, &examples); err != nil {
			t.Fatal(err)
		}
		if n != tc.n || examples != tc.examples {
			t.Errorf("after %s: %d, %q; want %d, %q", tc.rows, n, examples, tc.n, tc.examples)
		}
	}
}
