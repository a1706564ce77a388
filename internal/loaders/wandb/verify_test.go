package wandb_test

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// TestVerifyCoversEveryTableALoadWrites: a changed cell in any table a W&B
// runs load wrote (derived finetune_runs rows included) is a difference;
// so is a derived row lost, or one of the load's rows the file does not
// derive. Every table the load reports writing must have a case here.
func TestVerifyCoversEveryTableALoadWrites(t *testing.T) {
	t.Parallel()
	runs := filepath.Join(loadertest.WandbSample(t), "runs_metadata.parquet")
	run0 := fixtures.RunName(0)
	cases := []struct {
		name, table, change string
		column              string // differing column, or "" when rows are counted
		missing             int64  // rows missing from the database
		extra               int64  // rows missing from the file
	}{
		{"run cell", "wandb_runs", "UPDATE wandb_runs SET train_loss = 9.5 WHERE run_id = '" + run0 + "'", "wandb_runs.train_loss", 0, 0},
		{"eval cell", "wandb_run_evals", "UPDATE wandb_run_evals SET value = 0.5 WHERE run_id = '" + run0 + "' AND task = 'arc_easy' AND metric = 'num_instances'", "wandb_run_evals.value", 0, 0},
		{"derived epochs", "finetune_runs", "UPDATE finetune_runs SET epochs = 99 WHERE load_id = 1 AND run_id = '" + run0 + "'", "finetune_runs.epochs", 0, 0},
		{"derived source", "finetune_runs", "UPDATE finetune_runs SET source = '{}' WHERE run_id = '" + run0 + "'", "finetune_runs.source", 0, 0},
		{"derived row lost", "finetune_runs", "DELETE FROM finetune_runs WHERE run_id = '" + run0 + "'", "", 1, 0},
		{"derived row extra", "finetune_runs", "INSERT INTO finetune_runs (run_id, origin, load_id) VALUES ('not-in-file', 'run name', 1)", "", 0, 1},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.table] = true
		t.Run(c.name, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			s := v.LoadKind("wandb-runs", runs, loaders.Options{})
			if s.LoadID != 1 {
				t.Fatalf("load id %d", s.LoadID)
			}
			if got := v.Verify("wandb-runs", runs); !got.OK() {
				t.Fatalf("verify after the load: %+v", got)
			}
			v.Exec(c.change)
			got := v.Verify("wandb-runs", runs)
			var wantDiff int64
			if c.column != "" {
				wantDiff = 1
			}
			if got.Differing != wantDiff || got.MissingRows != c.missing || got.ExtraRows != c.extra || (c.column != "" && got.ByColumn[c.column] != 1) {
				t.Errorf("verify = differing %d %v, missing %d, extra %d; want %d in %q, missing %d, extra %d",
					got.Differing, got.ByColumn, got.MissingRows, got.ExtraRows, wantDiff, c.column, c.missing, c.extra)
			}
			if c.column == "finetune_runs.epochs" && (len(got.Examples) != 1 || got.Examples[0].File != "1.0" || got.Examples[0].DB != "99.0") {
				t.Errorf("examples %+v, want file 1.0, database 99.0", got.Examples)
			}
		})
	}
	v := loadertest.NewEnv(t)
	s := v.LoadKind("wandb-runs", runs, loaders.Options{})
	var written []string
	for tb, n := range s.Rows {
		if n > 0 {
			written = append(written, tb)
			if !covered[tb] {
				t.Errorf("the load wrote %d rows to %s, which no case here changes", n, tb)
			}
		}
	}
	sort.Strings(written)
	if strings.Join(written, ",") != "finetune_runs,wandb_run_evals,wandb_runs" {
		t.Errorf("tables written: %v", written)
	}
	// A row of the file's own load is compared whatever its origin says: an
	// origin changed in place is a difference.
	v.Exec("UPDATE finetune_runs SET origin = 'pickle' WHERE run_id = ?", run0)
	if got := v.Verify("wandb-runs", runs); got.OK() || got.ByColumn["finetune_runs.origin"] != 1 {
		t.Errorf("the load's own row with another origin: %+v", got)
	}
	// A run whose finetune_runs row another load wrote from another origin
	// keeps it: named, not compared.
	v.Exec("UPDATE finetune_runs SET epochs = 7, load_id = 99 WHERE run_id = ?", run0)
	got := v.Verify("wandb-runs", runs)
	if !got.OK() || len(got.NotCompared) != 1 || !strings.Contains(got.NotCompared[0], run0+" (pickle, load 99)") {
		t.Errorf("another origin's row: %+v", got)
	}
}

// TestVerifyCountsNullAgainstValue: a NULL in the database where the file
// has a value is a difference, and so is a value where the file has NULL
// (compared with IS DISTINCT FROM, not <>, which is NULL for both).
func TestVerifyCountsNullAgainstValue(t *testing.T) {
	t.Parallel()
	dir := loadertest.WandbSample(t)
	runs, hist := filepath.Join(dir, "runs_metadata.parquet"), filepath.Join(dir, "history_v3.jsonl")
	run0, run1 := fixtures.RunName(0), fixtures.RunName(1)
	for _, c := range []struct {
		name, kind, path, change, column, file, db string
	}{
		{"runs: NULL in the database", "wandb-runs", runs, "UPDATE wandb_runs SET train_loss = NULL WHERE run_id = '" + run0 + "'", "wandb_runs.train_loss", "2.5", "NULL"},
		{"runs: NULL in the file", "wandb-runs", runs, "UPDATE wandb_runs SET learning_rate = 0.25 WHERE run_id = '" + run1 + "'", "wandb_runs.learning_rate", "NULL", "0.25"},
		{"history: NULL in the database", "wandb-history", hist, "UPDATE wandb_history SET train_loss = NULL WHERE run_id = '" + run0 + "' AND seq = 2", "wandb_history.train_loss", "", "NULL"},
		{"history: NULL in the file", "wandb-history", hist, "UPDATE wandb_history SET logps_chosen = -1.5 WHERE run_id = '" + run0 + "' AND seq = 2", "wandb_history.logps_chosen", "NULL", "-1.5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			v.LoadKind(c.kind, c.path, loaders.Options{})
			if c.kind == "wandb-history" {
				if got := v.Scalar("SELECT (train_loss IS NOT NULL) || ' ' || (logps_chosen IS NULL) FROM wandb_history WHERE run_id = ? AND seq = 2", run0); got != "true true" {
					t.Fatalf("the fixture's row: train_loss set, logps_chosen NULL? %s", got)
				}
			}
			v.Exec(c.change)
			got := v.Verify(c.kind, c.path)
			if got.Differing != 1 || got.ByColumn[c.column] != 1 || len(got.Examples) != 1 {
				t.Fatalf("verify = %d differing %v, examples %+v; want 1 in %s", got.Differing, got.ByColumn, got.Examples, c.column)
			}
			if ex := got.Examples[0]; (c.file != "" && ex.File != c.file) || ex.DB != c.db {
				t.Errorf("example: file %s, database %s; want file %s, database %s", ex.File, ex.DB, c.file, c.db)
			}
		})
	}
}

// TestVerifyHistoryInTheLoadsZone: verify reads a canonical history's
// naive times in the zone its current load used.
func TestVerifyHistoryInTheLoadsZone(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	p := filepath.Join(t.TempDir(), "runs_history.parquet")
	v.CanonicalHistory(p, "2025-08-19 05:36:01", "2025-11-02 01:30:00")
	v.LoadKind("wandb-history", p, loaders.Options{SourceTZ: "Europe/Paris"})
	if got := v.Verify("wandb-history", p); !got.OK() || got.Rows != 2 {
		t.Errorf("verify after a load in Europe/Paris: %+v", got)
	}
	v.Exec("UPDATE wandb_history SET logged_at = logged_at + INTERVAL 2 HOUR WHERE seq = 1")
	if got := v.Verify("wandb-history", p); got.Differing != 1 || got.ByColumn["wandb_history.logged_at"] != 1 {
		t.Errorf("verify after a changed time: %+v", got)
	}
}

// TestVerifyHistorySharedKeys: wandb_history's key (run_id, seq) is not a
// DuckDB constraint (key_index: false), so verify counts the database's
// rows that share a key the file has, copies or not, whichever load wrote
// them; a row of a run the file lacks is no concern of the file's.
func TestVerifyHistorySharedKeys(t *testing.T) {
	t.Parallel()
	hist := filepath.Join(loadertest.WandbSample(t), "history_v3.jsonl")
	run0 := fixtures.RunName(0)
	for _, c := range []struct {
		name, change string
		shared       int64
		example      string
	}{
		{"a copy of a row", "INSERT INTO wandb_history SELECT * FROM wandb_history WHERE run_id = '" + run0 + "' AND seq = 2", 1, run0 + " / 2 (2 rows)"},
		{"two copies, another load", "INSERT INTO wandb_history SELECT h.* REPLACE (7 AS load_id) FROM wandb_history h, range(2) WHERE run_id = '" + run0 + "' AND seq = 0", 2, run0 + " / 0 (3 rows)"},
		{"another run's key", "INSERT INTO wandb_history (run_id, seq, load_id) VALUES ('not-in-file', 0, 1), ('not-in-file', 0, 1)", 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			v.LoadKind("wandb-history", hist, loaders.Options{})
			before := v.Verify("wandb-history", hist)
			if !before.OK() || before.SharedKeys != 0 {
				t.Fatalf("verify after the load: %+v", before)
			}
			v.Exec(c.change)
			got := v.Verify("wandb-history", hist)
			if got.SharedKeys != c.shared || got.Rows != before.Rows || got.Differing != 0 || got.MissingRows != 0 {
				t.Fatalf("verify: shared %d, rows %d, differing %d, missing %d; want shared %d, rows %d: %+v",
					got.SharedKeys, got.Rows, got.Differing, got.MissingRows, c.shared, before.Rows, got)
			}
			if c.shared > 0 && (got.OK() || len(got.SharedKeyExamples) != 1 || got.SharedKeyExamples[0] != "wandb_history "+c.example) {
				t.Errorf("OK %v, examples %q; want not OK, [wandb_history %s]", got.OK(), got.SharedKeyExamples, c.example)
			}
			var b strings.Builder
			got.Report(&b)
			if strings.Contains(b.String(), "key another row has") != (c.shared > 0) {
				t.Errorf("report:\n%s", b.String())
			}
		})
	}
}
