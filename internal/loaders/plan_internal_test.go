package loaders

import (
	"slices"
	"strings"
	"testing"
)

// TestOrderKinds: kinds come after those they name, the smallest ready
// kind first; an unknown kind named is ignored; a cycle is an error.
func TestOrderKinds(t *testing.T) {
	t.Parallel()
	got, err := orderKinds(map[string][]string{"c": nil, "b": {"c"}, "a": {"b", "nowhere"}, "d": nil})
	if want := []string{"c", "b", "a", "d"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("orderKinds = %v, %v; want %v", got, err, want)
	}
	if _, err := orderKinds(map[string][]string{"a": {"b"}, "b": {"a"}, "c": nil}); err == nil || !strings.Contains(err.Error(), "cycle among a, b") {
		t.Errorf("a cycle: %v", err)
	}
}

// TestConflictNamesBoth: a file two kinds claim is refused, naming both.
func TestConflictNamesBoth(t *testing.T) {
	t.Parallel()
	err := conflict("x.parquet", []kindClaim{{"a", "layout A"}, {"b", "layout B"}})
	if want := "x.parquet: claimed by more than one kind: a (layout layout A) and b (layout layout B)"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("conflict = %v, want %q…", err, want)
	}
}

// FuzzSniff: Sniff takes any head without panicking, and its answer is
// what the bytes say: PAR1 is parquet, gzip's magic is gzip, JSON starts
// with { or [ after blanks and a byte order mark.
func FuzzSniff(f *testing.F) {
	for _, s := range []string{"", "PAR1", "\x1f\x8b\x08", "\x80\x05\x95", "\x80\x01", " \n{\"a\": 1}", "\ufeff[", "\ufeff", "MZ\x90", strings.Repeat("\x00", 257) + "ustar\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		got := Sniff(head)
		switch got {
		case FormatEmpty:
			if len(head) != 0 {
				t.Errorf("%q: empty", head)
			}
		case FormatParquet:
			if !strings.HasPrefix(string(head), "PAR1") {
				t.Errorf("%q: parquet", head)
			}
		case FormatGzip:
			if len(head) < 2 || head[0] != 0x1f || head[1] != 0x8b {
				t.Errorf("%q: gzip", head)
			}
		case FormatTar:
			if len(head) < 262 || string(head[257:262]) != "ustar" {
				t.Errorf("%q: tar", head)
			}
		case FormatPickle:
			if len(head) < 2 || head[0] != 0x80 || head[1] < 2 || head[1] > 5 {
				t.Errorf("%q: pickle", head)
			}
		case FormatJSON:
			if tr := strings.TrimLeft(strings.TrimPrefix(string(head), "\ufeff"), " \t\r\n"); tr == "" || (tr[0] != '{' && tr[0] != '[') {
				t.Errorf("%q: JSON", head)
			}
		case FormatUnknown:
			if strings.HasPrefix(string(head), "PAR1") || len(head) == 0 {
				t.Errorf("%q: unknown", head)
			}
		default:
			t.Errorf("%q: %q is no format", head, got)
		}
	})
}
