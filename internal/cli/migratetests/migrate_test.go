// Package migratetests holds the end-to-end tests of dschema's migrate
// commands (a database created, migrated up and down version by version,
// from the cache, interrupted). They drive the CLI as a user does, through
// cli.Run; they live in a package of their own so that they and the rest
// of the CLI's tests run side by side on two cores, each well under the
// two minutes a package may take.
package migratetests

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dschema/dschema/internal/cli"
	"github.com/dschema/dschema/internal/labtest"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/migrations"
)

func TestMain(m *testing.M) {
	code := m.Run()
	labtest.Cleanup()
	os.Exit(code)
}

// runCmd runs dschema in-process and returns stdout, stderr and the exit code.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func migratedDB(t *testing.T) string { return labtest.MigratedDB(t) }

// newest is the newest migration's version.
func newest(t *testing.T) int64 {
	t.Helper()
	files, err := migrate.ReadFiles(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	return files[len(files)-1].Version
}

// TestMigrateLifecycle applies every migration one at a time, reverts them
// all, applies them again, and checks the live database against the
// replayed migrations (check --db) at each version.
func TestMigrateLifecycle(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "lab.duckdb")
	n := newest(t)
	check := func(step string) {
		t.Helper()
		out, errs, code := runCmd(t, "check", "--root", "../../..", "--db", db)
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
	// Up one version at a time. check compares the database with a replay of
	// the migrations up to its version, which is what up --to just applied:
	// it is worth running on the way down (each Down must give back the
	// version before), and once at the top.
	for v := int64(1); v <= n; v++ {
		if out, errs, code := runCmd(t, "migrate", "up", "--to", fmt.Sprint(v), "--db", db); code != 0 {
			t.Fatalf("migrate up --to %d: %s %s", v, out, errs)
		}
	}
	check(fmt.Sprintf("up to %d", n))
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

// TestMigrateUpNewDatabaseFromTheCache: a new database starts from the
// verified cached copy, records when it was made, and is what the
// migrations make; an existing file is migrated as before.
func TestMigrateUpNewDatabaseFromTheCache(t *testing.T) {
	t.Parallel()
	migratedDB(t) // the template: the cache now holds the migrated database
	start := time.Now().UTC()
	db := filepath.Join(t.TempDir(), "new.duckdb")
	out, errs, code := runCmd(t, "migrate", "up", "--db", db)
	if code != 0 || !strings.Contains(out, "applied 00001_init.sql (from the cached, verified database of this migration set)") ||
		!strings.Contains(out, fmt.Sprintf("is at version %d", newest(t))) {
		t.Fatalf("migrate up of a new database = %q %q, exit %d", out, errs, code)
	}
	out, _, _ = runCmd(t, "migrate", "status", "--db", db)
	if strings.Contains(out, "pending") || int64(strings.Count(out, " applied ")) != newest(t) {
		t.Errorf("status = %q, want every migration applied", out)
	}
	if out, errs, code := runCmd(t, "check", "--root", "../../..", "--db", db); code != 0 {
		t.Errorf("check --db = %s %s", out, errs)
	}
	// Applied now, not when the cached copy was made.
	conn, err := sql.Open("duckdb", db)
	if err != nil {
		t.Fatal(err)
	}
	var stale int
	if err := conn.QueryRow(`SELECT count(*) FROM dschema_migrations WHERE tstamp < ?::TIMESTAMP`, start.Format("2006-01-02 15:04:05.000000")).Scan(&stale); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if stale != 0 {
		t.Errorf("%d migrations recorded as applied before the command ran", stale)
	}
	if out, _, _ := runCmd(t, "migrate", "up", "--db", db); !strings.Contains(out, fmt.Sprintf("already at version %d", newest(t))) {
		t.Errorf("second up = %q", out)
	}
}

// TestOnlyMigrateUpCreatesADatabase: a mistyped --db is an error for every
// other command, and leaves no file behind; an empty --db is refused.
func TestOnlyMigrateUpCreatesADatabase(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "typo.duckdb")
	for _, args := range [][]string{
		{"loads"}, {"verify", "datadecide", "x.parquet"}, {"migrate", "status"}, {"migrate", "down"}, {"migrate", "redo"},
		{"load", "datadecide", "x.parquet"}, {"load", "datadecide-agg", "x.parquet"},
	} {
		_, errs, code := runCmd(t, append(args, "--db", missing)...)
		want := "dschema: database " + missing + " does not exist (dschema migrate up --db " + missing + " creates it)\n"
		if code == 0 || errs != want {
			t.Errorf("%v = %q, exit %d; want %q", args, errs, code, want)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Fatalf("%v created %s", args, missing)
		}
	}
	for _, args := range [][]string{{"migrate", "status"}, {"migrate", "up"}, {"loads"}, {"quickstart"}} {
		_, errs, code := runCmd(t, append(args, "--db", "")...)
		if code == 0 || errs != "dschema: no database: --db is empty (name a file, or set DSCHEMA_DB)\n" {
			t.Errorf("%v --db '' = %q, exit %d", args, errs, code)
		}
		// Refused before anything is written (quickstart once wrote its sample to ./.sample first).
		if _, err := os.Stat(".sample"); err == nil {
			os.RemoveAll(".sample")
			t.Errorf("%v --db '' wrote ./.sample", args)
		}
	}
}

// TestInterruptedMigration: Ctrl-C during a migration rolls it back and
// says so (goose itself says only "transaction has already been committed
// or rolled back").
func TestInterruptedMigration(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "lab.duckdb")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(700*time.Millisecond, cancel) // 00001 takes seconds: its comments
	var out, errb bytes.Buffer
	code := cli.Run(ctx, []string{"migrate", "up", "--to", "1", "--db", db}, &out, &errb)
	want := "dschema: migration 00001_init.sql interrupted on " + db + ": rolled back; the database keeps the migrations before it: context canceled\n"
	if code != 130 || errb.String() != want {
		t.Fatalf("interrupted migration = %q, exit %d; want %q, exit 130", errb.String(), code, want)
	}
	if out, _, _ := runCmd(t, "migrate", "status", "--db", db); strings.Contains(out, "applied ") {
		t.Errorf("status after the interrupted migration = %q, want nothing applied", out)
	}
}
