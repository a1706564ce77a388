package all_test

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/loaders"
	_ "github.com/dschema/dschema/internal/loaders/all"
)

const module = "github.com/dschema/dschema/"

// TestEveryLoaderPackageIsImported: every package under internal/loaders
// that registers a loader or a check is imported by all.go, so the CLI
// knows its kinds.
func TestEveryLoaderPackageIsImported(t *testing.T) {
	all, err := os.ReadFile("all.go")
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := filepath.Glob("../*/*.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range dirs {
		if strings.HasSuffix(f, "_test.go") || seen[filepath.Dir(f)] {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "loaders.Register(") && !strings.Contains(string(b), "loaders.RegisterVerifier(") {
			continue
		}
		seen[filepath.Dir(f)] = true
		imp := strconv.Quote(module + "internal/loaders/" + filepath.Base(filepath.Dir(f)))
		if !strings.Contains(string(all), imp) {
			t.Errorf("%s registers a loader but all.go does not import %s", f, imp)
		}
	}
	if len(seen) < 4 {
		t.Errorf("found %d loader packages, want at least datadecide, wandb, showntell and qa", len(seen))
	}
}

// TestEveryKindHasConformance: each registered loader's package runs
// loadertest.Conformance for its kind (TestConformance in
// conformance_test.go).
func TestEveryKindHasConformance(t *testing.T) {
	kinds := loaders.Kinds()
	sort.Strings(kinds)
	if len(kinds) < 5 {
		t.Fatalf("registered kinds %v: want the five loaders", kinds)
	}
	for _, k := range kinds {
		l, err := loaders.Lookup(k)
		if err != nil {
			t.Fatal(err)
		}
		pkg := reflect.TypeOf(l).PkgPath()
		dir := filepath.Join("..", "..", "..", strings.TrimPrefix(pkg, module))
		b, err := os.ReadFile(filepath.Join(dir, "conformance_test.go"))
		if err != nil {
			t.Errorf("kind %s (%s): %v", k, pkg, err)
			continue
		}
		src := string(b)
		if !strings.Contains(src, "loadertest.Conformance(t, ") || !(strings.Contains(src, strconv.Quote(k)) || strings.Contains(src, ".Kind,")) {
			t.Errorf("kind %s: %s/conformance_test.go does not run loadertest.Conformance for it", k, dir)
		}
	}
}
