package exchange

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/dbfile"
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

// TestImportRefusesSharedKeys: an export of a database whose wandb_history
// (key not held by DuckDB) has two rows with one key is refused on import,
// naming the table, the key and the rows, and leaves no database
// (TestQuickstartRoundTrip imports a database that keeps it).
func TestImportRefusesSharedKeys(t *testing.T) {
	ctx := context.Background()
	src, _, _ := quickstartExport(t)
	copyDB := filepath.Join(t.TempDir(), "broken.duckdb")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyDB, b, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := dbfile.OpenExisting(ctx, copyDB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO wandb_history SELECT * FROM wandb_history WHERE seq = 3 ORDER BY run_id LIMIT 1"); err != nil {
		t.Fatal(err)
	}
	var run string
	if err := db.QueryRowContext(ctx, "SELECT min(run_id) FROM wandb_history").Scan(&run); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "export")
	_, err = Export(ctx, db, dir, Options{DBName: copyDB})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "imported.duckdb")
	_, err = Import(ctx, target, dir, ImportOptions{})
	if want := "import wandb_history: 1 keys (run_id, seq) are each on more than one row: " + run + " / 3 (2 rows)"; !errors.Is(err, ErrSharedKey) || !strings.Contains(err.Error(), want) {
		t.Errorf("Import = %v, want ErrSharedKey: %s", err, want)
	}
	if _, serr := os.Stat(target); !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("the refused import left %s (%v)", target, serr)
	}
}
