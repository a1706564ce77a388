package loaders

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Action is what a plan does with a file.
type Action string

// The actions of a plan.
const (
	ActionLoad         Action = "load"           // a new source
	ActionUnchanged    Action = "unchanged"      // the same source and content are loaded (Detail: since load N)
	ActionReplace      Action = "replace"        // the same source with other content (Detail: load N)
	ActionCheck        Action = "check"          // a check kind's file (RegisterVerifier): compared, not loaded
	ActionPart         Action = "part"           // a Bundler's companion (Detail: of the main file)
	ActionSkip         Action = "skipped"        // hidden, a symbolic link, not a regular file (Detail: why)
	ActionUnrecognised Action = "not recognised" // no kind claims it (Detail: why)
	ActionRefused      Action = "refused"        // it cannot be loaded as it is (Detail: why); a failure
	hiddenReason              = "hidden (its name starts with a dot): not walked; give its path to load it"
	symlinkReason             = "symbolic link: not followed; give its target's path to load it"
)

// PlanEntry is one file (or folder) of a plan.
type PlanEntry struct {
	Path   string `json:"path"`             // the root given, joined with the path under it
	Kind   string `json:"kind,omitempty"`   // "" when nothing claims it
	Layout string `json:"layout,omitempty"` // as the kind's recognizer tells it
	Action Action `json:"action"`
	Detail string `json:"detail,omitempty"` // the load, the main file, or the reason
	Source string `json:"source,omitempty"` // the source name PlanOptions.SourceFor gave ("" for the absolute path)

	sum string // the source's sha256, in a hashed plan
}

// ActionText is the action as a plan line shows it: "load",
// "unchanged since load 3", "part of runs_metadata.parquet", "not
// recognised: empty file".
func (p *PlanEntry) ActionText() string {
	switch p.Action {
	case ActionUnchanged, ActionReplace, ActionPart:
		return string(p.Action) + " " + p.Detail
	case ActionSkip, ActionUnrecognised, ActionRefused:
		return string(p.Action) + ": " + p.Detail
	}
	if p.Detail != "" {
		return string(p.Action) + " (" + p.Detail + ")"
	}
	return string(p.Action)
}

// Plan is what dschema load without a kind does, file by file, in the
// order it does it.
type Plan struct {
	Entries []*PlanEntry `json:"files"`
}

// PlanOptions tune a plan.
type PlanOptions struct {
	// Hash hashes each source and reads dschema_loads for its action
	// (unchanged, replace, or refused when another source holds the same
	// content), as --dry-run shows it; otherwise a source is planned as
	// load, and its load says what it was.
	Hash bool
	// SourceTZ is the --source-tz of the loads, for the kinds that read it
	// (a history read with another zone is another content).
	SourceTZ string
	// SourceFor, when set, names the source of a file or folder found
	// under a root by its path relative to the root (slash-separated; a
	// root that is itself a file is its base name); "" keeps the absolute
	// path.
	SourceFor func(rel string) string
}

// planner builds a plan on one connection.
type planner struct {
	e     *Engine
	conn  *sql.Conn
	opts  PlanOptions
	plan  *Plan
	order map[string]int // rank of each kind
}

// Plan walks roots (files and folders) and says what loading them without
// a kind does with each file, in dependency order, writing nothing. In a
// folder, a DirLoader's recognizer may claim a whole folder (then the walk
// does not descend into it); hidden files and folders (a name starting
// with a dot) and symbolic links are not walked and get a line saying so;
// a root given by its path is read whatever its name, a link followed.
func (e *Engine) Plan(ctx context.Context, roots []string, opts PlanOptions) (*Plan, error) {
	kinds, err := KindOrder()
	if err != nil {
		return nil, err
	}
	if _, err := e.Prepare(ctx); err != nil {
		return nil, err
	}
	conn, err := e.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	pl := &planner{e: e, conn: conn, opts: opts, plan: &Plan{}, order: map[string]int{}}
	for i, k := range kinds {
		pl.order[k] = i
	}
	for _, root := range roots {
		if err := pl.root(ctx, root); err != nil {
			return nil, err
		}
	}
	pl.sort()
	pl.sameContent()
	return pl.plan, nil
}

// sameContent refuses, in a hashed plan, a source whose content an earlier
// source of the plan loads, as its load would be refused (the same content
// is loaded once).
func (pl *planner) sameContent() {
	first := map[[2]string]string{}
	for _, en := range pl.plan.Entries {
		if en.sum == "" || (en.Action != ActionLoad && en.Action != ActionReplace) {
			continue
		}
		k := [2]string{en.Kind, en.sum}
		if p, ok := first[k]; ok {
			en.Action, en.Detail = ActionRefused, fmt.Sprintf("the same content (sha256 %.12s…) as %s, which this plan loads first: the same content is loaded once", en.sum, p)
			continue
		}
		first[k] = en.Path
	}
}

// root plans one root given on the command line.
func (pl *planner) root(ctx context.Context, root string) error {
	fi, err := os.Stat(root)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			msg = "no such file or folder"
		}
		pl.add(&PlanEntry{Path: root, Action: ActionRefused, Detail: msg})
		return nil
	}
	if !fi.IsDir() {
		return pl.file(ctx, root, filepath.Base(root), fi.Size())
	}
	claimed, err := pl.dir(ctx, root, ".")
	if err != nil || claimed {
		return err
	}
	return pl.walk(ctx, root, root)
}

// walk plans what is under dir, a folder under root that no kind claimed.
func (pl *planner) walk(ctx context.Context, root, dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		pl.add(&PlanEntry{Path: dir, Action: ActionRefused, Detail: "cannot read the folder: " + err.Error()})
		return nil
	}
	for _, d := range ents {
		p := filepath.Join(dir, d.Name())
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		switch {
		case strings.HasPrefix(d.Name(), "."):
			pl.add(&PlanEntry{Path: p, Action: ActionSkip, Detail: hiddenReason})
		case d.Type()&fs.ModeSymlink != 0:
			pl.add(&PlanEntry{Path: p, Action: ActionSkip, Detail: symlinkReason})
		case d.IsDir():
			claimed, err := pl.dir(ctx, p, rel)
			if err != nil {
				return err
			}
			if !claimed {
				if err := pl.walk(ctx, root, p); err != nil {
					return err
				}
			}
		case !d.Type().IsRegular():
			pl.add(&PlanEntry{Path: p, Action: ActionSkip, Detail: fmt.Sprintf("not a regular file (%v)", d.Type())})
		default:
			fi, err := d.Info()
			if err != nil {
				pl.add(&PlanEntry{Path: p, Action: ActionRefused, Detail: err.Error()})
				continue
			}
			if err := pl.file(ctx, p, rel, fi.Size()); err != nil {
				return err
			}
		}
	}
	return nil
}

// dir asks the recognizers whether the folder at p is one source, and
// plans it when one claims it.
func (pl *planner) dir(ctx context.Context, p, rel string) (bool, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return false, err
	}
	probe := &Probe{Path: abs, Format: FormatDir, Conn: pl.conn}
	claims, err := recognize(ctx, probe)
	if err != nil || len(claims) == 0 {
		return false, err
	}
	others, err := pl.othersInside(ctx, abs, claims)
	if err != nil {
		return false, err
	}
	if len(others) > 0 {
		// Not one source: its other files are planned by the walk, and
		// the folder's own files are not loaded, which is a failure.
		pl.add(&PlanEntry{Path: p, Kind: claims[0].kind, Layout: claims[0].layout, Action: ActionRefused,
			Detail: fmt.Sprintf("a %s folder that also holds files of other kinds (%s): not loaded as one source (move them apart, or load it with dschema load %s <folder>)",
				claims[0].kind, strings.Join(others, ", "), claims[0].kind)})
		return false, nil
	}
	return true, pl.claimed(ctx, p, rel, claims)
}

// maxOthers is how many of another kind's files othersInside names.
const maxOthers = 3

// othersInside names (up to maxOthers) the files under dir, hidden ones
// and symbolic links left out as the walk leaves them out, that a kind
// other than the folder's claimants claims.
func (pl *planner) othersInside(ctx context.Context, dir string, claims []kindClaim) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil // the load of the folder names what it cannot read
		case p == dir:
			return nil
		case strings.HasPrefix(d.Name(), "."):
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		case !d.Type().IsRegular():
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		probe, err := newProbe(p, fi.Size(), pl.conn)
		if err != nil {
			return nil
		}
		got, err := recognize(ctx, probe)
		if err != nil {
			return err
		}
		for _, c := range got {
			if !slices.ContainsFunc(claims, func(k kindClaim) bool { return k.kind == c.kind }) {
				rel, _ := filepath.Rel(dir, p)
				out = append(out, fmt.Sprintf("%s: %s", filepath.ToSlash(rel), c.kind))
				break
			}
		}
		if len(out) >= maxOthers {
			return filepath.SkipAll
		}
		return nil
	})
	return out, err
}

// file plans the regular file at p (rel under its root).
func (pl *planner) file(ctx context.Context, p, rel string, size int64) error {
	abs, err := filepath.Abs(p)
	if err != nil {
		return err
	}
	part, kind, err := pl.partOf(ctx, abs)
	if err != nil {
		return err
	}
	if part != "" {
		pl.add(&PlanEntry{Path: p, Kind: kind, Action: ActionPart, Detail: "of " + filepath.Base(part)})
		return nil
	}
	probe, err := newProbe(abs, size, pl.conn)
	if err != nil {
		pl.add(&PlanEntry{Path: p, Action: ActionRefused, Detail: err.Error()})
		return nil
	}
	claims, err := recognize(ctx, probe)
	if err != nil {
		return err
	}
	if len(claims) == 0 {
		why, damaged := unrecognised(ctx, probe)
		action := ActionUnrecognised
		if damaged {
			action = ActionRefused
		}
		pl.add(&PlanEntry{Path: p, Action: action, Detail: why})
		return nil
	}
	return pl.claimed(ctx, p, rel, claims)
}

// partOf names the main file whose companion abs is, and the main file's
// kind: a Bundler's PartOf, when that kind's recognizer claims the main
// file (a full_eval_summary.parquet beside a DataDecide full_eval.parquet
// is no W&B runs companion).
func (pl *planner) partOf(ctx context.Context, abs string) (main, kind string, err error) {
	for _, k := range Kinds() {
		b, ok := registry[k].(Bundler)
		if !ok {
			continue
		}
		m := b.PartOf(abs)
		r, ok := registry[k].(Recognizer)
		if m == "" || !ok {
			continue
		}
		fi, err := os.Stat(m)
		if err != nil {
			continue
		}
		probe, err := newProbe(m, fi.Size(), pl.conn)
		if err != nil {
			continue // the main file's own line says why
		}
		layout, err := r.Recognize(ctx, probe)
		if err != nil {
			return "", "", err
		}
		if layout != "" {
			return m, k, nil
		}
	}
	return "", "", nil
}

// claimed plans a file or folder the recognizers claimed.
func (pl *planner) claimed(ctx context.Context, p, rel string, claims []kindClaim) error {
	if len(claims) > 1 {
		pl.add(&PlanEntry{Path: p, Action: ActionRefused, Detail: strings.TrimPrefix(conflict(p, claims).Error(), p+": ")})
		return nil
	}
	en := &PlanEntry{Path: p, Kind: claims[0].kind, Layout: claims[0].layout, Action: ActionLoad}
	if pl.opts.SourceFor != nil {
		en.Source = pl.opts.SourceFor(rel)
	}
	pl.add(en)
	if IsCheck(en.Kind) {
		en.Action = ActionCheck
		return nil
	}
	if !pl.opts.Hash {
		return nil
	}
	return pl.standing(ctx, en)
}

// standing sets a load entry's action from dschema_loads: it hashes the
// source as Engine.Load does and reads what is loaded from it.
func (pl *planner) standing(ctx context.Context, en *PlanEntry) error {
	loader := registry[en.Kind]
	abs, size, isDir, err := statSource(loader, en.Path)
	if err != nil {
		en.Action, en.Detail = ActionRefused, fileMsg(err)
		return nil
	}
	_, _, sum, _, err := hashed(ctx, loader, abs, size, isDir, nil)
	if err != nil {
		en.Action, en.Detail = ActionRefused, fileMsg(err)
		return nil
	}
	en.sum = sum
	key := en.Source
	if key == "" {
		key = abs
	}
	tz := ""
	if checkOptions(en.Kind, loader, Options{SourceTZ: pl.opts.SourceTZ}) == nil {
		tz = pl.opts.SourceTZ
	}
	st, err := standingOf(ctx, pl.conn, en.Kind, key, sum, tz)
	switch {
	case err != nil:
		return err
	case st.unchanged:
		en.Action, en.Detail = ActionUnchanged, fmt.Sprintf("since load %d", st.prior)
	case st.elsewhere != 0:
		en.Action, en.Detail = ActionRefused, fileMsg(st.elsewhereError(en.Path, sum))
	case st.prior != 0:
		en.Action, en.Detail = ActionReplace, fmt.Sprintf("load %d", st.prior)
	}
	return nil
}

// fileMsg is an error's message without the path a FileError starts with
// (a plan line names the path already).
func fileMsg(err error) string {
	var fe *FileError
	if errors.As(err, &fe) {
		if fe.Place != "" {
			return fe.Place + ": " + fe.Msg
		}
		return fe.Msg
	}
	return err.Error()
}

func (pl *planner) add(en *PlanEntry) { pl.plan.Entries = append(pl.plan.Entries, en) }

// sort orders the plan: the files of each kind in the kinds' dependency
// order (KindOrder), each kind's by path; then what no kind loads, by path.
func (pl *planner) sort() {
	rank := func(en *PlanEntry) int {
		if r, ok := pl.order[en.Kind]; ok && en.Kind != "" {
			return r
		}
		return len(pl.order)
	}
	sort.SliceStable(pl.plan.Entries, func(i, j int) bool {
		a, b := pl.plan.Entries[i], pl.plan.Entries[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		return a.Path < b.Path
	})
}

// KindOrder is the order in which a plan loads the registered kinds
// (loaders and checks): each after the kinds its Dependent.After names,
// ties broken by kind name. After naming an unregistered kind is ignored;
// a cycle is a programming error, returned as one.
func KindOrder() ([]string, error) {
	after := map[string][]string{}
	for k, l := range registry {
		after[k] = afterOf(l)
	}
	for k, v := range verifiers {
		after[k] = afterOf(v)
	}
	return orderKinds(after)
}

func afterOf(v any) []string {
	if d, ok := v.(Dependent); ok {
		return d.After()
	}
	return nil
}

// orderKinds orders the kinds of after (kind -> the kinds before it)
// topologically, taking the smallest ready kind first.
func orderKinds(after map[string][]string) ([]string, error) {
	waiting := map[string]int{}
	next := map[string][]string{}
	for k, deps := range after {
		waiting[k] += 0
		for _, d := range deps {
			if _, ok := after[d]; ok {
				waiting[k]++
				next[d] = append(next[d], k)
			}
		}
	}
	var out []string
	for len(out) < len(after) {
		ready := ""
		for _, k := range slices.Sorted(maps.Keys(waiting)) {
			if waiting[k] == 0 {
				ready = k
				break
			}
		}
		if ready == "" {
			return nil, fmt.Errorf("loaders: the kinds' After form a cycle among %s (a programming error)", strings.Join(slices.Sorted(maps.Keys(waiting)), ", "))
		}
		delete(waiting, ready)
		out = append(out, ready)
		for _, k := range next[ready] {
			waiting[k]--
		}
	}
	return out, nil
}
