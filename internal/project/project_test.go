package project

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/cache"
)

// copyTree copies the named folders of src into a new temp dir.
func copyTree(t *testing.T, src string, dirs ...string) string {
	t.Helper()
	dst := t.TempDir()
	for _, d := range dirs {
		entries, err := os.ReadDir(filepath.Join(src, d))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dst, d), 0o755)
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(src, d, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, d, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dst
}

// TestRepositoryIsConsistent is the freshness test: the committed schema,
// migrations and gen/ agree (what dschema check verifies in CI).
func TestRepositoryIsConsistent(t *testing.T) {
	root := copyTree(t, "../..", "schema", "migrations", "gen")
	ctx := context.Background()
	problems, err := Check(ctx, DefaultLayout(root), CheckOptions{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s", p)
	}

	// Editing a description without go generate is caught, naming the file.
	path := filepath.Join(root, "schema", "wandb.yaml")
	b, _ := os.ReadFile(path)
	edited := strings.Replace(string(b), `description: "Run state: finished, running, crashed, failed or killed."`, `description: "Run state as W&B reports it."`, 1)
	if edited == string(b) {
		t.Fatal("the description to edit was not found")
	}
	os.WriteFile(path, []byte(edited), 0o644)
	problems, err = Check(ctx, DefaultLayout(root), CheckOptions{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{
		`schema/wandb.yaml:`,
		`table "wandb_runs": column "state": description differs`,
		`(fix: go generate ./...)`,
		`gen/wandb_runs.go: differs from what the schema and migrations generate`,
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("check output lacks %q:\n%s", want, joined)
		}
	}
}

const smallSchema = `domain: lab
description: A small test domain.
tables:
  - name: runs
    description: Runs.
    primary_key: [run_id]
    columns:
      - {name: run_id, type: VARCHAR, description: "Run id."}
      - {name: loss, type: DOUBLE, description: "Loss."}
`

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGenFlow(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	l := DefaultLayout(root)
	writeFile(t, filepath.Join(root, "schema", "lab.yaml"), smallSchema)

	res, err := Gen(ctx, l, GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Migration != filepath.Join("migrations", "00001_init.sql") || len(res.Written) != 2 {
		t.Fatalf("first Gen = %+v", res)
	}
	// Nothing changed: nothing is written.
	res, err = Gen(ctx, l, GenOptions{})
	if err != nil || res.Migration != "" || len(res.Written) != 0 {
		t.Fatalf("second Gen = %+v, %v, want no changes", res, err)
	}
	// A new column gives migration 2 named from --name.
	writeFile(t, filepath.Join(root, "schema", "lab.yaml"), smallSchema+`      - {name: steps, type: BIGINT, not_null: true, default: "0", description: "Steps."}`+"\n")
	res, err = Gen(ctx, l, GenOptions{Name: "Add steps"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Migration != filepath.Join("migrations", "00002_add_steps.sql") {
		t.Errorf("migration = %q", res.Migration)
	}
	gen, _ := os.ReadFile(filepath.Join(root, "gen", "schema.go"))
	if !strings.Contains(string(gen), "const SchemaVersion int64 = 2") {
		t.Errorf("gen/schema.go lacks SchemaVersion 2:\n%s", gen)
	}
	if ps, err := Check(ctx, l, CheckOptions{}, io.Discard); err != nil || len(ps) != 0 {
		t.Errorf("Check() = %v, %v", ps, err)
	}
	// Dropping a column is refused without the flag and nothing is written.
	writeFile(t, filepath.Join(root, "schema", "lab.yaml"), strings.Replace(smallSchema, `      - {name: loss, type: DOUBLE, description: "Loss."}`+"\n", "", 1)+`      - {name: steps, type: BIGINT, not_null: true, default: "0", description: "Steps."}`+"\n")
	_, err = Gen(ctx, l, GenOptions{})
	if err == nil || !strings.Contains(err.Error(), "drop column runs.loss") {
		t.Errorf("Gen() dropping a column error = %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "migrations", "00003_drop_column_runs_loss.sql")); err == nil {
		t.Errorf("a refused migration was written")
	}
	res, err = Gen(ctx, l, GenOptions{AllowDestructive: true})
	if err != nil || res.Migration != filepath.Join("migrations", "00003_drop_column_runs_loss.sql") {
		t.Errorf("Gen(--allow-destructive) = %+v, %v", res, err)
	}
	// A removed table's generated file is removed too.
	writeFile(t, filepath.Join(root, "schema", "lab.yaml"), strings.Replace(smallSchema, "runs", "experiments", -1))
	res, err = Gen(ctx, l, GenOptions{AllowDestructive: true})
	if err != nil || len(res.Removed) != 1 || res.Removed[0] != filepath.Join("gen", "runs.go") {
		t.Errorf("Gen() after replacing the table = %+v, %v", res, err)
	}
}

func TestCheckReportsStaleAndMissing(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	l := DefaultLayout(root)
	writeFile(t, filepath.Join(root, "schema", "lab.yaml"), smallSchema)
	if _, err := Gen(ctx, l, GenOptions{}); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(root, "gen", "runs.go"))
	writeFile(t, filepath.Join(root, "gen", "old_table.go"), "// Code generated by dschema from schema/x.yaml. DO NOT EDIT.\n\npackage gen\n")
	ps, err := Check(ctx, l, CheckOptions{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	want := []string{
		"gen/runs.go: missing (fix: go generate ./...)",
		"gen/old_table.go: generated for a table the schema no longer has (fix: go generate ./...)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Check() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	os.Remove(filepath.Join(root, "migrations", "dschema.sum"))
	ps, _ = Check(ctx, l, CheckOptions{}, io.Discard)
	if len(ps) != 1 || !strings.Contains(ps[0].String(), "migrations/dschema.sum: missing") {
		t.Errorf("Check() without the sum file = %v", ps)
	}
}

func TestSchemaErrorsNameTheFile(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "schema", "lab.yaml"), strings.Replace(smallSchema, "type: DOUBLE", "type: DUBBLE", 1))
	_, err := Load(context.Background(), DefaultLayout(root))
	want := `schema/lab.yaml:9:9: table "runs": column "loss": DuckDB rejects type "DUBBLE"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Load() error = %v, want %q", err, want)
	}
	writeFile(t, filepath.Join(root, "schema", "lab.yaml"), strings.Replace(smallSchema, `type: DOUBLE,`, `type: DOUBLE, default: "'abc'",`, 1))
	_, err = Load(context.Background(), DefaultLayout(root))
	if err == nil || !strings.Contains(err.Error(), `column "loss": DuckDB rejects default "'abc'"`) {
		t.Errorf("Load() with a bad default error = %v", err)
	}
}

// TestPromotionChecksCanonicalTypes: promoted_from is checked against the
// canonical types whether DuckDB made them or the cache kept them (the
// cache key does not hold promoted_from: it does not change the state).
func TestPromotionChecksCanonicalTypes(t *testing.T) {
	ctx := cache.NewContext(context.Background(), cache.New(t.TempDir()))
	root := t.TempDir()
	const table = `domain: lab
description: A small test domain.
tables:
  - name: runs
    description: Runs.
    columns:
      - {name: metrics, type: "map(text, float8)", description: "Other metrics."}
      - {name: steps, type: BIGINT, %sdescription: "Steps."}
`
	plain := fmt.Sprintf(table, "")
	promoted := fmt.Sprintf(table, "key: train/steps, promoted_from: metrics, ")
	want := `schema/lab.yaml:8:9: table "runs": column "steps": promoted_from "metrics": type BIGINT cannot hold every DOUBLE value of metrics exactly; use DOUBLE`
	for _, tt := range []struct {
		name, yaml, want string
	}{
		{"cold cache", promoted, want},
		{"fill the cache", plain, ""},
		{"warm cache", promoted, want},
	} {
		writeFile(t, filepath.Join(root, "schema", "lab.yaml"), tt.yaml)
		_, err := Load(ctx, DefaultLayout(root))
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || err.Error() != tt.want) {
			t.Errorf("%s: Load() error = %v, want %q", tt.name, err, tt.want)
		}
	}
}
