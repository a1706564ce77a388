package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"1048576", 1 << 20},
		{"1GiB", 1 << 30},
		{" 1.5 MiB ", 3 << 19},
		{"500MB", 500e6},
		{"2KB", 2000},
		{"4KiB", 4096},
		{"10B", 10},
	} {
		if got, err := parseSize(tt.in); err != nil || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "0", "0.5", "-1MB", "lots", "1TB"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}

// TestRunRefusesBeforeWriting: an unknown kind, no runs or no rows are
// refused before anything is generated.
func TestRunRefusesBeforeWriting(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		o    Options
		want string
	}{
		{"unknown kind", Options{Kind: "csv", Rows: 1, Runs: 1}, `bench knows datadecide, wandb-history and qa-outputs, not "csv"`},
		{"no runs", Options{Kind: "datadecide", Rows: 1}, "--runs must be at least 1"},
		{"no rows", Options{Kind: "datadecide", Runs: 1}, "--rows 0: give a number of rows of at least 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			dir := t.TempDir()
			tt.o.Dir, tt.o.Out = filepath.Join(dir, "bench"), &out
			err := Run(context.Background(), tt.o)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Run(%s) = %v, want %q", tt.name, err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("Run(%s) wrote %q", tt.name, out.String())
			}
			if _, err := os.Stat(tt.o.Dir); err == nil {
				t.Errorf("Run(%s) made %s", tt.name, tt.o.Dir)
			}
		})
	}
}
