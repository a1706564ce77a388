package loaders_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// TestProgressReachesDuckDB: during a load, DuckDB's own query progress is
// reported per stage, as fractions from 0 to 1.
func TestProgressReachesDuckDB(t *testing.T) {
	t.Parallel()
	full, _, _ := loadertest.Sample(t)
	v := loadertest.NewEnv(t)
	var mu sync.Mutex
	got := map[string][]float64{}
	var stages []string
	_, err := v.E.Load(v.Ctx, "datadecide", full, loaders.Options{
		PollEvery: time.Millisecond,
		Progress:  func(s string) { mu.Lock(); stages = append(stages, s); mu.Unlock() },
		Fraction:  func(s string, f float64) { mu.Lock(); got[s] = append(got[s], f); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 {
		t.Fatalf("no progress reported (stages %v)", stages)
	}
	for s, fs := range got {
		known := false
		for _, st := range stages {
			known = known || st == s
		}
		if !known {
			t.Errorf("progress reported for %q, which is not a stage of the load", s)
		}
		for _, f := range fs {
			if f < 0 || f > 1 {
				t.Errorf("%s: fraction %v outside [0, 1]", s, f)
			}
		}
	}
	if len(got["writing pretrain_evals"]) == 0 {
		t.Errorf("no progress during the insert into pretrain_evals: %v", got)
	}
}

// TestMemoryLimit: a load runs under the memory limit it is given, and one
// too small for it fails saying so, changing nothing.
func TestMemoryLimit(t *testing.T) {
	t.Parallel()
	full, _, _ := loadertest.Sample(t)
	v := loadertest.NewEnv(t)
	before := v.Snapshot()
	_, err := v.E.Load(v.Ctx, "datadecide", full, loaders.Options{MemoryLimit: "banana"})
	if err == nil || !strings.Contains(err.Error(), `--memory-limit "banana"`) {
		t.Errorf("an unreadable limit = %v", err)
	}
	_, err = v.E.Load(v.Ctx, "datadecide", full, loaders.Options{MemoryLimit: "2MB"})
	if err == nil || !strings.Contains(err.Error(), "under --memory-limit 2MB: raise it, or leave it out") {
		t.Errorf("a load under 2MB = %v", err)
	}
	if after := v.Snapshot(); after != before {
		t.Errorf("a refused load changed the database")
	}
	var limit string
	s, err := v.E.Load(v.Ctx, "datadecide", full, loaders.Options{MemoryLimit: "512MB", FailAt: func(point string, l *loaders.Load) error {
		if point == "written" {
			return l.Conn.QueryRowContext(v.Ctx, "SELECT current_setting('memory_limit')").Scan(&limit)
		}
		return nil
	}})
	if err != nil || s.Rows["pretrain_evals"] != 144 || limit != "488.2 MiB" {
		t.Errorf("a load under 512MB = %v (memory_limit %q), want 144 rows under 488.2 MiB", err, limit)
	}
}
