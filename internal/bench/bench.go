// Package bench times a dschema load against DuckDB's native read of the
// same generated file, each side in a fresh process and database file, so
// that each one's peak memory is its own.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/migrations"
)

// PhaseCommand is the (hidden) dschema command that runs one timed phase
// by RunPhase: Run starts the running executable with it, followed by the
// phase, the kind, the file, the database and the memory limit.
const PhaseCommand = "bench-phase"

// kinds are the loads bench can time: how to write the file and
// what DuckDB's own read of it is.
var kinds = map[string]struct {
	file, native, rowsTable, describe string
}{
	"datadecide":    {"full_eval.parquet", "DuckDB CREATE TABLE AS read_parquet", "pretrain_evals", "rows × 1,940 columns"},
	"wandb-history": {"history_v3.jsonl", "DuckDB CREATE TABLE AS read_json (every column told)", "wandb_history", "rows of v3 history JSONL"},
	"qa-outputs":    {"c4.tar.gz", "system tar -xzf (outer, then each step), DuckDB read_json", "qa_question_outputs", "questions in a recipe tarball of nested step tarballs"},
}

// NativeMemoryLimit is the memory_limit the native read of kind needs
// when the load's default is less ("" when the load's default will do).
// DuckDB's read_json of the qa-outputs bench's predictions files into one
// table runs out of memory under the QA load's 128MB (at 256MiB and at
// 1GiB); it ran under 256MB, the QA default until 2026-12-07.
func NativeMemoryLimit(kind string) string {
	if kind == "qa-outputs" {
		return "256MB"
	}
	return ""
}

// qaBenchQuestions is the questions per task of each step in the qa-outputs bench.
const qaBenchQuestions = 2000

// Options are a bench's settings.
type Options struct {
	// Kind is the load to time: datadecide, wandb-history or qa-outputs.
	Kind string
	// Rows is the rows of the generated file (datadecide, wandb-history).
	Rows int
	// Size is the size of the generated tarball (qa-outputs): bytes, or with KB, MB, GB, KiB, MiB or GiB.
	Size string
	// Runs is the timed runs of each side; the median ratio is reported.
	Runs int
	// Dir keeps the generated file and databases ("": a temporary folder, removed).
	Dir string
	// MemoryLimit is DuckDB's memory_limit of the load, and of the native
	// read when NativeMemoryLimit is "".
	MemoryLimit string
	// NativeMemoryLimit is DuckDB's memory_limit of the native read, when
	// it needs more than the load ("": MemoryLimit).
	NativeMemoryLimit string
	// Out receives the report.
	Out io.Writer
}

// Run generates the file, then times, alternately and each in a fresh
// process and database file, DuckDB's native read of it and dschema's load
// of it (into a database migrated beforehand, untimed), and prints both,
// their ratio, rows/s and each process's peak memory.
func Run(ctx context.Context, o Options) error {
	bk, ok := kinds[o.Kind]
	if !ok {
		return fmt.Errorf("bench knows datadecide, wandb-history and qa-outputs, not %q", o.Kind)
	}
	if o.Runs < 1 {
		return fmt.Errorf("--runs must be at least 1")
	}
	if o.Rows < 1 {
		return fmt.Errorf("--rows %d: give a number of rows of at least 1", o.Rows)
	}
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "dschema-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		o.Dir = d
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return err
	}
	file := filepath.Join(o.Dir, bk.file)
	if err := generate(ctx, o, file); err != nil {
		return err
	}
	template, err := migratedTemplate(ctx, o.Dir)
	if err != nil {
		return err
	}
	native, load, ratios, err := timeRuns(o, file, template)
	if err != nil {
		return err
	}
	return report(o, bk.native, native, load, ratios)
}

// generate writes the file to time and says what it holds.
func generate(ctx context.Context, o Options, file string) error {
	start := time.Now()
	n := int64(o.Rows)
	var err error
	switch o.Kind {
	case "datadecide":
		n, err = fixtures.WriteFullEval(ctx, file, fixtures.BenchSpec(o.Rows))
	case "qa-outputs":
		var bytes int64
		if bytes, err = parseSize(o.Size); err != nil {
			return err
		}
		n, err = fixtures.WriteQABenchTarball(file, bytes, qaBenchQuestions)
	default:
		err = fixtures.WriteBenchHistory(file, o.Rows)
	}
	if err != nil {
		return err
	}
	fi, _ := os.Stat(file)
	limit := "memory limit " + o.MemoryLimit
	if o.NativeMemoryLimit != "" && o.NativeMemoryLimit != o.MemoryLimit {
		limit = fmt.Sprintf("memory limit of the load %s, of the native read %s", o.MemoryLimit, o.NativeMemoryLimit)
	}
	fmt.Fprintf(o.Out, "generated %s: %d %s, %.1f MB, in %.1fs; %s\n", file, n, kinds[o.Kind].describe, float64(fi.Size())/1e6, time.Since(start).Seconds(), limit)
	return nil
}

// migratedTemplate migrates a fresh database in dir to the newest version
// and returns its bytes, the start of every timed load.
func migratedTemplate(ctx context.Context, dir string) ([]byte, error) {
	fresh := filepath.Join(dir, "migrated.duckdb")
	os.Remove(fresh)
	db, err := dbfile.Open(ctx, fresh)
	if err != nil {
		return nil, err
	}
	m, err := migrate.New(db, fresh, migrations.FS, "migrations")
	if err == nil {
		_, err = m.Up(ctx)
	}
	db.Close()
	if err != nil {
		return nil, err
	}
	return os.ReadFile(fresh)
}

// timeRuns runs the two sides o.Runs times, alternating, each in a fresh
// process and database file, so that drift on the machine hits both
// alike. It returns the last run of each and every run's ratio.
func timeRuns(o Options, file string, template []byte) (native, load *PhaseResult, ratios []float64, err error) {
	for i := 1; i <= o.Runs; i++ {
		nativeDB := filepath.Join(o.Dir, "native.duckdb")
		os.Remove(nativeDB)
		nativeLimit := o.MemoryLimit
		if o.NativeMemoryLimit != "" {
			nativeLimit = o.NativeMemoryLimit
		}
		if native, err = runPhase("native", o.Kind, file, nativeDB, nativeLimit); err != nil {
			return nil, nil, nil, err
		}
		loadDB := filepath.Join(o.Dir, "dschema.duckdb")
		if err := os.WriteFile(loadDB, template, 0o644); err != nil {
			return nil, nil, nil, err
		}
		if load, err = runPhase("load", o.Kind, file, loadDB, o.MemoryLimit); err != nil {
			return nil, nil, nil, err
		}
		ratios = append(ratios, load.Seconds/native.Seconds)
		fmt.Fprintf(o.Out, "run %d: native %.2fs (peak RSS %.0f MB), dschema %.2fs (peak RSS %.0f MB), ratio %.3f\n",
			i, native.Seconds, float64(native.MaxRSS)/1e6, load.Seconds, float64(load.MaxRSS)/1e6, ratios[i-1])
	}
	return native, load, ratios, nil
}

// report prints the last run of each side, the ratios and the load's stages.
func report(o Options, nativeName string, native, load *PhaseResult, ratios []float64) error {
	out := o.Out
	sort.Float64s(ratios)
	median := ratios[len(ratios)/2]
	if len(ratios)%2 == 0 {
		median = (ratios[len(ratios)/2-1] + ratios[len(ratios)/2]) / 2
	}
	fmt.Fprintf(out, "%-52s %9s %12s %12s  %s\n", "last run", "seconds", "rows/s", "peak RSS", "memory limit")
	fmt.Fprintf(out, "%-52s %9.2f %12.0f %9.0f MB  %s\n", nativeName, native.Seconds, float64(native.Rows)/native.Seconds, float64(native.MaxRSS)/1e6, native.MemoryLimit)
	fmt.Fprintf(out, "%-52s %9.2f %12.0f %9.0f MB  %s\n", "dschema load "+o.Kind, load.Seconds, float64(load.Rows)/load.Seconds, float64(load.MaxRSS)/1e6, load.MemoryLimit)
	if native.Rows != load.Rows {
		return fmt.Errorf("native read %d rows, dschema loaded %d", native.Rows, load.Rows)
	}
	fmt.Fprintf(out, "ratio (dschema / native): median %.3f over %d runs (min %.3f, max %.3f)\n", median, o.Runs, ratios[0], ratios[len(ratios)-1])
	fmt.Fprintln(out, "dschema load by stage (last run):")
	for _, st := range load.Stages {
		fmt.Fprintf(out, "  %6.2fs  %s\n", st.Seconds, st.Name)
	}
	return nil
}

// parseSize reads a size such as 1GiB, 500MB or 1048576.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("--size %q: give a size of at least 1 byte, such as 1GiB or 500MB", s)
	}
	return int64(n * float64(mult)), nil
}
