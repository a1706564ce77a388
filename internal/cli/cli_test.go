package cli

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dschema/dschema/internal/dbfile"
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
	code := m.Run()
	if templatePath != "" {
		os.RemoveAll(filepath.Dir(templatePath))
	}
	os.Exit(code)
}

// runCmd runs dschema in-process and returns stdout, stderr and the exit code.
func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

var (
	templateOnce sync.Once
	templatePath string
	templateErr  error
)

// migratedDB returns a new database file at the newest version, copied from
// one migrated once per test process (the 1,900-column pretraining table
// takes seconds to create with its column comments).
func migratedDB(t *testing.T) string {
	t.Helper()
	templateOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dschema-template")
		if err != nil {
			templateErr = err
			return
		}
		templatePath = filepath.Join(dir, "template.duckdb")
		var out, errb bytes.Buffer
		if Run(context.Background(), []string{"migrate", "up", "--db", templatePath}, &out, &errb) != 0 {
			templateErr = fmt.Errorf("migrate template: %s", errb.String())
		}
	})
	if templateErr != nil {
		t.Fatal(templateErr)
	}
	b, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "lab.duckdb")
	if err := os.WriteFile(db, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return db
}

func newest(t *testing.T) int64 {
	files, err := migrate.ReadFiles(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	return files[len(files)-1].Version
}

func TestVersionAndDocs(t *testing.T) {
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

// TestMigrateLifecycle applies every migration one at a time, reverts them
// all, applies them again, and checks the live database against the
// replayed migrations (check --db) at each version.
func TestMigrateLifecycle(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lab.duckdb")
	n := newest(t)
	check := func(step string) {
		t.Helper()
		out, errs, code := runCmd(t, "check", "--root", "../..", "--db", db)
		if code != 0 || !strings.Contains(out, "matches the migrations at its version") {
			t.Fatalf("%s: check --db = %q %q, exit %d", step, out, errs, code)
		}
	}
	out, _, code := runCmd(t, "migrate", "up", "--dry-run", "--db", db)
	if code != 0 || !strings.Contains(out, "-- 00001_init.sql") || !strings.Contains(out, `CREATE TABLE "wandb_runs"`) || strings.Contains(out, "+goose Down") {
		t.Fatalf("up --dry-run = %.300q, exit %d", out, code)
	}
	out, _, _ = runCmd(t, "migrate", "status", "--db", db)
	if !strings.Contains(out, "pending") || strings.Contains(out, "applied ") {
		t.Errorf("status after --dry-run = %q, want every migration pending", out)
	}
	check("new database")
	for v := int64(1); v <= n; v++ {
		if out, errs, code := runCmd(t, "migrate", "up", "--to", fmt.Sprint(v), "--db", db); code != 0 {
			t.Fatalf("migrate up --to %d: %s %s", v, out, errs)
		}
		check(fmt.Sprintf("up to %d", v))
	}
	out, _, _ = runCmd(t, "migrate", "status", "--db", db)
	if strings.Contains(out, "pending") || !strings.Contains(out, "applied") {
		t.Errorf("status after up = %q", out)
	}
	for v := n - 1; v >= 0; v-- {
		if out, errs, code := runCmd(t, "migrate", "down", "--db", db); code != 0 {
			t.Fatalf("migrate down to %d: %s %s", v, out, errs)
		}
		check(fmt.Sprintf("down to %d", v))
	}
	if out, errs, code := runCmd(t, "migrate", "up", "--db", db); code != 0 || !strings.Contains(out, fmt.Sprintf("is at version %d", n)) {
		t.Fatalf("migrate up again: %s %s", out, errs)
	}
	check("up again")
	if out, errs, code := runCmd(t, "migrate", "redo", "--db", db); code != 0 || !strings.Contains(out, "reverted ") || !strings.Contains(out, "applied ") {
		t.Fatalf("migrate redo: %s %s", out, errs)
	}
	check("redo")
	if out, errs, code := runCmd(t, "migrate", "validate", "--db", db); code != 0 || !strings.Contains(out, "its applied migrations match their files") {
		t.Errorf("validate = %s %s", out, errs)
	}
	if out, _, _ := runCmd(t, "migrate", "up", "--db", db); !strings.Contains(out, "already at version") {
		t.Errorf("second up = %q, want already at version", out)
	}
}

func TestCheckFindsDrift(t *testing.T) {
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
}

func TestQuickstart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lab.duckdb")
	out, errs, code := runCmd(t, "quickstart", "--db", db)
	if code != 0 {
		t.Fatalf("quickstart: %s %s", out, errs)
	}
	for _, want := range []string{"is at schema version", "pretrain_evals", "wandb_runs"} {
		if !strings.Contains(out, want) {
			t.Errorf("quickstart output lacks %q:\n%s", want, out)
		}
	}
	// Its tables are exactly the documented schema (check --db compares them).
	if out, errs, code := runCmd(t, "check", "--root", "../..", "--db", db); code != 0 {
		t.Errorf("check --db after quickstart: %s %s", out, errs)
	}
}

func TestErrorsAreOneLine(t *testing.T) {
	_, errs, code := runCmd(t, "migrate", "status", "--db", "/nonexistent-dir/x.duckdb")
	if code == 0 || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "dschema: open database /nonexistent-dir/x.duckdb:") {
		t.Errorf("open failure = %q, exit %d", errs, code)
	}
	_, errs, code = runCmd(t, "migrate", "bogus")
	if code == 0 && errs == "" {
		t.Errorf("unknown subcommand succeeded silently")
	}
}
