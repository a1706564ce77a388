package datadecide_test

import (
	"testing"

	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// TestConformance holds the DataDecide loader to the loader contract on
// the sample full_eval.parquet.
func TestConformance(t *testing.T) {
	t.Parallel()
	full, _, _ := loadertest.Sample(t)
	loadertest.Conformance(t, "datadecide", full)
}
