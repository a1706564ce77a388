// Package dbfile opens DuckDB database files with errors a user can act on.
package dbfile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
)

// ErrLocked is wrapped by the error Open returns when another process holds the file.
var ErrLocked = errors.New("database is in use by another process")

// LockedError names the file and, when DuckDB says, the holder.
type LockedError struct {
	Path, Holder string
}

func (e *LockedError) Error() string {
	if e.Holder != "" {
		return fmt.Sprintf("database %s is in use by another process (%s); close it and try again", e.Path, e.Holder)
	}
	return fmt.Sprintf("database %s is in use by another process; close it and try again", e.Path)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

var pidRE = regexp.MustCompile(`\(PID (\d+)\)`)

// Open opens (creating if needed) the DuckDB file at path and checks that it
// can be used. An empty path or ":memory:" opens an in-memory database.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	dsn := path
	if path == ":memory:" {
		dsn = ""
	}
	db, err := sql.Open("duckdb", dsn)
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		msg := err.Error()
		if strings.Contains(msg, "Could not set lock") || strings.Contains(msg, "Conflicting lock") {
			le := &LockedError{Path: path}
			if m := pidRE.FindStringSubmatch(msg); m != nil {
				le.Holder = "PID " + m[1]
			}
			return nil, le
		}
		return nil, fmt.Errorf("open database %s: %s", path, firstLine(msg))
	}
	// One connection: DuckDB's appender and transactions are per connection,
	// and a single writer keeps loads simple.
	db.SetMaxOpenConns(1)
	return db, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
