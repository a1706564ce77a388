package qa

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/tarstream"
)

// recognizeMembers bounds the members of a tarball Recognize looks at
// before it gives up: a QA tarball has a QA file among its first.
const recognizeMembers = 64

// errFound stops a recognising walk at the first QA member.
var errFound = errors.New("found a QA member")

// qaLayoutOf is the layout a member named base tells ("olmes",
// "datadecide"), as member reads it, or "".
func qaLayoutOf(base string) string {
	switch {
	case olmesFile.MatchString(base) || base == "metrics-all.jsonl":
		return "olmes"
	case instanceFile.MatchString(base):
		return "datadecide"
	}
	return ""
}

// Recognize implements loaders.Recognizer. A gzip or tar file is QA
// outputs when one of its first members (nested step tarballs walked) is
// a file the load reads; a folder is one QA source when it holds such a
// file, or step-<N> folders, directly (a dump, a checkpoint's folder):
// then the walk of a plan does not descend into it.
func (qaLoader) Recognize(ctx context.Context, p *loaders.Probe) (string, error) {
	switch p.Format {
	case loaders.FormatDir:
		return recognizeDir(p.Path)
	case loaders.FormatGzip, loaders.FormatTar:
		return recognizeTarball(ctx, p)
	}
	return "", nil
}

// recognizeDir reads the entries of dir, not below.
func recognizeDir(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", nil // the plan's walk names the folder it cannot read
	}
	layout := ""
	for _, d := range ents {
		switch {
		case d.Type().IsRegular() && qaLayoutOf(d.Name()) == "olmes":
			return variantName([]string{"olmes"}, false, "folder"), nil
		case d.Type().IsRegular() && qaLayoutOf(d.Name()) == "datadecide",
			d.IsDir() && stepDir.MatchString(d.Name()) && !archiveSuffix.MatchString(d.Name()):
			layout = variantName([]string{"datadecide"}, false, "folder")
		}
	}
	return layout, nil
}

// recognizeTarball walks the first members of a tarball.
func recognizeTarball(ctx context.Context, p *loaders.Probe) (string, error) {
	var seen []string
	layout, nested := "", false
	err := tarstream.Walk(ctx, p.Path, tarstream.Options{Nested: true}, func(m tarstream.Member, _ io.Reader) error {
		base := path.Base(m.Chain[len(m.Chain)-1])
		if l := qaLayoutOf(base); l != "" {
			layout, nested = l, len(m.Chain) > 1
			return errFound
		}
		if seen = append(seen, m.Path); len(seen) >= recognizeMembers {
			return io.EOF
		}
		return nil
	})
	switch {
	case layout != "":
		return variantName([]string{layout}, nested, "tarball"), nil
	case ctx.Err() != nil:
		return "", ctx.Err()
	case err != nil && err != io.EOF:
		var te *tarstream.Error
		if errors.As(err, &te) {
			p.Damaged("qa-outputs: " + te.Msg + placeOf(te))
			return "", nil
		}
		return "", err
	}
	if len(seen) == 0 {
		p.Decline("qa-outputs: no files in it")
	} else {
		p.Decline(fmt.Sprintf("qa-outputs: none of its first %d files is a QA output (%s)", len(seen), loaders.Examples(seen, 3)))
	}
	return "", nil
}

// placeOf names a walk error's member and byte.
func placeOf(te *tarstream.Error) string {
	var parts []string
	if te.Member != "" {
		parts = append(parts, "member "+te.Member)
	}
	if te.Offset >= 0 {
		parts = append(parts, fmt.Sprintf("byte %d", te.Offset))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// After implements loaders.Dependent: the QA outputs of DataDecide
// checkpoints join pretrain_evals, so datadecide comes first. (The load
// itself reads no other kind's table; the finetuned models' outputs join
// finetune_runs only when queried.)
func (qaLoader) After() []string { return []string{"datadecide"} }
