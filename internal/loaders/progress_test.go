package loaders_test

import (
	"sync"
	"testing"
	"time"

	"github.com/dschema/dschema/internal/loaders"
)

// TestProgressReachesDuckDB: during a load, DuckDB's own query progress is
// reported per stage, as fractions from 0 to 1.
func TestProgressReachesDuckDB(t *testing.T) {
	full, _, _ := sample(t)
	v := newEnv(t)
	var mu sync.Mutex
	got := map[string][]float64{}
	var stages []string
	_, err := v.e.Load(v.ctx, "datadecide", full, loaders.Options{
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
