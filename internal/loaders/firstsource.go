package loaders

import "fmt"

// FirstSourceKeeps is the engine's one rule for rows another source's load
// already holds: the first source to load a row keeps it, and a load of
// another source writes nothing for it and reports it. A loader finds the
// taken items its own way (a join with its staged rows, or the keys it
// gathered) and reports them through this. what names the items ("runs",
// "history of runs"), table is where they are held, and taken lists each
// item, with its holder when known ("r1 (load 3)"). It returns nil when
// nothing is taken.
func FirstSourceKeeps(what, table string, taken []string) *Skip {
	if len(taken) == 0 {
		return nil
	}
	return &Skip{What: what + " " + Examples(taken, 5), Count: int64(len(taken)),
		Reason: fmt.Sprintf("already in %s from another source (the first source to load a row keeps it)", table)}
}

// Skip adds s to the report's skipped items when it is not nil.
func (r *Report) Skip(s *Skip) {
	if s != nil {
		r.Skipped = append(r.Skipped, *s)
	}
}
