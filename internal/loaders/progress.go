package loaders

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"sync"
	"time"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2/mapping"
)

// pollProgress reports, every interval, how far DuckDB says the statement
// running on conn is (duckdb_query_progress), while it reports one. The
// returned stop must be called before conn is closed.
//
// duckdb-go has QueryProgress in its mapping package but no way to reach a
// database/sql connection's C handle: it is read from the driver
// connection's unexported field, checked by type, so a driver that changes
// it turns progress off instead of misbehaving (TestProgressReachesDuckDB
// fails then).
func pollProgress(ctx context.Context, conn *sql.Conn, interval time.Duration, report func(float64)) (stop func(), err error) {
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	var handle mapping.Connection
	var ok bool
	if err := conn.Raw(func(dc any) error { handle, ok = connectionHandle(dc); return nil }); err != nil {
		return nil, err
	}
	if !ok {
		return func() {}, nil
	}
	// DuckDB tracks a query's progress only with its progress bar on; it
	// must not print it.
	for _, q := range []string{"SET enable_progress_bar = true", "SET enable_progress_bar_print = false", "SET progress_bar_time = 0"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("turn on DuckDB's query progress: %w", err)
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p := mapping.QueryProgress(handle)
				pct, _, _ := mapping.QueryProgressTypeMembers(&p)
				if pct >= 0 {
					report(min(pct, 100) / 100)
				}
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }, nil
}

// connectionHandle returns the C connection of a duckdb-go driver connection.
func connectionHandle(dc any) (mapping.Connection, bool) {
	v := reflect.ValueOf(dc)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return mapping.Connection{}, false
	}
	f := v.Elem().FieldByName("conn")
	if !f.IsValid() || f.Type() != reflect.TypeFor[mapping.Connection]() {
		return mapping.Connection{}, false
	}
	return *(*mapping.Connection)(unsafe.Pointer(f.UnsafeAddr())), true
}
