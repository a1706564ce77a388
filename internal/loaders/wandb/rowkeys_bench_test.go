package wandb

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
)

// BenchmarkLineChecks times the per-line work on the bench's history
// lines: checkRowKeys' (the SQL path's scan beside DuckDB's insert) and
// the Go reader's parse of a line (historyRow), which run on the same two
// cores as DuckDB, so their time is the load's.
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
	b.Run("historyRow", func(b *testing.B) {
		metrics, err := historyMetrics()
		if err != nil {
			b.Fatal(err)
		}
		r := newHistoryReader(metrics)
		var row histRow
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := r.row(i+1, lines[i%len(lines)], &row); err != nil {
				b.Fatal(err)
			}
		}
	})
}
