package codegen_test

import (
	"context"
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dschema/dschema/internal/codegen"
	"github.com/dschema/dschema/internal/project"
	"github.com/dschema/dschema/internal/schema"
)

var update = flag.Bool("update", false, "rewrite golden files")

func generate(t *testing.T, dir, display string, shuffle bool) (map[string][]byte, error) {
	t.Helper()
	s, err := schema.Load(os.DirFS(dir), ".", display)
	if err != nil {
		t.Fatal(err)
	}
	if shuffle {
		r := rand.New(rand.NewSource(1))
		r.Shuffle(len(s.Tables), func(i, j int) { s.Tables[i], s.Tables[j] = s.Tables[j], s.Tables[i] })
	}
	target, err := project.CanonicalState(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return codegen.Generate(s, codegen.Options{Package: "gen", SchemaVersion: 1, SchemaSum: project.SchemaSum(target)})
}

// TestGolden generates each testdata/golden/<case>/schema.yaml and compares
// with want/ (or want/error.txt); -update rewrites them.
func TestGolden(t *testing.T) {
	cases, err := os.ReadDir("testdata/golden")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata/golden", c.Name())
			wantDir := filepath.Join(dir, "want")
			got, err := generate(t, dir, "schema", false)
			if err != nil {
				got = map[string][]byte{"error.txt": []byte(err.Error() + "\n")}
			}
			if *update {
				os.RemoveAll(wantDir)
				os.MkdirAll(wantDir, 0o755)
				for n, b := range got {
					if err := os.WriteFile(filepath.Join(wantDir, n), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			want := readDir(t, wantDir)
			if diff := cmp.Diff(stringify(want), stringify(got)); diff != "" {
				t.Errorf("generated code differs (-want +got); rerun with -update if intended:\n%s", diff)
			}
		})
	}
}

// TestE2EFresh keeps the committed e2etest package equal to what the
// generator makes from testdata/e2e (it is compiled and run by its own tests).
func TestE2EFresh(t *testing.T) {
	got, err := generate(t, "testdata/e2e", "internal/codegen/testdata/e2e", false)
	if err != nil {
		t.Fatal(err)
	}
	for n, b := range got {
		got[n] = []byte(strings.Replace(string(b), "package gen", "package e2etest", 1))
	}
	if *update {
		for n, b := range got {
			if err := os.WriteFile(filepath.Join("e2etest", n), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := readDir(t, "e2etest")
	for n := range want {
		if !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			delete(want, n)
		}
	}
	if diff := cmp.Diff(stringify(want), stringify(got)); diff != "" {
		t.Errorf("e2etest is stale (-committed +generated); run go test ./internal/codegen -update:\n%s", diff)
	}
}

func TestDeterministic(t *testing.T) {
	a, err := generate(t, "testdata/golden/nested", "schema", false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := generate(t, "testdata/golden/nested", "schema", true)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stringify(a), stringify(b)); diff != "" {
		t.Errorf("generation from shuffled tables differs (-first +shuffled):\n%s", diff)
	}
}

func TestHeader(t *testing.T) {
	got, err := generate(t, "testdata/golden/scalars", "schema", false)
	if err != nil {
		t.Fatal(err)
	}
	for n, b := range got {
		first := strings.SplitN(string(b), "\n", 2)[0]
		// Go's rule: ^// Code generated .* DO NOT EDIT\.$
		if !strings.HasPrefix(first, "// Code generated ") || !strings.HasSuffix(first, " DO NOT EDIT.") {
			t.Errorf("%s: first line %q is not a generated-code header", n, first)
		}
	}
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func stringify(m map[string][]byte) map[string]string {
	out := map[string]string{}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out[k] = string(m[k])
	}
	return out
}
