package loaders_test

import (
	"os"
	"testing"

	"github.com/dschema/dschema/internal/labtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	labtest.Cleanup()
	os.Exit(code)
}
