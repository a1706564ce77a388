package docs_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dschema/dschema/internal/cache"
	"github.com/dschema/dschema/internal/docs"
	"github.com/dschema/dschema/internal/project"
)

// dictionaryFile is the committed output of dschema docs.
var dictionaryFile = filepath.Join("..", "..", "docs", "dictionary.md")

// TestDictionaryFresh keeps docs/dictionary.md equal to what dschema docs
// renders: the embedded schema with DuckDB's canonical types, as the docs
// command loads it.
func TestDictionaryFresh(t *testing.T) {
	// Canonical types come from DuckDB; the memory-only cache keeps the
	// test off the user's disk cache.
	ctx := cache.NewContext(context.Background(), cache.MemoryOnly())
	s, err := docs.CanonicalSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := docs.Write(&got, s); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(dictionaryFile)
	if err != nil {
		t.Fatalf("%v; write it with: go run ./cmd/dschema docs > docs/dictionary.md", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("docs/dictionary.md is stale%s; regenerate it with: go run ./cmd/dschema docs > docs/dictionary.md",
			project.FirstDiff(want, got.Bytes()))
	}
}
