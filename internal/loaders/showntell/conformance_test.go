package showntell_test

import (
	"testing"

	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// TestConformance holds the showntell loader to the loader contract on
// both notebook pickles.
func TestConformance(t *testing.T) {
	t.Parallel()
	loadertest.Conformance(t, "showntell", loadertest.ModernizedPickle, "../../fixtures/pickles/combined_plotting_data_matched.pkl")
}
