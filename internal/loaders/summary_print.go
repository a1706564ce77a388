package loaders

import (
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// PrintSummary writes the outcome of the load of path as dschema load
// prints it: what was written to which table, what was kept aside or
// skipped, the notes, and when nothing was written, why.
func PrintSummary(w io.Writer, path string, s *Summary) {
	name := filepath.Base(path)
	if s.CompanionOf != "" {
		fmt.Fprintf(w, "%s: a companion of %s, which loads it with itself; nothing loaded from it alone\n", name, filepath.Base(s.CompanionOf))
		return
	}
	if s.Unchanged {
		fmt.Fprintf(w, "%s: unchanged since load %d (sha256 %.12s…, %s); nothing written\n", name, s.LoadID, s.SHA256, s.Variant)
		return
	}
	fmt.Fprintf(w, "%s: loaded as %s, layout %s: load %d in %.2fs\n", name, s.Kind, s.Variant, s.LoadID, s.Seconds)
	if s.ReplacedLoad != 0 {
		var removed []string
		for _, t := range slices.Sorted(maps.Keys(s.Removed)) {
			removed = append(removed, fmt.Sprintf("%s %d", t, s.Removed[t]))
		}
		fmt.Fprintf(w, "  replaced load %d of the same source (rows removed: %s)\n", s.ReplacedLoad, strings.Join(removed, ", "))
	}
	for _, t := range slices.Sorted(maps.Keys(s.Rows)) {
		fmt.Fprintf(w, "  %-20s %9d rows written\n", t, s.Rows[t])
	}
	for _, k := range s.Kept {
		fmt.Fprintf(w, "  kept aside: %s: %s\n", k.What, k.Reason)
	}
	for _, k := range s.Skipped {
		fmt.Fprintf(w, "  skipped: %s: %s\n", k.What, k.Reason)
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if len(s.Companions) > 0 {
		var names []string
		for _, c := range s.Companions {
			names = append(names, filepath.Base(c))
		}
		fmt.Fprintf(w, "  with companions: %s\n", strings.Join(names, ", "))
	}
	if len(s.Varying) > 0 {
		fmt.Fprintf(w, "  %d keys change type across rows (typed columns hold only exact values; the JSON keeps every value):\n", len(s.Varying))
		for _, v := range s.Varying {
			fmt.Fprintf(w, "    %s\n", v)
		}
	}
}
