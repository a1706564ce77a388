package loaders

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/labtest"
)

// TestHashBeside: a hash read beside the load is the file's sha256 (of
// more than one read buffer) and the bytes read, a file that cannot be
// read is an error naming it that stops the load (fail), and a cancelled
// hash ends its goroutine with the context's error, stopping nothing.
func TestHashBeside(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f.bin")
	data := make([]byte, 9<<20+3) // three read buffers, the last short
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	failed := 0
	fail := func() { failed++ }
	b := hashBeside(context.Background(), p, 1, false, fail) // the size found before is not the size hashed
	sum, n, err := b.wait()
	b.stop()
	if want := fmt.Sprintf("%x", sha256.Sum256(data)); err != nil || sum != want || n != int64(len(data)) || failed != 0 || b.failed() != nil {
		t.Errorf("hash beside = %s, %d bytes, %v (failed %d); want %s, %d bytes", sum, n, err, failed, want, len(data))
	}

	missing := filepath.Join(dir, "gone.bin")
	b = hashBeside(context.Background(), missing, 1, false, fail)
	if _, _, err := b.wait(); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) || failed != 1 || b.failed() != err {
		t.Errorf("hash beside of a missing file: %v, failed %d times, failed() = %v", err, failed, b.failed())
	}
	b.stop()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b = hashBeside(ctx, p, int64(len(data)), false, fail)
	b.stop()
	if b.err == nil || !errors.Is(b.err, context.Canceled) || failed != 1 || b.failed() != nil {
		t.Errorf("a cancelled hash beside: %q, %v, failed %d times, failed() = %v; want context.Canceled, not a failure", b.sum, b.err, failed, b.failed())
	}
	var none *besideHash
	if none.failed() != nil {
		t.Errorf("a nil hash failed")
	}
}

// waitLoader loads folders and returns only when its context ends.
type waitLoader struct{ fakeLoader }

func (waitLoader) LoadsDirs() bool { return true }
func (waitLoader) Load(ctx context.Context, _ *Load) (*Report, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestHashBesideFailureStopsTheLoad: when the hash read beside a load
// fails (a folder holding a symlink, which the walk that hashes refuses),
// the load stops at once with the hash's error, not an interrupt's, and
// writes nothing.
func TestHashBesideFailureStopsTheLoad(t *testing.T) {
	defer func(r map[string]Loader) { registry = r }(registry)
	registry = map[string]Loader{"wait": waitLoader{fakeLoader{"wait"}}}
	ctx := context.Background()
	path := labtest.MigratedDB(t)
	db, err := dbfile.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(dir, "b.txt")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := (&Engine{DB: db, DBPath: path}).Load(ctx, "wait", dir, Options{})
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the load did not stop when its hash failed")
	}
	var fe *FileError
	if !errors.As(err, &fe) || errors.Is(err, ErrInterrupted) || errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "b.txt") {
		t.Errorf("load = %v; want the hash's error naming b.txt", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM dschema_loads").Scan(&n); err != nil || n != 0 {
		t.Errorf("dschema_loads: %d rows, %v", n, err)
	}
}
