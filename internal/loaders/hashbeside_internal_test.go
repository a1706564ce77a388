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
)

// TestHashBeside: a hash read beside the load is the file's sha256 (of
// more than one read buffer), a file that cannot be read is an error
// naming it, and a cancelled hash ends its goroutine with the context's
// error.
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
	l := &Load{}
	b := hashBeside(context.Background(), p, int64(len(data)), false)
	sum, err := b.wait(l)
	b.stop()
	if want := fmt.Sprintf("%x", sha256.Sum256(data)); err != nil || sum != want {
		t.Errorf("hash beside = %s, %v; want %s", sum, err, want)
	}

	missing := filepath.Join(dir, "gone.bin")
	b = hashBeside(context.Background(), missing, 1, false)
	if _, err := b.wait(l); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("hash beside of a missing file: %v", err)
	}
	b.stop()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b = hashBeside(ctx, p, int64(len(data)), false)
	b.stop()
	if b.err == nil || !errors.Is(b.err, context.Canceled) {
		t.Errorf("a cancelled hash beside: %q, %v; want context.Canceled", b.sum, b.err)
	}
}
