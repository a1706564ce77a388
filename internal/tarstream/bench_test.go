package tarstream

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

// benchArchive builds, deterministically, a tar.gz of 4 nested step tarballs,
// each holding 8 JSONL files of 2 MiB: 64 MiB uncompressed.
func benchArchive(b *testing.B) (string, int64) {
	var outer []entry
	var total int64
	for i := range 4 {
		var inner []entry
		for j := range 8 {
			body := text(uint64(i*8+j), 2<<20)
			inner = append(inner, reg(fmt.Sprintf("step-%d/task%d-predictions.jsonl", i, j), body))
			total += int64(len(body))
		}
		outer = append(outer, reg(fmt.Sprintf("c4/4M/seed-%d/step-%d.tar.gz", i, i), string(tgz(b, inner...))))
	}
	return writeFile(b, b.TempDir(), "c4.tar.gz", tgz(b, outer...)), total
}

// BenchmarkWalk compares gzip readers on a nested tarball: "discard" reads each
// member and throws it away, "parse" checks each line as JSON, as a loader would.
func BenchmarkWalk(b *testing.B) {
	root, total := benchArchive(b)
	readers := []struct {
		name   string
		gunzip gunzipFunc
	}{
		{"pgzip", pgzipOpen},
		{"klauspost", func(r *bufio.Reader) (io.ReadCloser, error) { return kgzip.NewReader(r) }},
		{"stdlib", func(r *bufio.Reader) (io.ReadCloser, error) { return gzip.NewReader(r) }},
	}
	consumers := []struct {
		name string
		fn   func(Member, io.Reader) error
	}{
		{"discard", func(_ Member, r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }},
		{"parse", func(_ Member, r io.Reader) error {
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				if !json.Valid(sc.Bytes()) && len(bytes.TrimSpace(sc.Bytes())) > 0 {
					return fmt.Errorf("bad line %q", sc.Text())
				}
			}
			return sc.Err()
		}},
	}
	for _, c := range consumers {
		for _, g := range readers {
			b.Run(filepath.Join(c.name, g.name), func(b *testing.B) {
				b.SetBytes(total)
				for b.Loop() {
					if err := walk(context.Background(), root, Options{Nested: true}, c.fn, g.gunzip); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
