package loaders

import (
	"errors"
	"testing"
)

// TestOutOfMemory: both of DuckDB's ways of running out of memory get the
// --memory-limit hint; other errors do not.
func TestOutOfMemory(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		msg  string
		want bool
	}{
		{"Out of Memory Error: failed to pin block of size 256.0 KiB (244.1 MiB/244.1 MiB used)", true},
		{"Invalid Input Error: failed to allocate data of size 64.0 MiB (244.1 MiB/244.1 MiB used)", true},
		{"Constraint Error: Duplicate key", false},
	} {
		if got := outOfMemory(errors.New(tt.msg)); got != tt.want {
			t.Errorf("outOfMemory(%q) = %v, want %v", tt.msg, got, tt.want)
		}
	}
}
