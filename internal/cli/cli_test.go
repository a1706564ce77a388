package cli

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/labtest"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/datadecide"
	"github.com/dschema/dschema/internal/loaders/loadertest"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/migrations"
)

// TestMain doubles as a helper process that holds a database open.
func TestMain(m *testing.M) {
	if path := os.Getenv("DSCHEMA_TEST_HOLD_DB"); path != "" {
		db, err := sql.Open("duckdb", path)
		if err == nil {
			err = db.Ping()
		}
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("holding")
		bufio.NewReader(os.Stdin).ReadString('\n') // until the test closes stdin
		db.Close()
		os.Exit(0)
	}
	if os.Getenv("DSCHEMA_TEST_RUN_CLI") != "" {
		// dschema itself, with the progress of a terminal on stderr, so a
		// test can tell which stage a load is in.
		isTerminal = func(io.Writer) bool { return true }
		progressAfter = 0
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	loadertest.Main(m) // removes the sample and the migrated template
}

// runCmd runs dschema in-process and returns stdout, stderr and the exit code.
func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func migratedDB(t *testing.T) string { return labtest.MigratedDB(t) }

func newest(t *testing.T) int64 {
	files, err := migrate.ReadFiles(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	return files[len(files)-1].Version
}

func TestVersionAndDocs(t *testing.T) {
	t.Parallel()
	out, _, code := runCmd(t, "version")
	if code != 0 || !strings.HasPrefix(out, "dschema ") || !strings.Contains(out, fmt.Sprintf("(schema version %d)", newest(t))) {
		t.Errorf("version = %q, %d", out, code)
	}
	out, _, code = runCmd(t, "docs")
	for _, want := range []string{
		"# dschema data dictionary",
		"### wandb_runs",
		"| `run_id` | `VARCHAR` | no |  | W&B run slug (in this lab equal to the run name). |",
		"| `created_at` | `TIMESTAMP WITH TIME ZONE` | yes |  | When the run was created (UTC). |",
		"| `mmlu_average_primary_metric` | `DOUBLE` | yes |  | Downstream evaluation: primary_metric on mmlu_average. |",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("docs lacks %q (exit %d)", want, code)
		}
	}
}

func TestCheckFindsDrift(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	conn, err := dbfile.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	conn.Exec(`ALTER TABLE wandb_runs ADD COLUMN sneaky INTEGER`)
	conn.Close()
	out, errs, code := runCmd(t, "check", "--root", "../..", "--db", db)
	if code == 0 || !strings.Contains(out, `table "wandb_runs": column "sneaky": in database but not in migrations at version`) || !strings.Contains(errs, "check found 1 problem(s)") {
		t.Errorf("check --db on a drifted database = %q %q, exit %d", out, errs, code)
	}
}

func TestNewerDatabase(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	conn, _ := dbfile.Open(context.Background(), db)
	conn.Exec(`INSERT INTO dschema_migrations (version_id, is_applied) VALUES (999, true)`)
	conn.Close()
	_, errs, code := runCmd(t, "migrate", "status", "--db", db)
	want := fmt.Sprintf("dschema: database %s is at schema version 999, newer than this dschema knows (%d): use a newer dschema\n", db, newest(t))
	if code == 0 || errs != want {
		t.Errorf("status on a newer database = %q, exit %d; want %q", errs, code, want)
	}
}

func TestLockedDatabase(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DSCHEMA_TEST_HOLD_DB="+db)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "holding\n" {
		t.Fatalf("helper said %q", line)
	}
	start := time.Now()
	_, errs, code := runCmd(t, "migrate", "status", "--db", db)
	want := fmt.Sprintf("dschema: database %s is in use by another process (PID %d); close it and try again\n", db, cmd.Process.Pid)
	if code == 0 || errs != want {
		t.Errorf("status on a locked database = %q, exit %d; want %q", errs, code, want)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the locked database took %s to report", d)
	}
	_, errs, code = runCmd(t, "load", "datadecide", "whatever.parquet", "--db", db)
	if code == 0 || errs != want {
		t.Errorf("load into a locked database = %q, exit %d; want %q", errs, code, want)
	}
	_, errs, code = runCmd(t, "compact", "--db", db)
	if code == 0 || errs != want {
		t.Errorf("compact of a locked database = %q, exit %d; want %q", errs, code, want)
	}
}

func TestErrorsAreOneLine(t *testing.T) {
	t.Parallel()
	_, errs, code := runCmd(t, "migrate", "up", "--to", "1", "--db", "/nonexistent-dir/x.duckdb")
	if code == 0 || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "dschema: open database /nonexistent-dir/x.duckdb:") {
		t.Errorf("open failure = %q, exit %d", errs, code)
	}
	_, errs, code = runCmd(t, "migrate", "status", "--db", "/nonexistent-dir/x.duckdb")
	if code == 0 || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "dschema: database /nonexistent-dir/x.duckdb does not exist") {
		t.Errorf("status of a missing database = %q, exit %d", errs, code)
	}
	_, errs, code = runCmd(t, "migrate", "bogus")
	if code == 0 && errs == "" {
		t.Errorf("unknown subcommand succeeded silently")
	}
}

func TestLoadCommands(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	sample := t.TempDir()
	full := filepath.Join(sample, "full_eval.parquet")
	ctx := context.Background()
	if _, err := fixtures.WriteFullEval(ctx, full, fixtures.SampleSpec()); err != nil {
		t.Fatal(err)
	}
	if err := fixtures.WriteAggregates(ctx, full, filepath.Join(sample, "mean_eval.parquet"), filepath.Join(sample, "std_eval.parquet"), fixtures.AggCurrent); err != nil {
		t.Fatal(err)
	}
	out, errs, code := runCmd(t, "load", "datadecide", full, "--db", db)
	if code != 0 || !strings.Contains(out, "full_eval.parquet: loaded as datadecide, layout full_eval (1,939-column layout): load 1") {
		t.Fatalf("load: %s %s", out, errs)
	}
	out, errs, code = runCmd(t, "load", "datadecide", full, "--db", db, "--json")
	if code != 0 {
		t.Fatalf("load --json: %s %s", out, errs)
	}
	var s struct {
		LoadID    int64            `json:"load_id"`
		Unchanged bool             `json:"unchanged"`
		Variant   string           `json:"variant"`
		Rows      map[string]int64 `json:"rows_written"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil || !s.Unchanged || s.LoadID != 1 {
		t.Errorf("load --json of loaded content = %s (%v)", out, err)
	}
	out, _, _ = runCmd(t, "loads", "--db", db)
	if !strings.Contains(out, "1     datadecide   current") || !strings.Contains(out, "187 -         "+full) {
		t.Errorf("loads = %q", out)
	}
	if out, errs, code := runCmd(t, "verify", "datadecide", full, "--db", db); code != 0 || !strings.Contains(out, "144 rows × 1936 columns compared: 0 differing cells") {
		t.Errorf("verify = %s %s (exit %d)", out, errs, code)
	}
	conn, _ := dbfile.Open(context.Background(), db)
	conn.Exec(`UPDATE pretrain_evals SET piqa_acc_raw = -1 WHERE params = '20M' AND data = 'C4' AND seed = 2 AND step = 2500`)
	conn.Close()
	out, errs, code = runCmd(t, "verify", "datadecide", full, "--db", db)
	if code == 0 || !strings.Contains(out, "1 differing cells") || !strings.Contains(out, "20M / C4 / seed 2 / step 2500.0: piqa_acc_raw: file ") ||
		!strings.Contains(out, "database -1.0") || !strings.Contains(errs, "differs from the database") {
		t.Errorf("verify after a change = %s %s (exit %d)", out, errs, code)
	}
	// The aggregate check now disagrees on that group's mean and std, and fails.
	out, errs, code = runCmd(t, "load", "datadecide-agg", filepath.Join(sample, "mean_eval.parquet"), "--db", db)
	if code == 0 || !strings.Contains(out, "20M / C4 / step 2500.0: piqa_acc_raw: file ") || !strings.Contains(out, "1 disagreements beyond 1e-09 relative") ||
		!strings.Contains(errs, "1 of 1 aggregate files disagree with the database") {
		t.Errorf("datadecide-agg after a change = %s %s (exit %d)", out, errs, code)
	}
	// Errors: unknown kind, missing file, old database.
	_, errs, code = runCmd(t, "load", "wandb", full, "--db", db)
	if code == 0 || !strings.Contains(errs, fmt.Sprintf(`unknown load kind "wandb" (known: %s)`, strings.Join(append(loaders.Kinds(), datadecide.AggKind), ", "))) {
		t.Errorf("unknown kind: %q", errs)
	}
	_, errs, code = runCmd(t, "load", "datadecide", "missing.parquet", "--db", db)
	if code == 0 || errs != "dschema: missing.parquet: no such file\n" {
		t.Errorf("missing file: %q", errs)
	}
	if _, errs, code := runCmd(t, "migrate", "down", "--allow-destructive", "--db", db); code != 0 {
		t.Fatal(errs)
	}
	_, errs, code = runCmd(t, "load", "datadecide", full, "--db", db)
	if code == 0 || !strings.Contains(errs, fmt.Sprintf("this dschema needs %d: run dschema migrate up --db %s", newest(t), db)) {
		t.Errorf("old database: %q", errs)
	}
}
