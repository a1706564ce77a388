package loaders

import (
	"context"
	"database/sql"
	"testing"

	"github.com/dschema/dschema/internal/dbfile"
)

// threadLoader is a loader that declares the DuckDB threads of its loads.
type threadLoader struct {
	fakeLoader
	n int
}

func (t threadLoader) LoadThreads() int { return t.n }

// threeThreads opens an in-memory database at 3 threads and its one
// connection, and what reads the setting there.
func threeThreads(t *testing.T) (*sql.DB, *sql.Conn, func() int64) {
	t.Helper()
	ctx := context.Background()
	db, err := dbfile.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(ctx, "SET threads = 3"); err != nil {
		t.Fatal(err)
	}
	return db, conn, func() int64 {
		var n int64
		if err := conn.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
}

// TestLimitThreads: a ThreadLimiter's loads run on the threads it
// declares, and the setting is restored after; a loader that declares
// none, or 0, leaves the setting alone.
func TestLimitThreads(t *testing.T) {
	ctx := context.Background()
	_, conn, threads := threeThreads(t)
	for _, tt := range []struct {
		name   string
		l      Loader
		during int64
	}{
		{"one thread", threadLoader{fakeLoader{"x"}, 1}, 1},
		{"two threads", threadLoader{fakeLoader{"x"}, 2}, 2},
		{"zero: not limited", threadLoader{fakeLoader{"x"}, 0}, 3},
		{"no ThreadLimiter", fakeLoader{"x"}, 3},
	} {
		restore, err := limitThreads(ctx, conn, tt.l)
		if err != nil {
			t.Fatal(err)
		}
		if got := threads(); got != tt.during {
			t.Errorf("%s: threads during the load = %d, want %d", tt.name, got, tt.during)
		}
		restore()
		if got := threads(); got != 3 {
			t.Errorf("%s: threads after the load = %d, want 3", tt.name, got)
		}
	}
}

// TestThreadsRestoredAfterAbortedTransaction: a loader that sets the
// threads for a statement (SetThreads) cannot restore them once a failed
// statement has aborted the transaction (DuckDB then refuses all but
// ROLLBACK); the engine's restore after the ROLLBACK does, and so does
// InRollback's for verify.
func TestThreadsRestoredAfterAbortedTransaction(t *testing.T) {
	ctx := context.Background()
	db, conn, threads := threeThreads(t)
	// What a loader does inside the transaction.
	failingStatement := func(c *sql.Conn) error {
		restore, err := SetThreads(ctx, c, 1)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ExecContext(ctx, "SELECT error('the statement fails')")
		restore() // refused: the transaction is aborted
		return err
	}

	restore, err := limitThreads(ctx, conn, fakeLoader{"x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		t.Fatal(err)
	}
	if err := failingStatement(conn); err == nil {
		t.Fatal("the statement did not fail")
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	restore()
	if got := threads(); got != 3 {
		t.Errorf("threads after a load's aborted transaction = %d, want 3", got)
	}

	conn.Close() // InRollback takes the database's one connection
	if err := InRollback(ctx, db, failingStatement); err == nil {
		t.Fatal("InRollback: the statement did not fail")
	}
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&n); err != nil || n != 3 {
		t.Errorf("threads after InRollback's aborted transaction = %d (%v), want 3", n, err)
	}
}
