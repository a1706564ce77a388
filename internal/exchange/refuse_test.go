package exchange

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/dbfile"
)

// copyDir copies the export at src to a new folder and returns it.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "export")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// editManifest rewrites dir's manifest.json through edit.
func editManifest(t *testing.T, dir string, edit func(*Manifest)) {
	t.Helper()
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	if _, err := writeJSON(filepath.Join(dir, ManifestFile), m); err != nil {
		t.Fatal(err)
	}
}

// TestImportRefuses: each refusal comes before anything is written, with an
// error naming the problem (and the file); no database and no temporary
// file is left behind.
func TestImportRefuses(t *testing.T) {
	_, src, m := quickstartExport(t)
	var history string
	for _, f := range m.Files {
		if f.Table == "wandb_history" {
			history = f.Path
			break
		}
	}
	cases := []struct {
		name   string
		setup  func(t *testing.T, dir, db string)
		is     error
		inMsgs []string
	}{
		{"unknown version", func(t *testing.T, dir, _ string) {
			editManifest(t, dir, func(m *Manifest) { m.SchemaVersion = 99 })
		}, ErrUnknownVersion, []string{"schema version 99", "no version 99"}},
		{"other migration sum", func(t *testing.T, dir, _ string) {
			editManifest(t, dir, func(m *Manifest) { m.MigrationSum = "h1:OTHER=" })
		}, ErrSumMismatch, []string{"h1:OTHER=", m.MigrationSum}},
		{"changed file", func(t *testing.T, dir, _ string) {
			p := filepath.Join(dir, filepath.FromSlash(history))
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 1
			os.WriteFile(p, b, 0o644)
		}, ErrFileMismatch, []string{history, "sha256"}},
		{"missing file", func(t *testing.T, dir, _ string) {
			os.Remove(filepath.Join(dir, filepath.FromSlash(history)))
		}, ErrFileMismatch, []string{history, "missing"}},
		{"extra file", func(t *testing.T, dir, _ string) {
			os.WriteFile(filepath.Join(dir, "wandb_history", "stray.parquet"), []byte("x"), 0o644)
		}, ErrFileMismatch, []string{"wandb_history/stray.parquet", "not in manifest.json"}},
		{"row count", func(t *testing.T, dir, _ string) {
			editManifest(t, dir, func(m *Manifest) {
				for i := range m.Files {
					if m.Files[i].Path == history {
						m.Files[i].Rows++
					}
				}
			})
		}, ErrFileMismatch, []string{history, "rows, the manifest says"}},
		{"changed schema.json", func(t *testing.T, dir, _ string) {
			p := filepath.Join(dir, SchemaFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, []byte(strings.Replace(string(b), "HUGEINT", "DOUBLE", 1)), 0o644)
		}, ErrFileMismatch, []string{SchemaFile, "sha256"}},
		{"target not empty", func(t *testing.T, _, db string) {
			scratchDB(t, db, "CREATE TABLE mine(x INTEGER)")
		}, ErrNotEmpty, []string{"1 tables and views"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, src)
			dbDir := t.TempDir()
			db := filepath.Join(dbDir, "copy.duckdb")
			tc.setup(t, dir, db)
			before, _ := os.ReadDir(dbDir)
			_, err := Import(context.Background(), db, dir, ImportOptions{})
			if !errors.Is(err, tc.is) {
				t.Fatalf("Import = %v, want %v", err, tc.is)
			}
			for _, s := range tc.inMsgs {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			var fe *FileError
			if tc.is == ErrFileMismatch && (!errors.As(err, &fe) || !strings.HasPrefix(err.Error(), fe.Path)) {
				t.Errorf("error %q is not a *FileError naming the file", err)
			}
			after, _ := os.ReadDir(dbDir)
			if len(after) != len(before) {
				t.Errorf("the refused import left files: %v (before %v)", after, before)
			}
		})
	}
}

// TestExportRefusesNonEmptyDir: export writes only a new (or empty) folder,
// and a refused export leaves nothing beside it.
func TestExportRefusesNonEmptyDir(t *testing.T) {
	src, _, _ := quickstartExport(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o644)
	db, err := dbfile.OpenExisting(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = Export(context.Background(), db, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "is not empty (keep.txt") {
		t.Errorf("Export into a non-empty folder = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "keep.txt")); string(b) != "mine" {
		t.Errorf("keep.txt changed")
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".partial-") {
			t.Errorf("left %s", e.Name())
		}
	}
}
