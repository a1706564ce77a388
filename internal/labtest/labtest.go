// Package labtest gives tests a database file already migrated to the
// newest version. Creating the 1,900-column pretraining table with its column
// comments takes seconds, so one template is made per test process (by
// project.MigratedFile, which keeps it in the disk cache across runs) and
// copied for each test.
package labtest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/internal/project"
	"github.com/dschema/dschema/migrations"
)

var (
	once     sync.Once
	template string
	err      error
)

// MigratedDB returns the path of a new database file at the newest version, in t.TempDir().
func MigratedDB(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		dir, e := os.MkdirTemp("", "dschema-labtest")
		if e != nil {
			err = e
			return
		}
		template = filepath.Join(dir, "template.duckdb")
		if err = migrate.VerifySum(migrations.FS, "migrations"); err != nil {
			return
		}
		files, e := migrate.ReadFiles(migrations.FS)
		if e != nil {
			err = e
			return
		}
		_, _, err = project.MigratedFile(context.Background(), files, template)
	})
	if err != nil {
		t.Fatal(err)
	}
	b, e := os.ReadFile(template)
	if e != nil {
		t.Fatal(e)
	}
	path := filepath.Join(t.TempDir(), "lab.duckdb")
	if e := os.WriteFile(path, b, 0o644); e != nil {
		t.Fatal(e)
	}
	return path
}

// Cleanup removes the template; call it from TestMain after m.Run.
func Cleanup() {
	if template != "" {
		os.RemoveAll(filepath.Dir(template))
	}
}
