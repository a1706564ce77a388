package loaders

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
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
// DataDecide seed aggregates) registers as a verifier of its own kind.
type Verifier interface {
	Kind() string
	Verify(ctx context.Context, db *sql.DB, path string, opts VerifyOptions) (Verdict, error)
}

var verifiers = map[string]Verifier{}

// RegisterVerifier makes a verification available by its kind.
func RegisterVerifier(v Verifier) { verifiers[v.Kind()] = v }

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

func init() { RegisterVerifier(DataDecideAgg{}) }

var (
	_ Verifier = DataDecide{}
	_ Verifier = DataDecideAgg{}
	_ Verdict  = (*Verification)(nil)
	_ Verdict  = (*AggCheck)(nil)
)

// Verify implements Verifier: VerifyDataDecide.
func (DataDecide) Verify(ctx context.Context, db *sql.DB, path string, opts VerifyOptions) (Verdict, error) {
	if opts.Stat != "" {
		return nil, fmt.Errorf("--stat is for %s, not for datadecide", AggKind)
	}
	if opts.MaxExamples <= 0 {
		opts.MaxExamples = 5
	}
	return VerifyDataDecide(ctx, db, path, opts.MaxExamples)
}

// AggKind is the kind of the DataDecide seed-aggregate check.
const AggKind = "datadecide-agg"

// DataDecideAgg checks a legacy mean_eval/std_eval file against the
// database's seed-aggregate views (CheckDataDecideAgg).
type DataDecideAgg struct{}

// Kind implements Verifier.
func (DataDecideAgg) Kind() string { return AggKind }

// Verify implements Verifier.
func (DataDecideAgg) Verify(ctx context.Context, db *sql.DB, path string, opts VerifyOptions) (Verdict, error) {
	return CheckDataDecideAgg(ctx, db, path, opts.Stat)
}

// Report implements Verdict.
func (v *Verification) Report(w io.Writer) {
	fmt.Fprintf(w, "%s: %d rows × %d columns compared: %d differing cells, %d rows missing from the database, %d rows missing from the file\n",
		filepath.Base(v.Path), v.Rows, v.Columns, v.Differing, v.MissingRows, v.ExtraRows)
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

// Report implements Verdict.
func (a *AggCheck) Report(w io.Writer) {
	fmt.Fprintf(w, "%s: %s of seeds, layout %s: %d groups, %d columns compared with datadecide_%s_eval\n", filepath.Base(a.Path), a.Stat, a.Variant, a.Groups, a.Columns, a.Stat)
	for _, n := range a.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	for _, k := range a.MissingGroups {
		fmt.Fprintf(w, "  group %s: in the file, not in the database\n", k)
	}
	if n := a.Missing - int64(len(a.MissingGroups)); n > 0 {
		fmt.Fprintf(w, "  … and %d more groups in the file, not in the database\n", n)
	}
	if a.ExtraGroups > 0 {
		fmt.Fprintf(w, "  %d groups in the database are not in the file\n", a.ExtraGroups)
	}
	for _, d := range a.Disagreements {
		fmt.Fprintf(w, "  %s: %s: file %s, database %s\n", d.Key, d.Column, d.File, d.DB)
	}
	if n := a.Differing - int64(len(a.Disagreements)); n > 0 {
		fmt.Fprintf(w, "  … and %d more differing cells (%d shown)\n", n, len(a.Disagreements))
	}
	if a.OK() {
		fmt.Fprintf(w, "  agrees with the database (relative tolerance %g)\n", RelTolerance)
	} else {
		fmt.Fprintf(w, "  %d disagreements beyond %g relative\n", a.Differing, RelTolerance)
	}
}
