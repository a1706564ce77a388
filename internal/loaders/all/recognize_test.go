package all_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/datadecide"
	"github.com/dschema/dschema/internal/loaders/loadertest"
	"github.com/dschema/dschema/internal/loaders/qa"
	"github.com/dschema/dschema/internal/loaders/showntell"
	"github.com/dschema/dschema/internal/loaders/wandb"
)

// TestEveryKindRecognizes: every registered kind and check kind tells its
// files by content (dschema load without a kind), and the kinds' order is
// the dependency order: W&B runs before history and the pickles' finetune
// runs, DataDecide before its aggregate checks and the QA outputs.
func TestEveryKindRecognizes(t *testing.T) {
	t.Parallel()
	kinds := append(loaders.Kinds(), loaders.CheckKinds()...)
	if len(kinds) < 6 {
		t.Fatalf("kinds %v: want the five loaders and datadecide-agg", kinds)
	}
	for _, k := range kinds {
		var v any
		if l, err := loaders.Lookup(k); err == nil {
			v = l
		} else if v, err = loaders.LookupVerifier(k); err != nil {
			t.Fatal(err)
		}
		if _, ok := v.(loaders.Recognizer); !ok {
			t.Errorf("kind %s (%T) does not implement loaders.Recognizer", k, v)
		}
	}
	order, err := loaders.KindOrder()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"datadecide", "datadecide-agg", "qa-outputs", "wandb-runs", "showntell", "wandb-history"}
	if !slices.Equal(order, want) {
		t.Errorf("KindOrder() = %v, want %v", order, want)
	}
}

// recognizeCase is one file and what recognising it must say.
type recognizeCase struct {
	name, path   string
	kind, layout string // kind "" for not recognised
	reason       string // the start of the reason, when not recognised; "refused: " and the start of the message for a damaged file
}

// TestRecognize tells every layout the fixtures write (renamed ones too:
// a name is only a hint) and says why the others are not recognised.
func TestRecognize(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	var cases []recognizeCase
	cases = append(cases, dataDecideCases(t)...)
	cases = append(cases, wandbCases(t)...)
	cases = append(cases, pickleAndQACases(t)...)
	cases = append(cases, oddCases(t, v)...)
	for _, c := range cases {
		kind, layout, reason, err := v.E.Recognize(context.Background(), c.path)
		if want, ok := strings.CutPrefix(c.reason, "refused: "); ok {
			var fe *loaders.FileError
			if !errors.Is(err, loaders.ErrDamaged) || !errors.As(err, &fe) || fe.Path != c.path || !strings.HasPrefix(fe.Msg, want) {
				t.Errorf("%s: Recognize(%s) = %q, %q, %q, %v; want a damaged file's error starting %q", c.name, c.path, kind, layout, reason, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Recognize(%s): %v", c.name, c.path, err)
			continue
		}
		if kind != c.kind || layout != c.layout {
			t.Errorf("%s: Recognize = %q, %q (%s); want %q, %q", c.name, kind, layout, reason, c.kind, c.layout)
		}
		if !strings.HasPrefix(reason, c.reason) || (c.kind == "" && c.reason == "") {
			t.Errorf("%s: reason %q; want it to start %q", c.name, reason, c.reason)
		}
	}
}

func dataDecideCases(t *testing.T) []recognizeCase {
	full, mean, std := loadertest.Sample(t)
	dir := t.TempDir()
	renamed, old := filepath.Join(dir, "x.bin"), filepath.Join(dir, "agg.parquet")
	loadertest.CopyFile(t, full, renamed)
	if err := fixtures.WriteAggregates(context.Background(), full, old, filepath.Join(dir, "old_std.parquet"), fixtures.AggOld); err != nil {
		t.Fatal(err)
	}
	return []recognizeCase{
		{"full_eval", full, "datadecide", datadecide.VariantFullEval, ""},
		{"full_eval named x.bin", renamed, "datadecide", datadecide.VariantFullEval, ""},
		{"mean_eval", mean, datadecide.AggKind, "mean of seeds, " + datadecide.AggVariantCurrent, ""},
		{"std_eval", std, datadecide.AggKind, "std of seeds, " + datadecide.AggVariantCurrent, ""},
		{"old aggregate, averaged seed, no stat in the name", old, datadecide.AggKind,
			"mean or std not told by the file name (check it with dschema load datadecide-agg FILE --stat mean|std), " + datadecide.AggVariantOldSeed, ""},
	}
}

func wandbCases(t *testing.T) []recognizeCase {
	dir := loadertest.WandbSample(t)
	runs := map[string]string{fixtures.RunsCanonical: wandb.RunsCanonical, fixtures.RunsNotebook: wandb.RunsNotebook, fixtures.RunsSync: wandb.RunsSync,
		fixtures.RunsV3: wandb.RunsV3, fixtures.RunsWide: wandb.RunsWide, fixtures.RunsWideProject: wandb.RunsWideProject}
	hist := map[string]string{fixtures.HistCanonical: wandb.HistCanonical, fixtures.HistFlattened: wandb.HistFlattened, fixtures.HistRawScan: wandb.HistRawScan,
		fixtures.HistJSONLArray: wandb.HistJSONLArray, fixtures.HistMetricsJSON: wandb.HistMetricsJSON, fixtures.HistSync: wandb.HistSync,
		fixtures.HistV3: wandb.HistV3, fixtures.HistPositional: wandb.HistPositional}
	var out []recognizeCase
	for _, l := range fixtures.RunsLayouts {
		out = append(out, recognizeCase{"runs " + l[0], filepath.Join(dir, l[1]), "wandb-runs", runs[l[0]], ""})
	}
	for _, l := range fixtures.HistoryLayouts {
		out = append(out, recognizeCase{"history " + l[0], filepath.Join(dir, l[1]), "wandb-history", hist[l[0]], ""})
	}
	tmp := t.TempDir()
	renamed := filepath.Join(tmp, "history.txt")
	loadertest.CopyFile(t, filepath.Join(dir, "history_v3.jsonl"), renamed)
	bom := filepath.Join(tmp, "bom.jsonl")
	b, err := os.ReadFile(filepath.Join(dir, "runs_v3.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	loadertest.WriteFile(t, bom, "\ufeff"+string(b))
	return append(out,
		recognizeCase{"history v3 named history.txt", renamed, "wandb-history", wandb.HistV3, ""},
		recognizeCase{"a companion alone", filepath.Join(dir, "split", "runs_metadata_system_metrics.parquet"), "wandb-runs", wandb.RunsCompanion, ""},
		recognizeCase{"runs v3 after a byte order mark", bom, "", "", "refused: line 1: starts with a UTF-8 byte order mark, which the JSON loaders refuse"},
	)
}

func pickleAndQACases(t *testing.T) []recognizeCase {
	dir := t.TempDir()
	mod, err := fixtures.WritePickle(dir, fixtures.ModernizedPickle)
	if err != nil {
		t.Fatal(err)
	}
	matched, err := fixtures.WritePickle(dir, fixtures.MatchedPickle)
	if err != nil {
		t.Fatal(err)
	}
	renamed := filepath.Join(dir, "frame.dat")
	loadertest.CopyFile(t, matched, renamed)
	ck, tasks, n := fixtures.SampleQACheckpoints(), fixtures.QATasks, fixtures.QAQuestions
	recipe, olmesTar := filepath.Join(dir, "c4.tar.gz"), filepath.Join(dir, "olmes.tar.gz")
	if err := fixtures.WriteQARecipeTarball(recipe, ck, tasks, n); err != nil {
		t.Fatal(err)
	}
	if err := fixtures.WriteOLMESDumpTarball(olmesTar, fixtures.RunName(1), tasks, n); err != nil {
		t.Fatal(err)
	}
	dumps := filepath.Join(dir, "dumps")
	dump, err := fixtures.WriteOLMESDump(dumps, fixtures.RunName(1), tasks, n)
	if err != nil {
		t.Fatal(err)
	}
	extracted := filepath.Join(dir, "extracted")
	if err := fixtures.WriteQAExtracted(extracted, ck, tasks, n); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(extracted)
	if err != nil || len(ents) == 0 {
		t.Fatalf("extracted folder: %v %v", ents, err)
	}
	renamedTar := filepath.Join(dir, "c4.bin")
	loadertest.CopyFile(t, recipe, renamedTar)
	return []recognizeCase{
		{"modernized pickle", mod, "showntell", showntell.VariantModernized, ""},
		{"matched pickle", matched, "showntell", showntell.VariantMatched, ""},
		{"matched pickle named frame.dat", renamed, "showntell", showntell.VariantMatched, ""},
		{"recipe tarball", recipe, qa.Kind, "DataDecide eval instances (nested step tarballs) (tarball)", ""},
		{"recipe tarball named c4.bin", renamedTar, qa.Kind, "DataDecide eval instances (nested step tarballs) (tarball)", ""},
		{"OLMES dump tarball", olmesTar, qa.Kind, "OLMES dump (tarball)", ""},
		{"OLMES dump folder", dump, qa.Kind, "OLMES dump (folder)", ""},
		{"a checkpoint's extracted folder", filepath.Join(extracted, ents[0].Name()), qa.Kind, "DataDecide eval instances (folder)", ""},
		{"a folder with a dump inside", dumps, "", "", "a folder"},
	}
}

func oddCases(t *testing.T, v *loadertest.Env) []recognizeCase {
	dir := t.TempDir()
	full, _, _ := loadertest.Sample(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	v.Exec("COPY (SELECT 1 AS a, 'x' AS b) TO '" + p("unknown.parquet") + "' (FORMAT parquet)")
	loadertest.WriteFile(t, p("empty.dat"), "")
	loadertest.WriteFile(t, p("random.bin"), "MZ\x90\x00\x03\x00\x00\x00\x04\x00")
	loadertest.WriteFile(t, p("keys.jsonl"), `{"a": 1}`+"\n")
	loadertest.WriteFile(t, p("int.pkl"), "\x80\x04K\x01.")
	loadertest.WriteFile(t, p("broken.jsonl"), "\n{\"_step\": 1, \"loss\": \n{\"_step\": 2}\n")
	loadertest.WriteFile(t, p("config.json"), "{\n  \"lr\": 3e-05,\n  \"tags\": [\"a\"]\n}\n")
	loadertest.WriteFile(t, p("two.json"), "{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n")
	b, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	loadertest.WriteFile(t, p("cut.parquet"), string(b[:1000]))
	tarball := filepath.Join(dir, "c4.tar.gz")
	if err := fixtures.WriteQARecipeTarball(tarball, fixtures.SampleQACheckpoints(), fixtures.QATasks, fixtures.QAQuestions); err != nil {
		t.Fatal(err)
	}
	tb, err := os.ReadFile(tarball)
	if err != nil {
		t.Fatal(err)
	}
	loadertest.WriteFile(t, p("cut.tar.gz"), string(tb[:100]))
	return []recognizeCase{
		{"unknown parquet", p("unknown.parquet"), "", "", "parquet whose columns match no loader (a, b)"},
		{"empty file", p("empty.dat"), "", "", "empty file"},
		{"random binary", p("random.bin"), "", "", "starts with bytes 4d 5a 90 00 03 00 00 00 (no magic a loader knows"},
		{"JSON of no loader", p("keys.jsonl"), "", "", `JSON whose first line matches no loader (starts "{\"a\": 1}\n")`},
		{"a pickle of an int", p("int.pkl"), "", "", "a pickle no loader reads: showntell: unknown pickle layout: a int"},
		{"truncated parquet", p("cut.parquet"), "", "", "refused: parquet that DuckDB cannot read: not a readable parquet file"},
		{"truncated gzip", p("cut.tar.gz"), "", "", "refused: gzip holding nothing a loader reads: qa-outputs: "},
		{"JSON lines with a broken first line", p("broken.jsonl"), "", "", "refused: line 2: malformed JSON: "},
		{"one JSON document over lines, of no loader", p("config.json"), "", "", `one JSON document over several lines (not JSON lines), which no loader reads (starts "{\n`},
		{"two JSON documents over lines", p("two.json"), "", "", "refused: line 1: malformed JSON: "},
	}
}
