package qa_test

import (
	"path/filepath"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
	"github.com/dschema/dschema/internal/loaders/qa"
)

// BenchmarkQALoad loads a recipe tarball of nested step tarballs (about
// 20 MB, 50,000 questions) into a fresh database per iteration; dschema
// bench qa-outputs compares the same load with the native way.
func BenchmarkQALoad(b *testing.B) {
	dir := b.TempDir()
	p := filepath.Join(dir, "c4.tar.gz")
	n, err := fixtures.WriteQABenchTarball(p, 20<<20, 2000)
	if err != nil {
		b.Fatal(err)
	}
	t := &testing.T{}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		v := loadertest.NewEnv(t)
		b.StartTimer()
		s, err := v.E.Load(v.Ctx, qa.Kind, p, loaders.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if s.Rows["qa_question_outputs"] != n {
			b.Fatalf("%d questions, want %d", s.Rows["qa_question_outputs"], n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "questions/s")
}
