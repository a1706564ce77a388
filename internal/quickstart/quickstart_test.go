package quickstart

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestRunNeedsADatabase: without a database name Run refuses before it
// writes anything (the sample would otherwise land in ./.sample).
func TestRunNeedsADatabase(t *testing.T) {
	var out strings.Builder
	err := Run(context.Background(), Options{Out: &out})
	if err == nil || !strings.Contains(err.Error(), "--db is empty") {
		t.Errorf("Run(no DB) = %v, want the empty --db refused", err)
	}
	if out.Len() != 0 {
		t.Errorf("Run(no DB) wrote %q", out.String())
	}
	if _, err := os.Stat(".sample"); err == nil {
		t.Errorf("Run(no DB) wrote ./.sample")
	}
}
