package loaders_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// TestSymlinkedRootIsFollowed: a folder source given as a symlink (with or
// Without a trailing slash) loads as the folder it points at.
func TestSymlinkedRootIsFollowed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dump, err := fixtures.WriteOLMESDump(filepath.Join(dir, "dumps"), fixtures.RunName(1), fixtures.QATasks, 3)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(dump, link); err != nil {
		t.Fatal(err)
	}
	for name, arg := range map[string]string{"link": link, "link/": link + string(filepath.Separator)} {
		t.Run(name, func(t *testing.T) {
			v := loadertest.NewEnv(t)
			s, err := v.E.Load(v.Ctx, "qa-outputs", arg, loaders.Options{})
			if err != nil {
				t.Fatalf("load %s: %v", arg, err)
			}
			if s.Rows["qa_question_outputs"] != int64(3*len(fixtures.QATasks)) {
				t.Errorf("load %s wrote %v, want %d questions", arg, s.Rows, 3*len(fixtures.QATasks))
			}
		})
	}
}
