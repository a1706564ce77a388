//go:build unix

package tarstream

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// walkWithin runs Walk in a goroutine and fails the test if it has not
// returned after 5 s; unblock, when set, is then called to let the stuck
// walk end before the test does.
func walkWithin(t *testing.T, root string, opts Options, unblock func(), fn func(Member, io.Reader) error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- Walk(context.Background(), root, opts, fn) }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		if unblock != nil {
			unblock()
		}
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		t.Fatalf("Walk(%q) still running after 5 s", root)
		return nil
	}
}

// TestFIFORefusedPromptly: a FIFO, in a folder or as the root, is refused
// before it is opened (opening a FIFO blocks until a writer comes).
func TestFIFORefusedPromptly(t *testing.T) {
	cases := []struct {
		name     string
		fifo     string // FIFO to make under the temp dir
		root     string // root to walk, under the temp dir ("" for the dir)
		member   string // wanted Error.Member
		wantErr  error
		wantSeen []string
	}{
		{name: "in a folder", fifo: "b-fifo", member: "b-fifo", wantErr: ErrUnsafe, wantSeen: []string{"a.txt"}},
		{name: "in a subfolder", fifo: "sub/p", member: "sub/p", wantErr: ErrUnsafe, wantSeen: []string{"a.txt"}},
		{name: "as the root", fifo: "p", root: "p", member: "", wantErr: fs.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "a.txt", []byte("a"))
			writeFile(t, dir, "z.txt", []byte("z"))
			fifo := filepath.Join(dir, filepath.FromSlash(c.fifo))
			if err := os.MkdirAll(filepath.Dir(fifo), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(fifo, 0o644); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			// Opening the FIFO read-write never blocks, and lets a reader
			// stuck in open go on.
			unblock := func() {
				if f, err := os.OpenFile(fifo, os.O_RDWR, 0); err == nil {
					f.Close()
				}
			}
			root := dir
			if c.root != "" {
				root = filepath.Join(dir, c.root)
			}
			var seenPaths []string
			err := walkWithin(t, root, Options{}, unblock, func(m Member, r io.Reader) error {
				seenPaths = append(seenPaths, m.Path)
				return nil
			})
			e := mustError(t, err)
			if !errors.Is(err, c.wantErr) || e.Member != c.member || e.Path != root {
				t.Errorf("Walk = %v (member %q, path %q), want %v on member %q", err, e.Member, e.Path, c.wantErr, c.member)
			}
			if c.member != "" && !strings.Contains(err.Error(), c.member) {
				t.Errorf("error %q does not name %q", err, c.member)
			}
			if !slices.Equal(seenPaths, c.wantSeen) {
				t.Errorf("fn saw %q, want %q", seenPaths, c.wantSeen)
			}
		})
	}
}
