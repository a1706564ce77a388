package loaders

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
)

// The results of a file in a run of a plan.
const (
	ResultLoaded    = "loaded"
	ResultUnchanged = "unchanged"
	ResultReplaced  = "replaced"
	ResultAgrees    = "agrees"
	ResultDisagrees = "disagrees"
	ResultFailed    = "failed"
	ResultNotLoaded = "not loaded" // a companion, a skipped or an unrecognised file
)

// FileResult is one file of a run: its plan entry, what happened, and
// the load's summary or the check's verdict.
type FileResult struct {
	*PlanEntry
	Result      string   `json:"result"`
	Rows        int64    `json:"rows_written"`
	LoadID      int64    `json:"load_id,omitempty"`
	Error       string   `json:"error,omitempty"`
	Place       string   `json:"place,omitempty"`        // of an input problem (FileError)
	AfterFailed []string `json:"after_failed,omitempty"` // files of the kinds it comes after whose load failed
	Load        *Summary `json:"load,omitempty"`
	Check       Verdict  `json:"check,omitempty"`
}

// FolderSummary is the outcome of dschema load without a kind: one result
// per file of the plan, and the totals (files, and the count of each
// result; for a dry run, of each action).
type FolderSummary struct {
	DryRun bool             `json:"dry_run"`
	Files  []*FileResult    `json:"files"`
	Totals map[string]int64 `json:"totals"`
}

// OK reports whether no file failed and no check disagreed (unrecognised
// and skipped files are listed, and are not failures).
func (s *FolderSummary) OK() bool {
	return s.Totals[ResultFailed] == 0 && s.Totals[ResultDisagrees] == 0 && s.Totals[string(ActionRefused)] == 0
}

// DryRun is the summary of a plan that is not run: its totals count the actions.
func DryRun(p *Plan) *FolderSummary {
	s := &FolderSummary{DryRun: true, Files: []*FileResult{}, Totals: map[string]int64{"files": int64(len(p.Entries))}}
	for _, en := range p.Entries {
		s.Files = append(s.Files, &FileResult{PlanEntry: en})
		s.Totals[string(en.Action)]++
	}
	return s
}

// RunOptions tune the run of a plan.
type RunOptions struct {
	// Load is the options of every load (Strict, SourceTZ, MemoryLimit,
	// the test hook); Source is the plan's. SourceTZ goes only to the
	// kinds that read it.
	Load Options
	// MemoryLimitSet says the user named Load.MemoryLimit; otherwise each
	// load runs under its kind's DefaultMemoryLimit.
	MemoryLimitSet bool
	// Start, when set, is called before each load or check and may set
	// its progress reporting in o; the function it returns is called after.
	Start func(path string, o *Options) (done func())
	// Each, when set, is told each file's result as it comes.
	Each func(r *FileResult)
}

// Run runs a plan: each file to load is its own Engine.Load transaction,
// each check its kind's Verify, in the plan's order. A failed file does
// not stop the others; a file whose kind comes after the kind of a failed
// one is still tried (the database may hold what it needs from an earlier
// load), and its result names the failed files. An interrupt stops the
// run: the error wraps ErrInterrupted, and the summary holds the files
// done.
func (e *Engine) Run(ctx context.Context, p *Plan, o RunOptions) (*FolderSummary, error) {
	s := &FolderSummary{Files: []*FileResult{}, Totals: map[string]int64{"files": int64(len(p.Entries))}}
	failed := map[string][]string{} // kind -> its failed files
	for _, en := range p.Entries {
		r := &FileResult{PlanEntry: en, Result: ResultNotLoaded}
		for _, k := range afterOf(lookupAny(en.Kind)) {
			r.AfterFailed = append(r.AfterFailed, failed[k]...)
		}
		e.runEntry(ctx, r, o)
		if ctx.Err() != nil {
			return s, fmt.Errorf("%w (%w)", ErrInterrupted, ctx.Err())
		}
		if r.Result == ResultFailed && en.Kind != "" {
			failed[en.Kind] = append(failed[en.Kind], en.Path)
		}
		s.Files = append(s.Files, r)
		s.Totals[r.Result]++
		s.Totals[totalRows] += r.Rows
		if o.Each != nil {
			o.Each(r)
		}
	}
	return s, nil
}

// lookupAny is the loader or check of kind, or nil.
func lookupAny(kind string) any {
	if l, ok := registry[kind]; ok {
		return l
	}
	if v, ok := verifiers[kind]; ok {
		return v
	}
	return nil
}

// runEntry loads or checks one file of a plan, filling r.
func (e *Engine) runEntry(ctx context.Context, r *FileResult, o RunOptions) {
	switch r.Action {
	case ActionRefused:
		r.Result, r.Error = ResultFailed, r.Path+": "+r.Detail
		return
	case ActionLoad, ActionUnchanged, ActionReplace, ActionCheck:
	default:
		return
	}
	opts := o.Load
	opts.Source = r.Source
	if !o.MemoryLimitSet {
		opts.MemoryLimit = DefaultMemoryLimit(r.Kind)
	}
	if checkOptions(r.Kind, registry[r.Kind], Options{SourceTZ: opts.SourceTZ}) != nil {
		opts.SourceTZ = ""
	}
	if o.Start != nil {
		done := o.Start(r.Path, &opts)
		defer done()
	}
	if r.Action == ActionCheck {
		e.check(ctx, r)
		return
	}
	s, err := e.Load(ctx, r.Kind, r.Path, opts)
	if err != nil {
		r.fail(err)
		return
	}
	r.Load, r.LoadID, r.Layout = s, s.LoadID, s.Variant
	for _, n := range s.Rows {
		r.Rows += n
	}
	switch {
	case s.Unchanged:
		r.Result, r.Action, r.Detail = ResultUnchanged, ActionUnchanged, fmt.Sprintf("since load %d", s.LoadID)
	case s.ReplacedLoad != 0:
		r.Result, r.Action, r.Detail = ResultReplaced, ActionReplace, fmt.Sprintf("load %d", s.ReplacedLoad)
	default:
		r.Result, r.Action, r.Detail = ResultLoaded, ActionLoad, ""
	}
}

// check runs the check of r's kind on its file, as dschema load <check kind> does.
func (e *Engine) check(ctx context.Context, r *FileResult) {
	v, err := LookupVerifier(r.Kind)
	if err != nil {
		r.fail(err)
		return
	}
	verdict, err := v.Verify(ctx, e.DB, r.Path, VerifyOptions{})
	if err != nil {
		r.fail(err)
		return
	}
	r.Check, r.Result = verdict, ResultAgrees
	if !verdict.OK() {
		r.Result = ResultDisagrees
	}
}

// fail records err as r's failure, with the place of an input problem.
func (r *FileResult) fail(err error) {
	r.Result, r.Error = ResultFailed, FirstLine(err.Error())
	var fe *FileError
	if errors.As(err, &fe) {
		r.Place = fe.Place
	}
}

// PrintPlan writes a plan, one line per file: path, kind, layout, action.
func PrintPlan(w io.Writer, s *FolderSummary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tKIND\tLAYOUT\tACTION")
	for _, r := range s.Files {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Path, orDash(r.Kind), orDash(r.Layout), r.ActionText())
	}
	tw.Flush()
	fmt.Fprintln(w, totalsLine(s))
}

// PrintResult writes one file's result as it comes: a load's summary as
// dschema load <kind> prints it, a check's report, or the failure.
func PrintResult(w io.Writer, r *FileResult) {
	switch {
	case r.Load != nil:
		PrintSummary(w, r.Path, r.Load)
	case r.Check != nil:
		r.Check.Report(w)
	case r.Result == ResultFailed:
		fmt.Fprintf(w, "%s: failed: %s\n", filepath.Base(r.Path), r.Error)
	}
	if len(r.AfterFailed) > 0 {
		fmt.Fprintf(w, "  note: tried after the failed load of %s, which its kind comes after\n", strings.Join(r.AfterFailed, ", "))
	}
}

// PrintFolderSummary writes the summary at the end of a run: each file
// with its kind, action, result and rows, each failure with its error,
// and the totals.
func PrintFolderSummary(w io.Writer, s *FolderSummary) {
	fmt.Fprintln(w, "\nSummary:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tKIND\tACTION\tRESULT\tROWS")
	for _, r := range s.Files {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", r.Path, orDash(r.Kind), r.ActionText(), r.Result, r.Rows)
	}
	tw.Flush()
	for _, r := range s.Files {
		if r.Result == ResultFailed {
			fmt.Fprintf(w, "failed: %s\n", r.Error)
		}
	}
	fmt.Fprintln(w, totalsLine(s))
}

// totalRows is the totals' key of the rows written by every load.
const totalRows = "rows_written"

// totalsLine is "9 files: 2 agrees, 7 loaded; 663 rows written".
func totalsLine(s *FolderSummary) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.Totals)) {
		if k != "files" && k != totalRows && s.Totals[k] != 0 {
			parts = append(parts, fmt.Sprintf("%d %s", s.Totals[k], k))
		}
	}
	line := fmt.Sprintf("%d files: %s", s.Totals["files"], strings.Join(parts, ", "))
	if !s.DryRun {
		line += fmt.Sprintf("; %d rows written", s.Totals[totalRows])
	}
	return line
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
