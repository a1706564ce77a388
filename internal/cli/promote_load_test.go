package cli

import (
	"context"
	"database/sql"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/labtest"
)

// copyModule copies the module at src (every file but .git) to dst.
// long turns on the tests that build a dschema binary.
var long = flag.Bool("long", false, "also run the tests that build a dschema binary (minutes)")

func copyModule(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.Name() == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPromotedColumnFilledByLaterLoads: after promote, a rebuilt dschema
// and migrate up, a history load puts the promoted key's values in the new
// column directly, none of them in extra_metrics (the README's "later
// loads fill the column directly"). It builds the promoted checkout (about
// two minutes on two cores), so it runs only with -long, as .ci/run does.
func TestPromotedColumnFilledByLaterLoads(t *testing.T) {
	if !*long {
		t.Skip("builds a promoted dschema: run with -long (.ci/run does)")
	}
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	copyModule(t, "../..", root)
	if out, errs, code := runCmd(t, "promote", "wandb_history", "eval/loss", "--root", root, "--no-cache"); code != 0 {
		t.Fatalf("promote = %s %s", out, errs)
	}
	bin := filepath.Join(t.TempDir(), "dschema")
	build := exec.Command("go", "build", "-o", bin, "./cmd/dschema")
	build.Dir = root
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the promoted dschema: %v\n%s", err, out)
	}
	db := labtest.MigratedDB(t)
	hist := filepath.Join(t.TempDir(), "history.jsonl")
	spec := fixtures.SampleWandb()
	if err := fixtures.WriteHistory(ctx, hist, fixtures.HistV3, fixtures.WandbHistory(spec, fixtures.WandbRuns(spec))); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"migrate", "up"}, {"load", "wandb-history", hist}} {
		cmd := exec.Command(bin, append(args, "--db", db, "--no-cache")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dschema %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// What this (unpromoted) dschema loads into extra_metrics.
	want := labtest.MigratedDB(t)
	if out, errs, code := runCmd(t, "load", "wandb-history", hist, "--db", want, "--no-cache"); code != 0 {
		t.Fatalf("load = %s %s", out, errs)
	}
	values := func(path, q string) map[string]string {
		t.Helper()
		db, err := dbfile.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var k string
			var v sql.NullString
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			out[k] = v.String
		}
		return out
	}
	before := values(want, `SELECT run_id || '/' || seq, CAST(extra_metrics['eval/loss'] AS VARCHAR) FROM wandb_history WHERE extra_metrics['eval/loss'] IS NOT NULL`)
	got := values(db, `SELECT run_id || '/' || seq, CAST(eval_loss AS VARCHAR) FROM wandb_history WHERE eval_loss IS NOT NULL`)
	left := values(db, `SELECT run_id || '/' || seq, '' FROM wandb_history WHERE extra_metrics['eval/loss'] IS NOT NULL`)
	if len(before) != 24 || len(got) != len(before) || len(left) != 0 {
		t.Fatalf("eval/loss: %d values in the promoted column, %d left in extra_metrics; want the %d the unpromoted load keeps aside, and none", len(got), len(left), len(before))
	}
	for k, v := range before {
		if got[k] != v {
			t.Errorf("%s: eval_loss %s, want %s", k, got[k], v)
		}
	}
}
