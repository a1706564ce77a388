package qa_test

import (
	"testing"

	"github.com/dschema/dschema/internal/loaders/loadertest"
	"github.com/dschema/dschema/internal/loaders/qa"
)

// TestConformance holds the QA loader to the loader contract on a recipe
// tarball and an OLMES dump folder.
func TestConformance(t *testing.T) {
	t.Parallel()
	l := qaLayouts(t, t.TempDir())
	loadertest.Conformance(t, qa.Kind, l["recipe tarball"], l["olmes folder"])
}
