package loaders

import (
	"context"
	"testing"

	"github.com/dschema/dschema/internal/dbfile"
)

// threadLoader is a loader that declares the DuckDB threads of its loads.
type threadLoader struct {
	fakeLoader
	n int
}

func (t threadLoader) LoadThreads() int { return t.n }

// TestLimitThreads: a ThreadLimiter's loads run on the threads it
// declares, and the setting is restored after; a loader that declares
// none, or 0, leaves the setting alone.
func TestLimitThreads(t *testing.T) {
	ctx := context.Background()
	db, err := dbfile.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET threads = 3"); err != nil {
		t.Fatal(err)
	}
	threads := func() int64 {
		var n int64
		if err := conn.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
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
