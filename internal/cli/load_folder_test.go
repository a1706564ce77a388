package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// folderResult is the part of load --json's FolderSummary the test reads.
type folderResult struct {
	DryRun bool `json:"dry_run"`
	Files  []struct {
		Path   string `json:"path"`
		Kind   string `json:"kind"`
		Action string `json:"action"`
		Result string `json:"result"`
		Error  string `json:"error"`
		Rows   int64  `json:"rows_written"`
	} `json:"files"`
	Totals map[string]int64 `json:"totals"`
}

// TestLoadFolderCommand: dschema load <folder> without a kind, through the
// command: --dry-run --json plans every file (refusing a second copy of a
// content), exits non-zero for that, and writes nothing; a run
// loads and checks what it recognises, goes on past a failed file, prints
// one JSON summary and exits non-zero; the options that name one file's
// source or statistic are refused without a kind.
func TestLoadFolderCommand(t *testing.T) {
	t.Parallel()
	full, _, _ := sampleFiles(t)
	dir := filepath.Dir(full)
	body, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"notes.txt": []byte("not data\n"), ".hidden": []byte("x"), "zz-copy.parquet": body} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := migratedDB(t)
	before := dbState(t, db)

	want := map[string][2]string{ // base name: kind, action
		"full_eval.parquet": {"datadecide", "load"}, "zz-copy.parquet": {"datadecide", "refused"}, // the same content as full_eval's
		"mean_eval.parquet": {"datadecide-agg", "check"}, "std_eval.parquet": {"datadecide-agg", "check"},
		"notes.txt": {"", "not recognised"}, ".hidden": {"", "skipped"},
	}
	out, errs, code := runCmd(t, "load", dir, "--dry-run", "--json", "--db", db)
	var plan folderResult
	// A plan that refuses a file exits non-zero, and says so.
	if err := json.Unmarshal([]byte(out), &plan); code == 0 || errs != "dschema: 1 of 6 files would be refused\n" || err != nil || !plan.DryRun || len(plan.Files) != len(want) {
		t.Fatalf("load --dry-run --json = %q %q, exit %d (%v)", out, errs, code, err)
	}
	for _, f := range plan.Files {
		if w := want[filepath.Base(f.Path)]; f.Kind != w[0] || f.Action != w[1] {
			t.Errorf("plan of %s: kind %q action %q, want %q %q", f.Path, f.Kind, f.Action, w[0], w[1])
		}
	}
	if after := dbState(t, db); after != before {
		t.Errorf("--dry-run changed the database:\n%s\nthen\n%s", before, after)
	}

	out, errs, code = runCmd(t, "load", dir, "--json", "--db", db)
	var run folderResult
	if err := json.Unmarshal([]byte(out), &run); code == 0 || err != nil || run.DryRun {
		t.Fatalf("load --json of a folder with a duplicate = %q %q, exit %d (%v)", out, errs, code, err)
	}
	results := map[string]string{}
	for _, f := range run.Files {
		results[filepath.Base(f.Path)] = f.Result
		if f.Result == "failed" && !strings.Contains(f.Error, "already loaded") {
			t.Errorf("%s failed with %q, want the same-content refusal", f.Path, f.Error)
		}
	}
	wantResults := map[string]string{"full_eval.parquet": "loaded", "zz-copy.parquet": "failed", "mean_eval.parquet": "agrees",
		"std_eval.parquet": "agrees", "notes.txt": "not loaded", ".hidden": "not loaded"}
	for name, r := range wantResults {
		if results[name] != r {
			t.Errorf("result of %s = %q, want %q (all: %v)", name, results[name], r, results)
		}
	}
	if run.Totals["files"] != 6 || run.Totals["failed"] != 1 || run.Totals["loaded"] != 1 || run.Totals["agrees"] != 2 {
		t.Errorf("totals = %v", run.Totals)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"load", dir, "--source", "x"}, "dschema: --source names the source of one file given with its kind"},
		{[]string{"load", dir, "--stat", "mean"}, "dschema: --stat is for dschema load datadecide-agg <file>"},
		{[]string{"load", "datadecide", full, "--dry-run"}, "dschema: --dry-run is for dschema load <path>... without a kind"},
	} {
		_, errs, code := runCmd(t, append(tt.args, "--db", db)...)
		if code == 0 || !strings.HasPrefix(errs, tt.want) {
			t.Errorf("%v = %q, exit %d; want %q", tt.args, errs, code, tt.want)
		}
	}
}
