package loaders_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// TestInterruptReportsWhatHappened cancels a load (as Ctrl-C does) at every
// stage, and at several moments after COMMIT started: the load succeeded if
// and only if it is the current load of its source, and a failed one is
// context.Canceled and left the database as it was.
func TestInterruptReportsWhatHappened(t *testing.T) {
	t.Parallel()
	full, _, _ := loadertest.Sample(t)
	type point struct {
		name  string
		stage string        // cancel when this stage starts ("hashing": on the first hashed bytes)
		after time.Duration // ... this long after it started
		// elsewhere: the file's content is loaded first from another
		// source, so the engine hashes it before the load (a current load
		// has its size); otherwise the hash is read beside the load.
		elsewhere bool
	}
	points := []point{{"hashing", "hashing", 0, true}}
	for _, st := range []string{"reading the parquet schema", "checking keys", "writing pretrain_models and pretrain_datasets",
		"writing pretrain_runs", "writing pretrain_evals", "checking integrity", "recording the load", "committing"} {
		points = append(points, point{st, st, 0, false})
	}
	for _, d := range []time.Duration{time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond, 60 * time.Millisecond, 150 * time.Millisecond} {
		points = append(points, point{fmt.Sprintf("committing+%s", d), "committing", d, false})
	}
	var succeeded, failed []string
	for _, p := range points {
		t.Run(p.name, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			loads := "0"
			if p.elsewhere {
				v.Load(full, loaders.Options{Source: "lab/first"})
				loads = "1"
			}
			before := v.Snapshot()
			ctx, cancel := context.WithCancel(v.Ctx)
			defer cancel()
			var once sync.Once
			fire := func(stage string) {
				if stage == p.stage {
					once.Do(func() { time.AfterFunc(p.after, cancel) })
				}
			}
			_, err := v.E.Load(ctx, "datadecide", full, loaders.Options{
				Progress:     fire,
				HashProgress: func(_, _ int64) { fire("hashing") },
			})
			cur := v.Scalar(`SELECT count(*) FROM dschema_loads`)
			switch {
			case err == nil:
				succeeded = append(succeeded, p.name)
				if cur != "1" || p.elsewhere || v.Scalar(`SELECT count(load_id) FROM pretrain_evals`) != "144" {
					t.Errorf("the load reported success, but the database holds %s loads", cur)
				}
			case !errors.Is(err, context.Canceled):
				t.Errorf("interrupted load error = %v, want context.Canceled", err)
			default:
				failed = append(failed, p.name)
				if after := v.Snapshot(); after != before || cur != loads {
					t.Errorf("the load reported failure (%v) but changed the database:\n%s\nwas\n%s", err, after, before)
				}
			}
		})
	}
	// Every stage before COMMIT rolls back; once COMMIT started it finishes.
	if got := strings.Join(failed, ","); !strings.Contains(got, "hashing") || !strings.Contains(got, "recording the load") {
		t.Errorf("failed loads = %v, want every stage before commit", failed)
	}
	for _, s := range succeeded {
		if !strings.HasPrefix(s, "committing") {
			t.Errorf("the load interrupted at %q succeeded", s)
		}
	}
}
