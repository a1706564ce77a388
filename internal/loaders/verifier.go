package loaders

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Verdict is the outcome of comparing a source with the database.
type Verdict interface {
	// OK reports whether the source and the database agree.
	OK() bool
	// Report writes the human form (--json marshals the Verdict itself).
	Report(w io.Writer)
}

// VerifyOptions tune a verification.
type VerifyOptions struct {
	MaxExamples int    // differing cells to list (0: a default)
	Stat        string // datadecide-agg: "mean" or "std" ("" reads it from the file name)
}

// Verifier compares a source file with the database, value for value, and
// stores nothing. A loader that can check what it loaded declares it by
// implementing Verifier; a check of a file that is not loaded (the
// Loader seed aggregates) registers as a verifier of its own kind.
type Verifier interface {
	Kind() string
	Verify(ctx context.Context, db *sql.DB, path string, opts VerifyOptions) (Verdict, error)
}

// StatReader is a Verifier that reads VerifyOptions.Stat (the other
// verifiers refuse it).
type StatReader interface {
	ReadsStat() bool
}

var verifiers = map[string]Verifier{}

// RegisterVerifier makes a verification of a file that is not loaded (a
// check) available by its kind. Like Register, it panics when the kind is
// empty or taken.
func RegisterVerifier(v Verifier) {
	claim("RegisterVerifier", v.Kind(), v)
	verifiers[v.Kind()] = v
}

// CheckKinds lists the registered verifiers that are not loaders (checks
// of files that are never loaded, such as the DataDecide seed aggregates),
// sorted.
func CheckKinds() []string { return slices.Sorted(maps.Keys(verifiers)) }

// IsCheck reports whether kind is a registered check (CheckKinds).
func IsCheck(kind string) bool {
	_, ok := verifiers[kind]
	return ok
}

// StatKinds lists the kinds whose verifier reads VerifyOptions.Stat.
func StatKinds() []string {
	var out []string
	for _, k := range VerifierKinds() {
		if v, err := LookupVerifier(k); err == nil {
			if s, ok := v.(StatReader); ok && s.ReadsStat() {
				out = append(out, k)
			}
		}
	}
	return out
}

// VerifierKinds lists the kinds that can be verified: every registered
// loader that implements Verifier, and every registered verifier, sorted.
func VerifierKinds() []string {
	seen := map[string]bool{}
	for k, l := range registry {
		if _, ok := l.(Verifier); ok {
			seen[k] = true
		}
	}
	for k := range verifiers {
		seen[k] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// LookupVerifier returns the verification of a kind.
func LookupVerifier(kind string) (Verifier, error) {
	if v, ok := verifiers[kind]; ok {
		return v, nil
	}
	if l, ok := registry[kind]; ok {
		if v, ok := l.(Verifier); ok {
			return v, nil
		}
	}
	return nil, fmt.Errorf("verify knows the kinds %s, not %q", strings.Join(VerifierKinds(), ", "), kind)
}

var _ Verdict = (*Verification)(nil)

// Report implements Verdict.
func (v *Verification) Report(w io.Writer) {
	fmt.Fprintf(w, "%s: %d rows × %d columns compared: %d differing cells, %d rows missing from the database, %d rows missing from the file\n",
		filepath.Base(v.Path), v.Rows, v.Columns, v.Differing, v.MissingRows, v.ExtraRows)
	if v.SharedKeys > 0 {
		fmt.Fprintf(w, "  %d more database rows with a key another row has: %s\n", v.SharedKeys, strings.Join(v.SharedKeyExamples, "; "))
	}
	for _, d := range v.Examples {
		fmt.Fprintf(w, "  %s: %s: file %s, database %s\n", d.Key, d.Column, d.File, d.DB)
	}
	if len(v.Skipped) > 0 {
		fmt.Fprintf(w, "  not compared (non-numeric, not in the schema): %s\n", strings.Join(v.Skipped, ", "))
	}
	for _, n := range v.NotCompared {
		fmt.Fprintf(w, "  not compared: %s\n", n)
	}
	if len(v.NotInFile) > 0 {
		fmt.Fprintf(w, "  not compared (in the database's layout, not in the file): %s\n", strings.Join(v.NotInFile, ", "))
	}
}
