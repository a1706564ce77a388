package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/datadecide"
	"github.com/dschema/dschema/internal/loaders/loadertest"
	"github.com/dschema/dschema/internal/migrate"
)

// sampleFiles copies the sample full_eval and its mean/std (written once
// per test process by loadertest.Sample) into a temp dir of the test's own
// (a test may add files beside them).
func sampleFiles(t *testing.T) (full, mean, std string) {
	t.Helper()
	dir := t.TempDir()
	src := [3]string{}
	src[0], src[1], src[2] = loadertest.Sample(t)
	var out [3]string
	for i, p := range src {
		out[i] = filepath.Join(dir, filepath.Base(p))
		loadertest.CopyFile(t, p, out[i])
	}
	return out[0], out[1], out[2]
}

// dbState is what a refused command must leave alone: the version and the
// rows of the provenance and evals tables.
func dbState(t *testing.T, db string) string {
	t.Helper()
	out, errs, code := runCmd(t, "migrate", "status", "--db", db)
	if code != 0 {
		t.Fatalf("status: %s", errs)
	}
	conn, err := dbfile.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var counts string
	if err := conn.QueryRow(`SELECT (SELECT count(*) FROM dschema_loads) || ' loads, ' || (SELECT count(load_id) FROM pretrain_evals) || ' evals with a load_id'`).Scan(&counts); err != nil {
		return out + "\n(no tables)"
	}
	return out + "\n" + counts
}

// TestDownRefusesToDropData: migrate down and redo refuse a step that drops
// tables or columns holding data (provenance included), name what would be
// lost and the flag; --dry-run shows the same; a step that drops only empty
// objects goes through.
func TestDownRefusesToDropData(t *testing.T) {
	t.Parallel()
	full, _, _ := sampleFiles(t)
	db := migratedDB(t)
	if out, errs, code := runCmd(t, "load", "datadecide", full, "--db", db); code != 0 {
		t.Fatalf("load: %s %s", out, errs)
	}
	// The steps after 00002 drop only empty objects: they go through.
	if out, errs, code := runCmd(t, "migrate", "down", "--to", "2", "--db", db); code != 0 || !strings.Contains(out, "is at version 2") {
		t.Fatalf("migrate down --to 2 (nothing but empty objects to drop) = %s %s, exit %d", out, errs, code)
	}
	before := dbState(t, db)
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"migrate", "down"}, []string{
			"reverting " + db + " to version 1 would drop data: ",
			"table dschema_loads (1 rows)",
			"column pretrain_evals.load_id (144 non-NULL values)",
			"column pretrain_runs.load_id (36 non-NULL values)",
			"pass --allow-destructive to revert anyway",
		}},
		{[]string{"migrate", "down", "--to", "0"}, []string{
			"to version 0 would drop data: ",
			"table pretrain_evals (144 rows)",
			"table pretrain_models (4 rows)",
		}},
		{[]string{"migrate", "redo"}, []string{"to version 1 would drop data: table dschema_loads (1 rows)"}},
	} {
		out, errs, code := runCmd(t, append(tt.args, "--db", db)...)
		for _, w := range tt.want {
			if code == 0 || !strings.Contains(errs, w) {
				t.Errorf("%v = %q %q, exit %d; want an error with %q", tt.args, out, errs, code, w)
			}
		}
		if after := dbState(t, db); after != before {
			t.Errorf("%v changed the database:\n%s\nwas\n%s", tt.args, after, before)
		}
	}
	out, errs, code := runCmd(t, "migrate", "down", "--dry-run", "--db", db)
	if code != 0 || !strings.Contains(out, "-- 00002_provenance_and_datadecide_views.sql (Down)") || !strings.Contains(out, `DROP TABLE "dschema_loads";`) ||
		!strings.Contains(out, "-- refused without --allow-destructive: reverting "+db+" to version 1 would drop data: table dschema_loads (1 rows)") {
		t.Errorf("down --dry-run = %.400q %q, exit %d", out, errs, code)
	}
	if after := dbState(t, db); after != before {
		t.Errorf("down --dry-run changed the database")
	}
	out, errs, code = runCmd(t, "migrate", "down", "--allow-destructive", "--db", db)
	if code != 0 || !strings.Contains(out, "is at version 1") {
		t.Fatalf("down --allow-destructive = %s %s", out, errs)
	}
	// Up again: the evals are back without provenance, and a new load of the
	// same file says so in words.
	if out, errs, code := runCmd(t, "migrate", "up", "--db", db); code != 0 {
		t.Fatalf("up: %s %s", out, errs)
	}
	_, errs, code = runCmd(t, "load", "datadecide", full, "--db", db)
	if code == 0 || strings.Contains(errs, "Scan error") || !strings.Contains(errs, "already in the database with no recorded load (its load_id is NULL") {
		t.Errorf("reload after down/up = %q, exit %d", errs, code)
	}

	// A migrated database with nothing loaded: down drops only empty objects.
	empty := migratedDB(t)
	for _, args := range [][]string{{"migrate", "down"}, {"migrate", "redo"}, {"migrate", "down", "--to", "0"}} {
		if out, errs, code := runCmd(t, append(args, "--db", empty)...); code != 0 {
			t.Errorf("%v on an empty database = %s %s", args, out, errs)
		}
	}
	if out, _, _ := runCmd(t, "migrate", "down", "--db", empty); !strings.Contains(out, "is at version 0; nothing to revert") {
		t.Errorf("down at version 0 = %q", out)
	}
}

func TestNegativeVersionsAreRefused(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	before := dbState(t, db)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "down", "--to", "-5"}, "--to -5: a version is 0 or more"},
		{[]string{"migrate", "down", "--to", "-1"}, "--to -1: a version is 0 or more"},
		{[]string{"migrate", "up", "--to", "-3"}, "--to -3: a version to migrate up to is 1 or more"},
		{[]string{"migrate", "up", "--to", "0"}, "--to 0: a version to migrate up to is 1 or more"},
	} {
		_, errs, code := runCmd(t, append(tt.args, "--db", db)...)
		if code == 0 || !strings.Contains(errs, tt.want) {
			t.Errorf("%v = %q, exit %d; want %q", tt.args, errs, code, tt.want)
		}
	}
	if after := dbState(t, db); after != before {
		t.Errorf("a refused --to changed the database")
	}
	// The edges that are versions: down --to 0 and up --to 1 work.
	if out, errs, code := runCmd(t, "migrate", "down", "--to", "0", "--db", db); code != 0 || !strings.Contains(out, "is at version 0") {
		t.Errorf("down --to 0 = %s %s", out, errs)
	}
	if out, errs, code := runCmd(t, "migrate", "up", "--to", "1", "--db", db); code != 0 || !strings.Contains(out, "is at version 1") {
		t.Errorf("up --to 1 = %s %s", out, errs)
	}
}

func TestAggregateCheckOnAnEmptyDatabase(t *testing.T) {
	t.Parallel()
	_, mean, _ := sampleFiles(t)
	db := migratedDB(t)
	_, errs, code := runCmd(t, "load", "datadecide-agg", mean, "--db", db)
	want := "dschema: the database holds no DataDecide rows: load full_eval first (dschema load datadecide full_eval.parquet)\n"
	if code == 0 || errs != want {
		t.Errorf("datadecide-agg on an empty database = %q, exit %d; want %q", errs, code, want)
	}
}

// TestInterruptExitCode: an interrupted command exits 130 and says what
// happened in one line.
func TestInterruptExitCode(t *testing.T) {
	t.Parallel()
	full, _, _ := sampleFiles(t)
	db := migratedDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := Run(ctx, []string{"load", "datadecide", full, "--db", db}, &out, &errb)
	if e := errb.String(); code != 130 || strings.Count(e, "\n") != 1 || !strings.HasPrefix(e, "dschema: interrupted") || !strings.HasSuffix(e, "context canceled\n") {
		t.Errorf("interrupted load = %q, exit %d; want one line saying it was interrupted, exit 130", e, code)
	}
	if got := dbState(t, db); !strings.Contains(got, "0 loads") {
		t.Errorf("after an interrupted load: %s", got)
	}
}

func TestFlagMistakesAreRefused(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "datadecide", "--rows", "0"}, "dschema: --rows 0: give a number of rows of at least 1\n"},
		{[]string{"bench", "datadecide", "--rows", "-1"}, "dschema: --rows -1: give a number of rows of at least 1\n"},
		{[]string{"load", "datadecide", "x.parquet", "--stat", "mean", "--db", db}, "dschema: --stat is for datadecide-agg, not for datadecide\n"},
		{[]string{"load", "banana", "x.parquet", "--db", db}, fmt.Sprintf("dschema: unknown load kind \"banana\" (known: %s)\n", strings.Join(append(loaders.Kinds(), datadecide.AggKind), ", "))},
		{[]string{"check", "--root", t.TempDir()}, "dschema: not a dschema checkout: "},
	} {
		_, errs, code := runCmd(t, tt.args...)
		if code == 0 || !strings.HasPrefix(errs, tt.want) {
			t.Errorf("%v = %q, exit %d; want %q", tt.args, errs, code, tt.want)
		}
	}
	if _, errs, _ := runCmd(t, "check", "--root", t.TempDir(), "--db", db); !strings.Contains(errs, "name one with --root (migrate works anywhere: its migrations are built in)") {
		t.Errorf("check outside a checkout = %q", errs)
	}
}

// TestJSONAndMultiFileFailures: with --json a failure is one JSON object
// with an error field; loads --json lists loads; a multi-file load that
// stops at a bad file names the files it did not try.
func TestJSONAndMultiFileFailures(t *testing.T) {
	t.Parallel()
	full, _, _ := sampleFiles(t)
	db := migratedDB(t)
	missing := filepath.Join(t.TempDir(), "missing.parquet")
	out, _, code := runCmd(t, "load", "datadecide", missing, "--json", "--db", db)
	var obj map[string]any
	if err := json.Unmarshal([]byte(out), &obj); code == 0 || err != nil || obj["error"] != missing+": no such file" || obj["path"] != missing {
		t.Errorf("load --json of a missing file = %q (exit %d, %v)", out, code, err)
	}
	out, _, _ = runCmd(t, "loads", "--json", "--db", db)
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("loads --json on an empty database = %q", out)
	}
	out, errs, code := runCmd(t, "load", "datadecide", full, missing, full+"-other", "--db", db)
	if code == 0 || !strings.Contains(out, "load 1") ||
		!strings.HasSuffix(errs, missing+": no such file (stopped there: 1 later file(s) not tried: "+full+"-other)\n") {
		t.Errorf("multi-file load = %q %q, exit %d", out, errs, code)
	}
	out, _, _ = runCmd(t, "loads", "--json", "--db", db)
	var loads []map[string]any
	if err := json.Unmarshal([]byte(out), &loads); err != nil || len(loads) != 1 || loads[0]["load_id"] != 1.0 ||
		loads[0]["state"] != "current" || loads[0]["rows_written"] != 187.0 || loads[0]["source"] != full {
		t.Errorf("loads --json = %s (%v)", out, err)
	}
	out, _, _ = runCmd(t, "loads", "--json", "--db", filepath.Join(t.TempDir(), "none.duckdb"))
	if err := json.Unmarshal([]byte(out), &obj); err != nil || !strings.Contains(fmt.Sprint(obj["error"]), "does not exist") {
		t.Errorf("loads --json on a missing database = %q", out)
	}
}

// syncBuffer is a terminal stand-in that progress bars write to from
// several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProgressOnATerminal: on a terminal a load shows its stages, and the
// bytes of the file DuckDB reports its statement has read (half of the
// 2.2 MB sample: 49%, the bytes rounded down).
func TestProgressOnATerminal(t *testing.T) {
	isTerm, after := isTerminal, progressAfter
	t.Cleanup(func() { isTerminal, progressAfter = isTerm, after })
	isTerminal = func(io.Writer) bool { return true }
	progressAfter = 0

	full, _, _ := sampleFiles(t)
	w := &syncBuffer{}
	p := newProgress(w, full)
	p.bytes(10, 100)
	p.stage("writing pretrain_evals")
	p.fraction("writing pretrain_evals", 0.5)
	p.fraction("checking keys", 0.99) // a late report of another stage: ignored
	p.finish()
	for _, want := range []string{"full_eval.parquet: hashing", "10%", "full_eval.parquet: writing pretrain_evals", "49%", "/2.2 MB"} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("progress output lacks %q:\n%q", want, w.String())
		}
	}
	if strings.Contains(w.String(), "99%") {
		t.Errorf("a stale stage's progress was shown: %q", w.String())
	}

	// Through the command: stages and DuckDB's percentages reach stderr.
	db := migratedDB(t)
	var out bytes.Buffer
	if code := Run(context.Background(), []string{"load", "datadecide", full, "--db", db}, &out, w); code != 0 {
		t.Fatalf("load: %s %s", out.String(), w.String())
	}
	for _, want := range []string{"full_eval.parquet: writing pretrain_evals", "full_eval.parquet: committing"} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("load progress lacks %q:\n%q", want, w.String())
		}
	}
}

// loadUntil starts dschema load datadecide of full into db in a real
// process (the test binary as dschema, progress on stderr) and reads its
// progress until stage shows; it returns the process, the rest of its
// stderr and what it printed so far.
func loadUntil(t *testing.T, full, db, stage string) (*exec.Cmd, io.Reader, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "load", "datadecide", full, "--db", db)
	cmd.Env = append(os.Environ(), "DSCHEMA_TEST_RUN_CLI=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	seen := &strings.Builder{}
	buf := make([]byte, 4096)
	for !strings.Contains(seen.String(), ": "+stage) {
		n, err := stderr.Read(buf)
		seen.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return cmd, stderr, seen
}

// TestKilledLoadLeavesTheDatabaseLoadable runs dschema load in a real
// process, kills it (SIGKILL) when it reaches a stage, and checks that the
// database is as it was and takes the same load afterwards.
func TestKilledLoadLeavesTheDatabaseLoadable(t *testing.T) {
	t.Parallel()
	full, _, _ := sampleFiles(t)
	for _, stage := range []string{"checking keys", "writing pretrain_evals", "recording the load", "committing"} {
		t.Run(stage, func(t *testing.T) {
			db := migratedDB(t)
			before := dbState(t, db)
			// Read the progress until the stage shows, then kill at once.
			cmd, stderr, seen := loadUntil(t, full, db, stage)
			cmd.Process.Kill()
			io.Copy(io.Discard, stderr)
			state, _ := cmd.Process.Wait()
			if !strings.Contains(seen.String(), ": "+stage) {
				t.Fatalf("the load never reached %q (exit %v):\n%q", stage, state, seen.String())
			}
			after := dbState(t, db)
			// Killed during COMMIT, the load may have committed: then it is whole.
			if after != before && !(stage == "committing" && strings.Contains(after, "1 loads, 144 evals with a load_id")) {
				t.Errorf("after a kill during %s the database is\n%s\nwas\n%s", stage, after, before)
			}
			if out, errs, code := runCmd(t, "check", "--root", "../..", "--db", db); code != 0 {
				t.Errorf("check --db after the kill: %s %s", out, errs)
			}
			// compact gives the free space back and keeps everything else.
			sized := func() int64 { fi, _ := os.Stat(db); return fi.Size() }
			killed := sized()
			if out, errs, code := runCmd(t, "compact", "--db", db); code != 0 || !strings.Contains(out, " MB -> ") || sized() > killed {
				t.Errorf("compact = %s %s (%d bytes, were %d)", out, errs, sized(), killed)
			}
			if now := dbState(t, db); now != after {
				t.Errorf("compact changed the database:\n%s\nwas\n%s", now, after)
			}
			if out, errs, code := runCmd(t, "check", "--root", "../..", "--db", db); code != 0 {
				t.Errorf("check --db after compact: %s %s", out, errs)
			}
			out, errs, code := runCmd(t, "load", "datadecide", full, "--db", db)
			if code != 0 || !(strings.Contains(out, "load 1 in") || strings.Contains(out, "unchanged since load 1")) {
				t.Errorf("load after the kill = %s %s", out, errs)
			}
		})
	}
}

// TestSignalsRollBack runs dschema load in a real process and sends it
// SIGINT or SIGTERM when it is writing rows: either way it rolls back, says
// so in one line and exits 130, and the database is as it was.
func TestSignalsRollBack(t *testing.T) {
	t.Parallel()
	full, _, _ := sampleFiles(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			db := migratedDB(t)
			before := dbState(t, db)
			cmd, stderr, seen := loadUntil(t, full, db, "checking keys")
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(stderr)
			seen.Write(rest)
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 130 {
				t.Fatalf("after %s: %v, want exit 130; stderr:\n%s", sig, err, seen.String())
			}
			if !strings.Contains(seen.String(), "\rdschema: "+full+": interrupted; nothing written (context canceled)\n") {
				t.Errorf("after %s stderr lacks the one-line interrupted message:\n%q", sig, seen.String())
			}
			if after := dbState(t, db); after != before {
				t.Errorf("after %s the database is\n%s\nwas\n%s", sig, after, before)
			}
		})
	}
}

// TestREADMEClaims proves what the README says of --source, $DSCHEMA_DB,
// migrate hash and bench.
func TestREADMEClaims(t *testing.T) {
	full, _, _ := sampleFiles(t)
	db := migratedDB(t)

	// $DSCHEMA_DB names the database when --db is not given.
	t.Setenv("DSCHEMA_DB", db)
	if out, errs, code := runCmd(t, "load", "datadecide", full, "--source", "lab/full_eval"); code != 0 || !strings.Contains(out, "load 1") {
		t.Fatalf("load with $DSCHEMA_DB and --source = %s %s", out, errs)
	}
	// --source: a changed file elsewhere under the same source replaces the rows.
	changed := filepath.Join(t.TempDir(), "full_eval_v2.parquet")
	spec := fixtures.SampleSpec()
	spec.Steps = 1
	if _, err := fixtures.WriteFullEval(context.Background(), changed, spec); err != nil {
		t.Fatal(err)
	}
	out, errs, code := runCmd(t, "load", "datadecide", changed, "--source", "lab/full_eval")
	if code != 0 || !strings.Contains(out, "load 2") || !strings.Contains(out, "replaced load 1 of the same source (rows removed: ") {
		t.Errorf("load of a new version under --source = %s %s", out, errs)
	}
	out, _, _ = runCmd(t, "loads", "--json")
	var loads []loaders.LoadRecord
	if err := json.Unmarshal([]byte(out), &loads); err != nil || len(loads) != 2 || loads[0].State != "replaced" || loads[1].Source != "lab/full_eval" ||
		loads[1].Replaces == nil || *loads[1].Replaces != 1 {
		t.Errorf("loads = %s (%v)", out, err)
	}

	// migrate hash rewrites the sum file after an intended change, and the
	// sum then verifies.
	root := t.TempDir()
	for _, d := range []string{"migrations"} {
		entries, _ := os.ReadDir(filepath.Join("../..", d))
		os.MkdirAll(filepath.Join(root, d), 0o755)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join("../..", d, e.Name()))
			os.WriteFile(filepath.Join(root, d, e.Name()), b, 0o644)
		}
	}
	sum := filepath.Join(root, "migrations", "dschema.sum")
	old, _ := os.ReadFile(sum)
	mig := filepath.Join(root, "migrations", "00002_provenance_and_datadecide_views.sql")
	b, _ := os.ReadFile(mig)
	os.WriteFile(mig, append(b, []byte("-- a reviewed note\n")...), 0o644)
	if out, errs, code := runCmd(t, "migrate", "hash", "--root", root); code != 0 || !strings.Contains(out, fmt.Sprintf("for %d migrations", newest(t))) {
		t.Fatalf("migrate hash = %s %s", out, errs)
	}
	if now, _ := os.ReadFile(sum); bytes.Equal(now, old) || len(now) != len(old) {
		t.Errorf("migrate hash left the sum file as it was")
	}
	if err := migrate.VerifySum(os.DirFS(filepath.Join(root, "migrations")), "migrations"); err != nil {
		t.Errorf("the rewritten sum file does not verify: %v", err)
	}
}

// TestMemoryLimitDefault: load --help shows the memory limit each kind
// runs under when none is given (the one its loader declares).
func TestMemoryLimitDefault(t *testing.T) {
	t.Parallel()
	out, _, _ := runCmd(t, "load", "--help")
	out = strings.Join(strings.Fields(out), " ") // cobra wraps long usage lines
	want := "default by kind: datadecide 3GB, qa-outputs 128MB, showntell 3GB, wandb-history 600MB, wandb-runs 512MB"
	if !strings.Contains(out, "--memory-limit string") || !strings.Contains(out, want) {
		t.Errorf("load --help does not show each kind's default memory limit (%s):\n%s", want, out)
	}
}

// TestVerifyDispatchesByKind: verify runs the verification a kind declares,
// the aggregate check among them, over several files.
func TestVerifyDispatchesByKind(t *testing.T) {
	t.Parallel()
	full, mean, std := sampleFiles(t)
	db := migratedDB(t)
	if out, errs, code := runCmd(t, "load", "datadecide", full, "--db", db); code != 0 {
		t.Fatalf("load: %s %s", out, errs)
	}
	out, errs, code := runCmd(t, "verify", "datadecide-agg", mean, std, "--db", db)
	if code != 0 || strings.Count(out, "agrees with the database (relative tolerance 1e-09)") != 2 {
		t.Errorf("verify datadecide-agg = %s %s, exit %d", out, errs, code)
	}
	out, errs, code = runCmd(t, "verify", "datadecide", full, "--db", db, "--json")
	var v struct {
		Rows      int64 `json:"rows"`
		Differing int64 `json:"differing_cells"`
	}
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || v.Rows != 144 || v.Differing != 0 {
		t.Errorf("verify datadecide --json = %s %s, exit %d (%v)", out, errs, code, err)
	}
	_, errs, code = runCmd(t, "verify", "wandb", full, "--db", db)
	if code == 0 || errs != fmt.Sprintf("dschema: verify knows the kinds %s, not \"wandb\"\n", strings.Join(loaders.VerifierKinds(), ", ")) {
		t.Errorf("verify of an unknown kind = %q, exit %d", errs, code)
	}
	_, errs, code = runCmd(t, "verify", "datadecide", full, "--stat", "mean", "--db", db)
	if code == 0 || !strings.Contains(errs, "--stat is for datadecide-agg, not for datadecide") {
		t.Errorf("verify datadecide --stat = %q, exit %d", errs, code)
	}
}

// TestQAOutputsCommands: load and verify take a folder as well as a
// tarball; a folder that differs from its load fails verify, naming it.
func TestQAOutputsCommands(t *testing.T) {
	t.Parallel()
	db := migratedDB(t)
	dir := t.TempDir()
	dump, err := fixtures.WriteOLMESDump(dir, fixtures.RunName(1), fixtures.QATasks, 3)
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code := runCmd(t, "load", "qa-outputs", dump, "--db", db)
	if code != 0 || !strings.Contains(out, "layout OLMES dump (folder)") || !strings.Contains(out, "qa_question_outputs         15 rows written") {
		t.Fatalf("load: %s %s", out, errs)
	}
	if out, errs, code := runCmd(t, "verify", "qa-outputs", dump, "--db", db); code != 0 || !strings.Contains(out, "0 differing cells, 0 rows missing from the database, 0 rows missing from the file") {
		t.Errorf("verify: %s %s", out, errs)
	}
	f := filepath.Join(dump, "task-001-boolq:mc::olmes-predictions.jsonl")
	b, _ := os.ReadFile(f)
	os.WriteFile(f, bytes.Replace(b, []byte(`"label": `), []byte(`"label": 1`), 1), 0o644)
	out, errs, code = runCmd(t, "verify", "qa-outputs", dump, "--db", db)
	if code == 0 || !strings.Contains(out, "qa_question_outputs.label") || !strings.Contains(errs, "differs from the database") {
		t.Errorf("verify of a changed folder: %s %s (exit %d)", out, errs, code)
	}
}
