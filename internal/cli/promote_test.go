package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// promoteSchema is a small checkout's schema: a history table shaped like
// wandb_history (primary key, index, overflow map, load_id last after a
// comment), a table without a map, one whose last column is block-style,
// and one with two maps.
const promoteSchema = `domain: lab
description: A small test domain.
tables:
  - name: history
    description: Logged rows.
    primary_key: [run_id, seq]
    indexes:
      - {name: history_run_idx, columns: [run_id]}
    columns:
      - {name: run_id, type: VARCHAR, description: "Run."}
      - {name: seq, type: BIGINT, description: "Row."}
      - {name: loss, type: DOUBLE, key: "train/loss", description: "Loss."}
      - {name: extra_metrics, type: "MAP(VARCHAR, DOUBLE)", description: "Other numeric keys."}
      # Provenance.
      - {name: load_id, type: BIGINT, description: "Load."}
  - name: notes
    description: Notes.
    columns:
      - {name: id, type: BIGINT, description: "Id."}
  - name: evals
    description: Evaluations.
    columns:
      - {name: id, type: BIGINT, description: "Id."}
      - name: scores
        type: MAP(VARCHAR, FLOAT)
        description: >
          Scores by task,
          folded.

  - name: two_maps
    description: Two maps.
    columns:
      - {name: id, type: BIGINT, description: "Id."}
      - {name: a, type: "MAP(VARCHAR, DOUBLE)", description: "A."}
      - {name: b, type: "MAP(VARCHAR, DOUBLE)", description: "B."}
`

// promoteCheckout writes promoteSchema into a new checkout and generates
// its first migration and gen/.
func promoteCheckout(t *testing.T) (root, yamlPath string) {
	t.Helper()
	root = t.TempDir()
	yamlPath = filepath.Join(root, "schema", "lab.yaml")
	if err := os.MkdirAll(filepath.Dir(yamlPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(yamlPath, []byte(promoteSchema), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errs, code := runCmd(t, "gen", "--root", root, "--no-cache"); code != 0 {
		t.Fatalf("gen = %s %s", out, errs)
	}
	return root, yamlPath
}

func migrationNames(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "migrations"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestPromote(t *testing.T) {
	t.Parallel()
	root, yamlPath := promoteCheckout(t)
	out, errs, code := runCmd(t, "promote", "history", "logps/chosen", "--root", root, "--no-cache")
	if code != 0 {
		t.Fatalf("promote = %s %s", out, errs)
	}
	got, _ := os.ReadFile(yamlPath)
	line := `      - {name: logps_chosen, type: DOUBLE, key: "logps/chosen", promoted_from: extra_metrics, description: "logps/chosen (promoted from extra_metrics)."}` + "\n"
	want := strings.Replace(promoteSchema, "      # Provenance.\n", line+"      # Provenance.\n", 1)
	if string(got) != want {
		t.Errorf("schema/lab.yaml after promote:\n%s\nwant:\n%s", got, want)
	}
	for _, w := range []string{
		`added column history.logps_chosen (DOUBLE) for key "logps/chosen" of extra_metrics to schema/lab.yaml`,
		"wrote migrations/00002_promote_history_logps_chosen.sql",
		"dschema migrate up",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("promote output lacks %q:\n%s", w, out)
		}
	}
	mig, err := os.ReadFile(filepath.Join(root, "migrations", "00002_promote_history_logps_chosen.sql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		`UPDATE "history" SET "logps_chosen" = "extra_metrics"['logps/chosen'], "extra_metrics" = CASE WHEN cardinality(`,
		`UPDATE "history" SET "extra_metrics" = map_concat(`,
	} {
		if !strings.Contains(string(mig), w) {
			t.Errorf("the migration lacks %q:\n%s", w, mig)
		}
	}
	if out, errs, code := runCmd(t, "check", "--root", root, "--no-cache"); code != 0 {
		t.Errorf("check after promote = %s %s", out, errs)
	}

	// The same key again: refused, nothing written.
	_, errs, code = runCmd(t, "promote", "history", "logps/chosen", "--root", root, "--no-cache")
	if code == 0 || !strings.Contains(errs, `already holds key "logps/chosen"`) {
		t.Errorf("promote of a promoted key = %q, exit %d", errs, code)
	}
	if now, _ := os.ReadFile(yamlPath); string(now) != want || len(migrationNames(t, root)) != 2 {
		t.Errorf("a refused promote changed the checkout")
	}
}

// TestPromoteAtEndAndFrom: without load_id the line goes after the last
// column (past its folded description); --from picks one of two maps;
// --column, --type and --description are written as given.
func TestPromoteAtEndAndFrom(t *testing.T) {
	t.Parallel()
	root, yamlPath := promoteCheckout(t)
	if out, errs, code := runCmd(t, "promote", "evals", "arc/acc", "--root", root, "--no-cache"); code != 0 {
		t.Fatalf("promote evals = %s %s", out, errs)
	}
	if out, errs, code := runCmd(t, "promote", "two_maps", "x", "--from", "b", "--column", "bx", "--type", "VARCHAR",
		"--description", `The "x" of b.`, "--root", root, "--no-cache"); code != 0 {
		t.Fatalf("promote two_maps = %s %s", out, errs)
	}
	got, _ := os.ReadFile(yamlPath)
	want := strings.Replace(promoteSchema, "          folded.\n", "          folded.\n"+
		`      - {name: arc_acc, type: FLOAT, key: "arc/acc", promoted_from: scores, description: "arc/acc (promoted from scores)."}`+"\n", 1)
	want += `      - {name: bx, type: VARCHAR, key: "x", promoted_from: b, description: "The \"x\" of b."}` + "\n"
	if string(got) != want {
		t.Errorf("schema/lab.yaml after promote:\n%s\nwant:\n%s", got, want)
	}
	if n := migrationNames(t, root); len(n) != 3 || n[1] != "00002_promote_evals_arc_acc.sql" || n[2] != "00003_promote_two_maps_bx.sql" {
		t.Errorf("migrations = %q", n)
	}
}

// TestPromoteRefuses: every refusal names its reason and leaves the YAML
// and migrations as they were.
func TestPromoteRefuses(t *testing.T) {
	t.Parallel()
	root, yamlPath := promoteCheckout(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown table", []string{"nope", "k"}, `no table "nope" in the schema`},
		{"existing column", []string{"history", "Loss"}, `column history.loss already exists (schema/lab.yaml:12); name another with --column, or if it holds "Loss", give it key: "Loss"`},
		{"key taken", []string{"history", "train/loss"}, `column history.loss (schema/lab.yaml:12) already holds key "train/loss"`},
		{"no map", []string{"notes", "k"}, "table notes has no MAP(VARCHAR, …) column to promote a key from"},
		{"two maps", []string{"two_maps", "k"}, "table two_maps has 2 MAP(VARCHAR, …) columns (a, b): name the one holding \"k\" with --from"},
		{"from not a map", []string{"two_maps", "k", "--from", "id"}, "--from id: two_maps has no MAP(VARCHAR, …) column of that name"},
		{"bad column name", []string{"history", "k", "--column", "Bad"}, `column name "Bad": want lower snake_case`},
		{"no name from the key", []string{"history", "///"}, `key "///" gives no column name; name one with --column`},
		{"lossy type: generation fails", []string{"history", "k", "--type", "INTEGER"},
			`generate: schema/lab.yaml:14:9: table "history": column "k": promoted_from "extra_metrics": type INTEGER cannot hold every DOUBLE value of extra_metrics exactly; use DOUBLE (schema/lab.yaml is as it was)`},
		{"unknown type: generation fails", []string{"history", "k", "--type", "DUBBLE"}, `DuckDB rejects type "DUBBLE"`},
		{"not a checkout", []string{"history", "k", "--root", t.TempDir()}, "not a dschema checkout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"promote"}, tt.args...)
			if !strings.Contains(strings.Join(tt.args, " "), "--root") {
				args = append(args, "--root", root)
			}
			out, errs, code := runCmd(t, append(args, "--no-cache")...)
			if code == 0 || !strings.Contains(errs, tt.want) {
				t.Errorf("promote %q = %q %q, exit %d; want an error containing %q", tt.args, out, errs, code, tt.want)
			}
			if now, _ := os.ReadFile(yamlPath); string(now) != promoteSchema {
				t.Errorf("schema/lab.yaml changed:\n%s", now)
			}
			if n := migrationNames(t, root); len(n) != 1 {
				t.Errorf("migrations = %q, want only the first", n)
			}
		})
	}

	// Schema edits no migration holds yet would ride along: refused.
	edited := strings.Replace(promoteSchema, `description: "Id."}`, `description: "The id."}`, 1)
	if err := os.WriteFile(yamlPath, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := runCmd(t, "promote", "history", "k", "--root", root, "--no-cache")
	if code == 0 || !strings.Contains(errs, "has edits no migration holds yet") {
		t.Errorf("promote with pending edits = %q, exit %d", errs, code)
	}
	if now, _ := os.ReadFile(yamlPath); string(now) != edited {
		t.Errorf("schema/lab.yaml changed")
	}
}
