package loaders_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/labtest"
	"github.com/dschema/dschema/internal/loaders"
)

// TestListLoads: a new database lists no loads (an empty list, not nil); a
// changed file under the same source is a second load that replaces the
// first, and each record says so, with its rows over every table.
func TestListLoads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := labtest.MigratedDB(t)
	db, err := dbfile.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	list, err := loaders.ListLoads(ctx, db)
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("ListLoads(new database) = %#v, %v; want an empty list", list, err)
	}

	e := &loaders.Engine{DB: db, DBPath: path}
	const line = `{"run_id": "r", "run_name": "r", "state": %q, "project": "p", "entity": "e", "created_at": "2025-08-19T05:36:01Z", "config": {}, "summary": {}, "wandb_metadata": {}, "system_metrics": {}, "system_attrs": {}, "sweep_info": {}}` + "\n"
	var sums []*loaders.Summary
	for i, state := range []string{"running", "finished"} {
		file := filepath.Join(t.TempDir(), "runs.jsonl")
		if err := os.WriteFile(file, []byte(fmt.Sprintf(line, state)), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := e.Load(ctx, "wandb-runs", file, loaders.Options{Source: "lab/runs"})
		if err != nil {
			t.Fatalf("load %d: %v", i+1, err)
		}
		sums = append(sums, s)
	}
	list, err = loaders.ListLoads(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("ListLoads = %d loads, want 2: %#v", len(list), list)
	}
	for i, want := range []struct {
		state    string
		replaces int64 // 0: none
	}{{"replaced", 0}, {"current", sums[0].LoadID}} {
		r, s := list[i], sums[i]
		var rows int64
		for _, n := range s.Rows {
			rows += n
		}
		if r.LoadID != s.LoadID || r.Kind != "wandb-runs" || r.Variant != s.Variant || r.Source != "lab/runs" || r.SHA256 != s.SHA256 || r.Rows != rows || r.State != want.state {
			t.Errorf("ListLoads()[%d] = %+v, want load %d of %s, %s, %d rows, sha256 %s, state %s", i, r, s.LoadID, s.Kind, s.Variant, rows, s.SHA256, want.state)
		}
		if got := r.Replaces; want.replaces == 0 && got != nil || want.replaces != 0 && (got == nil || *got != want.replaces) {
			t.Errorf("ListLoads()[%d].Replaces = %v, want load %d (0: none)", i, got, want.replaces)
		}
		if len(r.Started) != len("2006-01-02 15:04:05") {
			t.Errorf("ListLoads()[%d].Started = %q, want a UTC time as 2006-01-02 15:04:05", i, r.Started)
		}
	}
}
