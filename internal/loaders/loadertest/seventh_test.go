package loadertest_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// runsCSV is a seventh loader, written from docs/development.md's steps
// and the contract in internal/loaders' package doc only: a CSV of W&B
// runs (run_id, run_name, state) into wandb_runs.
type runsCSV struct{}

const csvKind = "test-runs-csv"

// Step 3: register in init (a real loader package also adds its blank
// import to internal/loaders/all).
func init() { loaders.Register(runsCSV{}) }

// Step 2: Kind, Short and Load.
func (runsCSV) Kind() string  { return csvKind }
func (runsCSV) Short() string { return "a CSV of W&B runs: run_id, run_name, state" }

// Step 5: tell its files by content, as its Load reads them: the engine
// sniffed no known magic in a CSV; its header names the columns.
func (runsCSV) Recognize(_ context.Context, p *loaders.Probe) (string, error) {
	if p.Format == loaders.FormatUnknown && strings.HasPrefix(string(p.Head), "run_id,run_name,state\n") {
		return "runs CSV", nil
	}
	return "", nil
}

// csvStage is the load's temp table, prefixed dschema_ and dropped.
const csvStage = "dschema_runs_csv"

func (runsCSV) Load(ctx context.Context, l *loaders.Load) (*loaders.Report, error) {
	rep := &loaders.Report{Variant: "runs CSV", Rows: map[string]int64{}}
	l.Stage("reading the CSV")
	if err := stageCSV(ctx, l.Conn, l.Source.Path); err != nil {
		return nil, err
	}
	defer l.Conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+csvStage)
	l.Stage("writing wandb_runs")
	taken, err := loaders.QueryStrings(ctx, l.Conn, `SELECT s.run_id || ' (load ' || r.load_id || ')' FROM `+csvStage+` s JOIN wandb_runs r USING (run_id) ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	rep.Skip(loaders.FirstSourceKeeps("runs", "wandb_runs", taken))
	res, err := l.Conn.ExecContext(ctx, `INSERT INTO wandb_runs (run_id, run_name, state, load_id)
		SELECT run_id, run_name, state, ? FROM `+csvStage+` WHERE run_id NOT IN (SELECT run_id FROM wandb_runs)`, l.ID)
	if err != nil {
		return nil, err
	}
	rep.Rows["wandb_runs"], _ = res.RowsAffected()
	return rep, nil
}

// stageCSV reads path into csvStage, refusing a row without a run_id by
// its line.
func stageCSV(ctx context.Context, conn *sql.Conn, path string) error {
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE %s AS SELECT *, row_number() OVER () + 1 AS line
		FROM read_csv(%s, header = true, columns = {'run_id': 'VARCHAR', 'run_name': 'VARCHAR', 'state': 'VARCHAR'})`, csvStage, dbschema.Literal(path))); err != nil {
		return &loaders.FileError{Path: path, Msg: "not a runs CSV: " + loaders.FirstLine(err.Error()), Err: err}
	}
	var line sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT min(line) FROM "+csvStage+" WHERE run_id IS NULL").Scan(&line); err != nil {
		return err
	}
	if line.Valid {
		return &loaders.FileError{Path: path, Place: fmt.Sprintf("line %d", line.Int64), Msg: "no run_id"}
	}
	return nil
}

// Step 4: Verify, with the engine's verify kit.
func (runsCSV) Verify(ctx context.Context, db *sql.DB, path string, opts loaders.VerifyOptions) (loaders.Verdict, error) {
	abs, v, err := loaders.StartVerify(csvKind, path, &opts)
	if err != nil {
		return nil, err
	}
	err = loaders.InRollback(ctx, db, func(conn *sql.Conn) error {
		loadID, err := loaders.CurrentLoadOfPath(ctx, conn, csvKind, abs)
		if err != nil {
			return err
		}
		if err := stageCSV(ctx, conn, abs); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+csvStage)
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+csvStage).Scan(&v.Rows); err != nil {
			return err
		}
		v.Columns = 2
		return loaders.CompareRelation(ctx, conn, v, loaders.Relation{Name: "wandb_runs", Expected: csvStage, Keys: []string{"run_id"},
			Cols: []string{"run_name", "state"}}, loadID, opts.MaxExamples)
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// TestSeventhLoader: step 6, the conformance kit, and the loader's own
// value tests.
func TestSeventhLoader(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "runs.csv")
	loadertest.WriteFile(t, good, "run_id,run_name,state\nr1,first run,finished\nr2,\"second, with a comma\",crashed\n")
	loadertest.Conformance(t, csvKind, good)

	v := loadertest.NewEnv(t)
	s := v.LoadKind(csvKind, good, loaders.Options{})
	if got := v.Scalar("SELECT string_agg(run_id || '=' || run_name || '/' || state, ';' ORDER BY run_id) FROM wandb_runs"); got != "r1=first run/finished;r2=second, with a comma/crashed" || s.Rows["wandb_runs"] != 2 {
		t.Errorf("wandb_runs = %s (%d rows written)", got, s.Rows["wandb_runs"])
	}
	bad := filepath.Join(dir, "bad.csv")
	loadertest.WriteFile(t, bad, "run_id,run_name,state\nr3,x,finished\n,y,crashed\n")
	loadertest.NewEnv(t).LoadFails(csvKind, bad, loaders.Options{}, "line 3", "no run_id")

	other := filepath.Join(dir, "other.csv")
	loadertest.WriteFile(t, other, "run_id,run_name,state\nr1,renamed,finished\nr4,fourth,finished\n")
	s = v.LoadKind(csvKind, other, loaders.Options{})
	if s.Rows["wandb_runs"] != 1 || len(s.Skipped) != 1 || !strings.Contains(s.Skipped[0].What, "r1 (load 1)") {
		t.Errorf("a second source: %d rows, skipped %+v; want r4 written and r1 kept by load 1", s.Rows["wandb_runs"], s.Skipped)
	}
}
