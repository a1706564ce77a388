// Package dbfile opens DuckDB database files with errors a user can act on.
package dbfile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
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

// ErrNoDatabase is wrapped by OpenExisting's error when there is no file.
var ErrNoDatabase = errors.New("no such database")

// NoDatabaseError names the missing database file.
type NoDatabaseError struct{ Path string }

func (e *NoDatabaseError) Error() string {
	return fmt.Sprintf("database %s does not exist (dschema migrate up --db %s creates it)", e.Path, e.Path)
}

func (e *NoDatabaseError) Unwrap() error { return ErrNoDatabase }

// OpenExisting is Open for a database that must already exist: only
// migrate up creates one, so a mistyped path never leaves an empty file.
func OpenExisting(ctx context.Context, path string) (*sql.DB, error) {
	if err := Named(path); err != nil {
		return nil, err
	}
	if path != ":memory:" {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, &NoDatabaseError{Path: path}
		}
	}
	return Open(ctx, path)
}

// Named refuses an empty database path.
func Named(path string) error {
	if path == "" {
		return errors.New("no database: --db is empty (name a file, or set DSCHEMA_DB)")
	}
	return nil
}

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
		if le := Locked(path, err); le != nil {
			return nil, le
		}
		return nil, fmt.Errorf("open database %s: %s", path, firstLine(err.Error()))
	}
	// One connection: DuckDB's appender and transactions are per connection,
	// and a single writer keeps loads simple.
	db.SetMaxOpenConns(1)
	return db, nil
}

// Locked returns a *LockedError naming path and the process holding it when
// err is DuckDB's refusal to lock the file (another process has it open),
// else nil. Commands that open a file their own way (ATTACH) use it to say
// so in the same one line as Open.
func Locked(path string, err error) *LockedError {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if !strings.Contains(msg, "Could not set lock") && !strings.Contains(msg, "Conflicting lock") {
		return nil
	}
	le := &LockedError{Path: path}
	if m := pidRE.FindStringSubmatch(msg); m != nil {
		le.Holder = "PID " + m[1]
	}
	return le
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
