package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDoesNotEmbedWhatItGenerates: the generator must not depend on the
// schema YAML or the migrations it reads from disk. If it did, every schema
// edit would relink it (seconds, with DuckDB linked in) and, with a new
// build ID, start from a cold cache: go generate after an edit would take
// ~15 s instead of ~2 s.
func TestDoesNotEmbedWhatItGenerates(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		switch pkg {
		case "github.com/dschema/dschema/schema", "github.com/dschema/dschema/migrations", "github.com/dschema/dschema/gen":
			t.Errorf("dschemagen depends on %s", pkg)
		}
	}
}
