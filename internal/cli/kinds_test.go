package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/loaders"
)

// TestCLIKnowsEveryKind: the CLI registers every loader (through
// internal/loaders/all): load --help lists each kind with its line and
// default memory limit, and verify --help each kind that can be verified.
func TestCLIKnowsEveryKind(t *testing.T) {
	t.Parallel()
	want := []string{"datadecide", "qa-outputs", "showntell", "wandb-history", "wandb-runs"}
	if got := strings.Join(loaders.Kinds(), " "); got != strings.Join(want, " ") {
		t.Errorf("loader kinds %q, want %q", got, want)
	}
	if got := strings.Join(loaders.CheckKinds(), " "); got != "datadecide-agg" {
		t.Errorf("check kinds %q, want datadecide-agg", got)
	}
	out, _, code := runCmd(t, "load", "--help")
	flat := strings.Join(strings.Fields(out), " ")
	for _, k := range append(loaders.Kinds(), loaders.CheckKinds()...) {
		var short string
		if l, err := loaders.Lookup(k); err == nil {
			short = l.Short()
		} else if v, err := loaders.LookupVerifier(k); err == nil {
			short = v.(interface{ Short() string }).Short()
		}
		if code != 0 || short == "" || !strings.Contains(flat, k+" "+strings.Join(strings.Fields(short), " ")) {
			t.Errorf("load --help does not list %s: %s", k, short)
		}
	}
	for _, k := range loaders.Kinds() {
		if !strings.Contains(flat, k+" "+loaders.DefaultMemoryLimit(k)) {
			t.Errorf("load --help does not give %s's memory limit %s", k, loaders.DefaultMemoryLimit(k))
		}
	}
	out, _, code = runCmd(t, "verify", "--help")
	if want := "Kinds: datadecide, datadecide-agg, qa-outputs, showntell, wandb-history, wandb-runs."; code != 0 || !strings.Contains(out, want) {
		t.Errorf("verify --help: want %q in\n%s", want, out)
	}
}

// TestSourceTZRefusedBeforeTheDatabase: --source-tz for a kind that does not
// read it, a check among them, is refused naming the kinds that do, before
// the database is opened (this one does not exist).
func TestSourceTZRefusedBeforeTheDatabase(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "none.duckdb")
	for _, kind := range []string{"datadecide-agg", "wandb-runs", "datadecide"} {
		_, errs, code := runCmd(t, "load", kind, "x.parquet", "--source-tz", "UTC", "--db", db)
		want := "dschema: --source-tz is for wandb-history (the canonical runs_history.parquet's naive times), not for " + kind + "\n"
		if code == 0 || errs != want {
			t.Errorf("load %s --source-tz = exit %d, %q; want %q", kind, code, errs, want)
		}
	}
}
