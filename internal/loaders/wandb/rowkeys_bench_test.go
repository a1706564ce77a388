package wandb

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
)

// BenchmarkLineChecks times checkRowKeys' per-line work on the bench's
// history lines: it runs beside DuckDB's insert on the same two cores,
// so its time is the load's.
func BenchmarkLineChecks(b *testing.B) {
	p := filepath.Join(b.TempDir(), "h.jsonl")
	if err := fixtures.WriteBenchHistory(p, 20000); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	s := bufio.NewScanner(f)
	for s.Scan() {
		lines = append(lines, append([]byte(nil), s.Bytes()...))
	}
	b.Run("tinyNumber", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			tinyNumber(lines[i%len(lines)])
		}
	})
	b.Run("topKeys", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			topKeys(lines[i%len(lines)], func([]byte) bool { return false })
		}
	})
}
