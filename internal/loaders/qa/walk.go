package qa

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/jsonexact"

	"github.com/valyala/fastjson"

	"github.com/dschema/dschema/internal/runname"
	"github.com/dschema/dschema/internal/tarstream"
)

// The names of the members and folders a walk recognises.
var (
	olmesFile     = regexp.MustCompile(`^task-(\d+)-(.+)-(predictions\.jsonl|recorded-inputs\.jsonl|requests\.jsonl|metrics\.json|config\.json)$`)
	instanceFile  = regexp.MustCompile(`^(.+)-(predictions\.jsonl|metrics\.json)$`)
	stepDir       = regexp.MustCompile(`^step-(\d+)(\.tar\.gz|\.tgz|\.tar)?$`)
	seedDir       = regexp.MustCompile(`^seed-(\d+)$`)
	paramsRe      = regexp.MustCompile(`^\d+(\.\d+)?[MB]$`)
	extractedDir  = regexp.MustCompile(`^(.+)_(\d+(?:\.\d+)?[MB])_(\d+)$`)
	revisionTail  = regexp.MustCompile(`__[^_/]+$`)
	archiveSuffix = regexp.MustCompile(`\.(tar\.gz|tgz|tar)$`)
)

// qaModel is what was evaluated.
type qaModel struct {
	ref    string // model_ref
	kind   string // pretrain_checkpoint, finetune or model
	layout string // datadecide or olmes
	// checkpoint
	slug, data, params string
	trainingSeed, step int64
	seed               *int64
	// OLMES
	dir string // the dump folder's name
	// kept is what each task row of the model keeps aside (a seed or data
	// left NULL), counted once per row written.
	kept []string
}

// qaTask gathers one (model, task) of the source.
type qaTask struct {
	model        *qaModel
	task         string
	predictions  string // member the questions came from
	questions    int64
	taskHash     string
	modelHash    string
	record       *fastjson.Value // the metrics record (parsed by a parser of its own, so it outlives the next line)
	recordText   string
	recordMember string
	config       string // -config.json, compact
	inputs       int64  // lines of its -requests.jsonl and -recorded-inputs.jsonl
	taskFiles    bool   // an OLMES task-XXX-<task>-* file names it
	skipped      int64  // load id of another source holding this model and task, when skipped
}

// components are the path elements of a member, the root's included.
func (q *qaLoad) components(m tarstream.Member) []string {
	out := strings.Split(filepath.ToSlash(q.root), "/")
	for _, c := range m.Chain {
		out = append(out, strings.Split(path.Clean(c), "/")...)
	}
	return out
}

func (q *qaLoad) member(m tarstream.Member, r io.Reader) error {
	comps := q.components(m)
	base := comps[len(comps)-1]
	parents := comps[:len(comps)-1]
	if g := olmesFile.FindStringSubmatch(base); g != nil {
		model := q.olmesModel(parents)
		q.dumpDirs[model.ref] = true
		q.layouts["olmes"] = true
		t := q.task(model, g[2])
		t.taskFiles = true
		switch g[3] {
		case "predictions.jsonl":
			return q.predictions(m, r, t)
		case "metrics.json":
			return q.metricsFile(m, r, t)
		case "config.json":
			b, err := q.readMember(m, r)
			if err != nil {
				return err
			}
			v, err := q.parser.ParseBytes(jsonexact.PyInf(b))
			if err != nil {
				return q.malformed(m, qaWhole, err)
			}
			t.config = string(jsonexact.Compact(v))
			return nil
		case "requests.jsonl":
			return q.inputs(m, r, t, "request")
		default:
			return q.inputs(m, r, t, "recorded_input")
		}
	}
	if base == "metrics-all.jsonl" {
		q.layouts["olmes"] = true
		return q.metricsAll(m, r, q.olmesModel(parents))
	}
	if g := instanceFile.FindStringSubmatch(base); g != nil {
		model, err := q.checkpoint(parents)
		if err != nil {
			return q.failErr(m, qaWhole, err.Error(), err)
		}
		q.layouts["datadecide"] = true
		t := q.task(model, g[1])
		if g[2] == "predictions.jsonl" {
			return q.predictions(m, r, t)
		}
		return q.metricsFile(m, r, t)
	}
	reason := "not a QA output file (only <task>-predictions.jsonl, <task>-metrics.json, the OLMES task-XXX-<task>-* files and metrics-all.jsonl are read)"
	if base == "metrics.jsonl" {
		reason = "the OLMES dumps' vestigial metrics.jsonl (no structured records; metrics-all.jsonl holds them)"
	}
	q.skip(reason, m.Path)
	return nil
}

// checkpoint tells the DataDecide checkpoint of a member from its path:
// <slug>/<params>/seed-<N>/step-<S>[.tar.gz]/... or
// <slug>_<params>_<N>/step-<S>/...; step-<S> may repeat (a step tarball
// extracted into a folder of its name).
func (q *qaLoad) checkpoint(parents []string) (*qaModel, error) {
	i := len(parents) - 1
	var step int64 = -1
	for ; i >= 0; i-- {
		g := stepDir.FindStringSubmatch(parents[i])
		if g == nil {
			break
		}
		s, _ := strconv.ParseInt(g[1], 10, 64)
		if step >= 0 && s != step {
			return nil, fmt.Errorf("two steps in its path: step-%d and step-%d", s, step)
		}
		step = s
	}
	const want = "expected <recipe>/<params>/seed-<N>/step-<S>/ or <recipe>_<params>_<N>/step-<S>/ in its path"
	if step < 0 || i < 0 {
		return nil, fmt.Errorf("cannot tell which checkpoint it is: %s", want)
	}
	m := &qaModel{kind: "pretrain_checkpoint", layout: "datadecide", step: step}
	if g := seedDir.FindStringSubmatch(parents[i]); g != nil && i >= 2 && paramsRe.MatchString(parents[i-1]) {
		m.trainingSeed, _ = strconv.ParseInt(g[1], 10, 64)
		m.params, m.slug = parents[i-1], parents[i-2]
	} else if g := extractedDir.FindStringSubmatch(parents[i]); g != nil {
		m.slug, m.params = g[1], g[2]
		m.trainingSeed, _ = strconv.ParseInt(g[3], 10, 64)
	} else {
		return nil, fmt.Errorf("cannot tell which checkpoint it is (%q before step-%d): %s", parents[i], step, want)
	}
	m.slug = archiveSuffix.ReplaceAllString(m.slug, "")
	data, known := runname.LookupRecipe(m.slug)
	seedName := fmt.Sprintf("training-seed-%d", m.trainingSeed)
	if s, ok := runname.DataDecideSeed(m.trainingSeed); ok {
		m.seed = &s
		seedName = fmt.Sprintf("seed-%d", s)
	} else {
		m.kept = append(m.kept, fmt.Sprintf("training seed %d is not one of DataDecide's (6198 or 2, 14, 15, 4, 5): seed left NULL", m.trainingSeed))
	}
	name := m.slug
	if known {
		m.data, name = data, data
	} else {
		m.kept = append(m.kept, fmt.Sprintf("recipe %q is not a DataDecide recipe alias (recipe_aliases): data left NULL", m.slug))
	}
	m.ref = fmt.Sprintf("%s/%s/%s/step-%d", name, m.params, seedName, m.step)
	return q.model(m.ref, m), nil
}

// model is the model under key, m when it is the first.
func (q *qaLoad) model(key string, m *qaModel) *qaModel {
	if old, ok := q.models[key]; ok {
		return old
	}
	q.models[key] = m
	return m
}

// olmesModel is the model of an OLMES dump: its folder's name without the
// __<revision> suffix (a tarball holding the files at its top: the
// tarball's name).
func (q *qaLoad) olmesModel(parents []string) *qaModel {
	dir := archiveSuffix.ReplaceAllString(parents[len(parents)-1], "")
	ref := revisionTail.ReplaceAllString(dir, "")
	if ref == "" {
		ref = dir
	}
	return q.model("olmes\x00"+dir, &qaModel{ref: ref, kind: "model", layout: "olmes", dir: dir})
}

// task is the gathered (model, task), made on first sight.
func (q *qaLoad) task(m *qaModel, task string) *qaTask {
	key := m.ref + "\x00" + task
	t, ok := q.tasks[key]
	if !ok {
		t = &qaTask{model: m, task: task}
		t.skipped = q.existing[key]
		q.tasks[key] = t
	}
	return t
}

// readMember reads a whole metrics or config member, up to maxQALine, and
// refuses text that cannot be stored exactly (textProblem).
func (q *qaLoad) readMember(m tarstream.Member, r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxQALine+1))
	if err != nil {
		return nil, q.readErr(m, qaWhole, err)
	}
	if len(b) > maxQALine {
		return nil, q.fail(m, qaWhole, fmt.Sprintf("larger than %d bytes", maxQALine))
	}
	if i, why := jsonexact.TextProblem(b); why != "" {
		return nil, q.fail(m, qaWhole, fmt.Sprintf("%s at byte %d of the member", why, i))
	}
	return b, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// eachQALine calls f with every non-blank line of r and its place. A line
// whose text cannot be stored exactly (textProblem) is an error.
func (q *qaLoad) eachQALine(m tarstream.Member, r io.Reader, f func(at qaAt, b []byte) error) error {
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 1<<20)
	for n := int64(1); ; n++ {
		at := qaAt{n, cr.n - int64(br.Buffered())}
		b, err := loaders.ReadLineMax(br, maxQALine)
		if err != nil && err != io.EOF {
			return q.readErr(m, at, err)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			if i, why := jsonexact.TextProblem(b); why != "" {
				return q.fail(m, at, fmt.Sprintf("%s at byte %d of the line", why, i))
			}
			if ferr := f(at, b); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if n%4096 == 0 {
			if cerr := q.ctx.Err(); cerr != nil {
				return cerr
			}
		}
	}
}
