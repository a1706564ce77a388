package exchange

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/quickstart"
)

// The quickstart database and its export, made once for the package's tests.
var qs struct {
	once     sync.Once
	root     string
	db, dir  string
	manifest *Manifest
	err      error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if qs.root != "" {
		os.RemoveAll(qs.root)
	}
	os.Exit(code)
}

// quickstartExport returns the quickstart database, its export and the
// manifest; the tests only read them (copy the folder to change it).
func quickstartExport(t *testing.T) (string, string, *Manifest) {
	t.Helper()
	qs.once.Do(func() {
		ctx := context.Background()
		if qs.root, qs.err = os.MkdirTemp("", "dschema-exchange"); qs.err != nil {
			return
		}
		qs.db, qs.dir = filepath.Join(qs.root, "lab.duckdb"), filepath.Join(qs.root, "export")
		if qs.err = quickstart.Run(ctx, quickstart.Options{DB: qs.db, Out: io.Discard}); qs.err != nil {
			return
		}
		db, err := dbfile.OpenExisting(ctx, qs.db)
		if err != nil {
			qs.err = err
			return
		}
		defer db.Close()
		qs.manifest, qs.err = Export(ctx, db, qs.dir, Options{DBName: qs.db})
	})
	if qs.err != nil {
		t.Fatal(qs.err)
	}
	return qs.db, qs.dir, qs.manifest
}

// TestQuickstartRoundTrip: export then import gives the quickstart
// database back, table for table and row for row, provenance included, and
// the next load takes the load_id after the imported ones.
func TestQuickstartRoundTrip(t *testing.T) {
	ctx := context.Background()
	src, dir, m := quickstartExport(t)
	dst := filepath.Join(t.TempDir(), "copy.duckdb")
	m2, err := Import(ctx, dst, dir, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m2.SchemaVersion != m.SchemaVersion || m.SchemaVersion < 12 {
		t.Errorf("schema version %d imported, %d exported", m2.SchemaVersion, m.SchemaVersion)
	}
	tables := sameDatabases(t, src, dst)
	if len(tables) != len(m.Tables) || len(tables) < 15 {
		t.Errorf("compared %d tables %v, the manifest has %d", len(tables), tables, len(m.Tables))
	}
	want := map[string]int64{"dschema_loads": 7, "pretrain_evals": 144, "wandb_history": 76, "qa_question_outputs": 120, "finetune_matched_values": 27}
	for _, te := range m.Tables {
		if n, ok := want[te.Name]; ok && te.Rows != n {
			t.Errorf("%s: %d rows exported, want %d", te.Name, te.Rows, n)
		}
	}
	if !cmp.Equal(m.LoadIDs, []int64{1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("load ids %v, want 1-7", m.LoadIDs)
	}

	// The next load into the imported database is load 8.
	db, err := dbfile.OpenExisting(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dump, err := fixtures.WriteOLMESDump(filepath.Join(t.TempDir(), "olmes"), fixtures.RunName(2), fixtures.QATasks, fixtures.QAQuestions)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := (&loaders.Engine{DB: db, DBPath: dst}).Load(ctx, "qa-outputs", dump, loaders.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.LoadID != 8 {
		t.Errorf("next load after the import is load %d, want 8", sum.LoadID)
	}
}
