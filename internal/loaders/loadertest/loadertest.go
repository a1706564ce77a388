// Package loadertest holds what the loader packages' tests share: a migrated
// database per test with an engine on it (Env; LoadedSampleEnv: one holding
// the sample, loaded once per process), the sample fixtures written
// once per test process, and small file helpers.
package loadertest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/labtest"
	"github.com/dschema/dschema/internal/loaders"
	_ "github.com/dschema/dschema/internal/loaders/all" // every kind, for loads by kind
)

var (
	sampleOnce sync.Once
	sampleDir  string
)

// Sample writes the sample fixtures once per test process.
func Sample(t *testing.T) (full, mean, std string) {
	t.Helper()
	sampleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dschema-sample")
		if err != nil {
			t.Fatal(err)
		}
		sampleDir = dir
		ctx := context.Background()
		if _, err := fixtures.WriteFullEval(ctx, filepath.Join(dir, "full_eval.parquet"), fixtures.SampleSpec()); err != nil {
			t.Fatal(err)
		}
		if err := fixtures.WriteAggregates(ctx, filepath.Join(dir, "full_eval.parquet"), filepath.Join(dir, "mean_eval.parquet"), filepath.Join(dir, "std_eval.parquet"), fixtures.AggCurrent); err != nil {
			t.Fatal(err)
		}
	})
	return filepath.Join(sampleDir, "full_eval.parquet"), filepath.Join(sampleDir, "mean_eval.parquet"), filepath.Join(sampleDir, "std_eval.parquet")
}

// Main runs a loader package's tests, then removes what the fixtures
// written once per process (Sample, WandbSample) and the migrated template
// (labtest) left in the temporary folder. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	for _, d := range []string{sampleDir, wandbDir} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	labtest.Cleanup()
	os.Exit(code)
}

// Env is a migrated database of its own for one test, with an engine on it.
type Env struct {
	T    *testing.T
	Ctx  context.Context
	DB   *sql.DB
	Path string
	E    *loaders.Engine
}

func NewEnv(t *testing.T) *Env {
	t.Helper()
	return envOn(t, labtest.MigratedDB(t))
}

// envOn is an Env on the database file at path, closed when t ends.
func envOn(t *testing.T, path string) *Env {
	t.Helper()
	ctx := context.Background()
	db, err := dbfile.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &Env{T: t, Ctx: ctx, DB: db, Path: path, E: &loaders.Engine{DB: db, DBPath: path}}
}

var (
	loadedOnce sync.Once
	loadedDB   string // a database holding the sample's full_eval.parquet, loaded
	loadedErr  error
)

// LoadedSampleEnv is an Env on a copy of a database that holds the
// sample's full_eval.parquet, loaded once per test process (the load
// takes seconds, a copy milliseconds): for tests that only read what that
// load wrote, or check files against it.
func LoadedSampleEnv(t *testing.T) *Env {
	t.Helper()
	full, _, _ := Sample(t)
	loadedOnce.Do(func() {
		loadedDB = filepath.Join(sampleDir, "loaded.duckdb") // removed by Main with the fixtures
		CopyFile(t, labtest.MigratedDB(t), loadedDB)
		ctx := context.Background()
		db, err := dbfile.Open(ctx, loadedDB)
		if err != nil {
			loadedErr = err
			return
		}
		_, loadedErr = (&loaders.Engine{DB: db, DBPath: loadedDB}).Load(ctx, "datadecide", full, loaders.Options{})
		if err := db.Close(); loadedErr == nil {
			loadedErr = err
		}
	})
	if loadedErr != nil {
		t.Fatalf("load the sample once: %v", loadedErr)
	}
	path := filepath.Join(t.TempDir(), "lab.duckdb")
	CopyFile(t, loadedDB, path)
	return envOn(t, path)
}

func (v *Env) Load(path string, opts loaders.Options) *loaders.Summary {
	v.T.Helper()
	return v.LoadKind("datadecide", path, opts)
}

func (v *Env) Scalar(q string, args ...any) string {
	v.T.Helper()
	var s sql.NullString
	if err := v.DB.QueryRowContext(v.Ctx, q, args...).Scan(&s); err != nil {
		v.T.Fatalf("%s: %v", q, err)
	}
	if !s.Valid {
		return "NULL"
	}
	return s.String
}

// snapshot summarises every table's content, to prove a failed load changed nothing.
func (v *Env) Snapshot() string {
	v.T.Helper()
	var b strings.Builder
	for _, tbl := range []string{"dschema_loads", "pretrain_models", "pretrain_datasets", "pretrain_runs", "pretrain_evals"} {
		fmt.Fprintf(&b, "%s=%s;", tbl, v.Scalar(fmt.Sprintf("SELECT count(*) || ':' || coalesce(sum(hash(t)), 0) FROM %s t", tbl)))
	}
	return b.String()
}

func (v *Env) Exec(q string, args ...any) {
	v.T.Helper()
	if _, err := v.DB.ExecContext(v.Ctx, q, args...); err != nil {
		v.T.Fatalf("%s: %v", q, err)
	}
}

func (v *Env) Columns(q string) []string {
	v.T.Helper()
	rows, err := v.DB.QueryContext(v.Ctx, q+" LIMIT 0")
	if err != nil {
		v.T.Fatal(err)
	}
	defer rows.Close()
	types, _ := rows.ColumnTypes()
	var out []string
	for _, c := range types {
		out = append(out, c.Name()+" "+c.DatabaseTypeName())
	}
	return out
}

func FirstDiff(a, b []string) string {
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			other := "(none)"
			if i < len(b) {
				other = b[i]
			}
			return fmt.Sprintf("at %d: file %s, view %s", i, a[i], other)
		}
	}
	return ""
}

// Derive writes a parquet file made by a query over the sample (as src, with file_row_number).
func Derive(t *testing.T, sample, name, query string) string {
	t.Helper()
	db, err := dbfile.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := filepath.Join(t.TempDir(), name)
	src := fmt.Sprintf("(SELECT * FROM read_parquet('%s', file_row_number = true) ORDER BY file_row_number)", sample)
	q := fmt.Sprintf("COPY (SELECT * EXCLUDE (file_row_number) FROM (%s)) TO '%s' (FORMAT parquet)", strings.ReplaceAll(query, "src", src), out)
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("derive %s: %v", name, err)
	}
	return out
}

// CopyFile copies src to dst.
func CopyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	WriteFile(t, dst, string(b))
}

func WriteFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// WandbSample writes every W&B fixture layout once per test process.
func WandbSample(t *testing.T) string {
	t.Helper()
	wandbOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dschema-wandb")
		if err != nil {
			wandbErr = err
			return
		}
		wandbDir = dir
		ctx := context.Background()
		spec := fixtures.SampleWandb()
		runs := fixtures.WandbRuns(spec)
		for _, l := range fixtures.RunsLayouts {
			if err := fixtures.WriteRuns(ctx, filepath.Join(dir, l[1]), l[0], runs, false); err != nil {
				wandbErr = err
				return
			}
		}
		if err := os.Mkdir(filepath.Join(dir, "split"), 0o755); err != nil {
			wandbErr = err
			return
		}
		if err := fixtures.WriteRuns(ctx, filepath.Join(dir, "split", "runs_metadata.parquet"), fixtures.RunsCanonical, runs, true); err != nil {
			wandbErr = err
			return
		}
		hist := fixtures.WandbHistory(spec, runs)
		for _, l := range fixtures.HistoryLayouts {
			if err := fixtures.WriteHistory(ctx, filepath.Join(dir, l[1]), l[0], hist); err != nil {
				wandbErr = err
				return
			}
		}
	})
	if wandbErr != nil {
		t.Fatal(wandbErr)
	}
	return wandbDir
}

// LoadKind loads path as kind, and checks that every key DuckDB does not
// hold (key_index: false) is still unique: the loads must keep it.
func (v *Env) LoadKind(kind, path string, opts loaders.Options) *loaders.Summary {
	v.T.Helper()
	s, err := v.E.Load(v.Ctx, kind, path, opts)
	if err != nil {
		v.T.Fatal(err)
	}
	v.KeysUnique()
	return s
}

// KeysUnique fails the test when rows of a table whose key DuckDB does not
// hold (key_index: false) share a key, naming a few.
func (v *Env) KeysUnique() {
	v.T.Helper()
	keys, err := dbschema.KeysNotIndexed(v.Ctx, v.DB)
	if err != nil {
		v.T.Fatal(err)
	}
	for table, key := range keys {
		var n int64
		var examples string
		if err := v.DB.QueryRowContext(v.Ctx, dbschema.SharedKeys(table, key)).Scan(&n, &examples); err != nil {
			v.T.Fatal(err)
		}
		if n > 0 {
			v.T.Errorf("%s: rows share a key (%s): %s", table, strings.Join(key, ", "), examples)
		}
	}
}

func KeptText(s *loaders.Summary) string {
	b, _ := json.Marshal(s.Kept)
	return string(b)
}

var (
	wandbOnce sync.Once
	wandbDir  string
	wandbErr  error
)

func (v *Env) Verify(kind, path string) *loaders.Verification {
	v.T.Helper()
	vf, err := loaders.LookupVerifier(kind)
	if err != nil {
		v.T.Fatal(err)
	}
	got, err := vf.Verify(v.Ctx, v.DB, path, loaders.VerifyOptions{MaxExamples: 10})
	if err != nil {
		v.T.Fatal(err)
	}
	return got.(*loaders.Verification)
}

// loadFails loads path and wants a FileError with place and a message
// containing msg, and nothing written.
func (v *Env) LoadFails(kind, path string, opts loaders.Options, place, msg string) {
	v.T.Helper()
	_, err := v.E.Load(v.Ctx, kind, path, opts)
	var fe *loaders.FileError
	if !errors.As(err, &fe) {
		v.T.Fatalf("Load(%s) = %v, want a FileError", filepath.Base(path), err)
	}
	if fe.Path != path || fe.Place != place || !strings.Contains(fe.Msg, msg) {
		v.T.Errorf("Load(%s) = place %q, %q; want place %q, …%s…", filepath.Base(path), fe.Place, fe.Msg, place, msg)
	}
	for _, tb := range []string{"wandb_runs", "wandb_run_evals", "wandb_history", "finetune_runs", "dschema_loads"} {
		if n := v.Scalar("SELECT count(*) FROM " + tb); n != "0" {
			v.T.Errorf("%s has %s rows after a refused load", tb, n)
		}
	}
}

// canonicalHistory writes a canonical runs_history.parquet whose naive
// timestamps are the given local times.
func (v *Env) CanonicalHistory(path string, times ...string) {
	v.T.Helper()
	var rows []string
	for i, ts := range times {
		rows = append(rows, fmt.Sprintf("(%d, 'r', %d, TIMESTAMP '%s', %d, %d.5)", i+1, i, ts, i, i))
	}
	v.Exec(fmt.Sprintf(`COPY (SELECT * FROM (VALUES %s) t(id, run_id, step, "timestamp", runtime, train_loss)) TO '%s' (FORMAT parquet)`, strings.Join(rows, ", "), path))
}

// ReportText is a summary's notes, kept and skipped entries as plain text.
func ReportText(s *loaders.Summary) string {
	var b strings.Builder
	for _, n := range s.Notes {
		b.WriteString(n + "\n")
	}
	for _, k := range append(append([]loaders.Skip{}, s.Kept...), s.Skipped...) {
		b.WriteString(k.What + " | " + k.Reason + "\n")
	}
	return b.String()
}

// ModernizedPickle is the sample's modernized run-data pickle (CPython and
// pandas wrote it), as a path from a loader package's directory.
const ModernizedPickle = "../../fixtures/pickles/20250920_101500_modernized_run_data.pkl"
