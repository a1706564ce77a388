package wandb_test

import (
	"testing"

	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// TestMain removes the shared fixtures and the migrated template when the
// tests end.
func TestMain(m *testing.M) { loadertest.Main(m) }
