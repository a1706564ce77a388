package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/loaders/qa"
)

// TestQALoadMemoryLimit: load qa-outputs runs DuckDB under qa.MemoryLimit
// unless --memory-limit is given. A 32 MB prediction line (the loader
// takes lines up to 64 MB) needs more: under the default the load fails
// naming the limit it ran under (128MB, which DuckDB writes 122.0 MiB)
// and --memory-limit; with --memory-limit 2GB it loads. (Under 128MB a
// 16 MB line loads and a 24 MB one fails.)
func TestQALoadMemoryLimit(t *testing.T) {
	t.Parallel()
	if qa.MemoryLimit != "128MB" {
		t.Fatalf("qa.MemoryLimit = %q: update this test and README", qa.MemoryLimit)
	}
	root := filepath.Join(t.TempDir(), "c4_4M_14")
	if err := os.MkdirAll(filepath.Join(root, "step-1250"), 0o755); err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf(`{"doc_id": 0, "native_id": "a", "label": 0, "metrics": {}, "model_output": [], "pad": "%s"}`+"\n", strings.Repeat("x", 32<<20))
	if err := os.WriteFile(filepath.Join(root, "step-1250", "arc_easy-predictions.jsonl"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	db := migratedDB(t)
	out, errs, code := runCmd(t, "load", "qa-outputs", root, "--db", db)
	if code == 0 || !strings.Contains(errs, "under its memory limit of 122.0 MiB") || !strings.Contains(errs, "raise --memory-limit") {
		t.Errorf("load under the default = exit %d, %.300s %.600s; want a failure naming 122.0 MiB and --memory-limit", code, out, errs)
	}
	out, errs, code = runCmd(t, "load", "qa-outputs", root, "--db", db, "--memory-limit", "2GB")
	if code != 0 || !strings.Contains(out, "qa_question_outputs          1 rows written") {
		t.Errorf("load with --memory-limit 2GB = exit %d, %.300s %.600s", code, out, errs)
	}
}
