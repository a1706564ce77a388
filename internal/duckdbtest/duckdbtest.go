// Package duckdbtest gives tests a DuckDB database that is closed when the test ends.
package duckdbtest

import (
	"database/sql"
	"path/filepath"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
)

// Open returns an in-memory DuckDB database.
func Open(t testing.TB) *sql.DB {
	t.Helper()
	return open(t, "")
}

// OpenFile returns a DuckDB database in a new file under t.TempDir() and its path.
func OpenFile(t testing.TB) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.duckdb")
	return open(t, path), path
}

func open(t testing.TB, dsn string) *sql.DB {
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		t.Fatalf("open duckdb %q: %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
