package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/datadecide"
	"github.com/dschema/dschema/internal/loaders/qa"
	"github.com/dschema/dschema/internal/loaders/wandb"
	"github.com/dschema/dschema/internal/migrate"
	"github.com/dschema/dschema/migrations"
)

type phaseResult struct {
	Seconds float64 `json:"seconds"`
	Rows    int64   `json:"rows"`
	// MaxRSS is the phase process's own peak resident memory in bytes
	// (VmHWM; rusage's maxrss would carry the parent's peak across exec).
	MaxRSS int64 `json:"max_rss"`
	// Stages are the load's steps with their durations in seconds, in order.
	Stages []stageTime `json:"stages,omitempty"`
}

type stageTime struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// peakRSS reads this process's peak resident set size from /proc (Linux); 0 elsewhere.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb * 1024
		}
	}
	return 0
}

// benchKinds are the loads bench can time: how to write the file and
// what DuckDB's own read of it is.
var benchKinds = map[string]struct {
	file, native, rowsTable, describe string
	defaultMemory                     string
}{
	"datadecide": {"full_eval.parquet", "DuckDB CREATE TABLE AS read_parquet", "pretrain_evals", "rows × 1,940 columns", datadecide.MemoryLimit},
	// 600MB: under it the history load stays below 1 GiB of RSS (DuckDB's
	// limit covers its buffers, not the process).
	"wandb-history": {"history_v3.jsonl", "DuckDB CREATE TABLE AS read_json (every column told)", "wandb_history", "rows of v3 history JSONL", "600MB"},
	"qa-outputs":    {"c4.tar.gz", "system tar -xzf (outer, then each step), DuckDB read_json", "qa_question_outputs", "questions in a recipe tarball of nested step tarballs", qa.MemoryLimit},
}

func benchCmd() *cobra.Command {
	var rows, runs int
	var dir, memLimit, size string
	cmd := &cobra.Command{
		Use:   "bench datadecide|wandb-history|qa-outputs",
		Short: "Time a load against DuckDB's native read of the same file",
		Long: "Generates a file of --rows rows (datadecide: a full_eval.parquet in the real 1,939-column layout;\n" +
			"wandb-history: a v3 history JSONL with keys that first appear mid-file; qa-outputs: a recipe tarball\n" +
			"of about --size bytes holding nested step tarballs), then times, each in a fresh process and database\n" +
			"file: the native way (DuckDB's own CREATE TABLE AS of the file with read_parquet, or read_json told every\n" +
			"column; for qa-outputs the system tar extracting the tarball and each step tarball in it, then read_json\n" +
			"of every predictions file), and dschema's load of the same file (into a database migrated beforehand, untimed),\n" +
			"both under --memory-limit. Prints both, their ratio, rows/s and each process's peak memory (RSS).",
		Args:    cobra.ExactArgs(1),
		Example: "  dschema bench datadecide --rows 100000\n  dschema bench wandb-history --rows 3500000\n  dschema bench qa-outputs --size 1GiB",
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := args[0]
			bk, ok := benchKinds[kind]
			if !ok {
				return fmt.Errorf("bench knows datadecide, wandb-history and qa-outputs, not %q", kind)
			}
			if !cmd.Flags().Changed("memory-limit") {
				memLimit = bk.defaultMemory
			}
			if runs < 1 {
				return fmt.Errorf("--runs must be at least 1")
			}
			if rows < 1 {
				return fmt.Errorf("--rows %d: give a number of rows of at least 1", rows)
			}
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			if dir == "" {
				d, err := os.MkdirTemp("", "dschema-bench")
				if err != nil {
					return err
				}
				defer os.RemoveAll(d)
				dir = d
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			file := filepath.Join(dir, bk.file)
			start := time.Now()
			n := int64(rows)
			var err error
			switch kind {
			case "datadecide":
				n, err = fixtures.WriteFullEval(ctx, file, fixtures.BenchSpec(rows))
			case "qa-outputs":
				var bytes int64
				if bytes, err = parseSize(size); err != nil {
					return err
				}
				n, err = fixtures.WriteQABenchTarball(file, bytes, qaBenchQuestions)
			default:
				err = fixtures.WriteBenchHistory(file, rows)
			}
			if err != nil {
				return err
			}
			fi, _ := os.Stat(file)
			fmt.Fprintf(out, "generated %s: %d %s, %.1f MB, in %.1fs; memory limit %s\n", file, n, bk.describe, float64(fi.Size())/1e6, time.Since(start).Seconds(), memLimit)

			fresh := filepath.Join(dir, "migrated.duckdb")
			os.Remove(fresh)
			db, err := dbfile.Open(ctx, fresh)
			if err != nil {
				return err
			}
			m, err := migrate.New(db, fresh, migrations.FS, "migrations")
			if err == nil {
				_, err = m.Up(ctx)
			}
			db.Close()
			if err != nil {
				return err
			}
			template, err := os.ReadFile(fresh)
			if err != nil {
				return err
			}
			// Alternate the two, each in a fresh process and database file, so
			// that drift on the machine hits both alike.
			var ratios []float64
			var native, load *phaseResult
			for i := 1; i <= runs; i++ {
				nativeDB := filepath.Join(dir, "native.duckdb")
				os.Remove(nativeDB)
				if native, err = runPhase("native", kind, file, nativeDB, memLimit); err != nil {
					return err
				}
				loadDB := filepath.Join(dir, "dschema.duckdb")
				if err := os.WriteFile(loadDB, template, 0o644); err != nil {
					return err
				}
				if load, err = runPhase("load", kind, file, loadDB, memLimit); err != nil {
					return err
				}
				ratios = append(ratios, load.Seconds/native.Seconds)
				fmt.Fprintf(out, "run %d: native %.2fs (peak RSS %.0f MB), dschema %.2fs (peak RSS %.0f MB), ratio %.3f\n",
					i, native.Seconds, float64(native.MaxRSS)/1e6, load.Seconds, float64(load.MaxRSS)/1e6, ratios[i-1])
			}
			sort.Float64s(ratios)
			median := ratios[len(ratios)/2]
			if len(ratios)%2 == 0 {
				median = (ratios[len(ratios)/2-1] + ratios[len(ratios)/2]) / 2
			}
			fmt.Fprintf(out, "%-52s %9s %12s %12s\n", "last run", "seconds", "rows/s", "peak RSS")
			fmt.Fprintf(out, "%-52s %9.2f %12.0f %9.0f MB\n", bk.native, native.Seconds, float64(native.Rows)/native.Seconds, float64(native.MaxRSS)/1e6)
			fmt.Fprintf(out, "%-52s %9.2f %12.0f %9.0f MB\n", "dschema load "+kind, load.Seconds, float64(load.Rows)/load.Seconds, float64(load.MaxRSS)/1e6)
			if native.Rows != load.Rows {
				return fmt.Errorf("native read %d rows, dschema loaded %d", native.Rows, load.Rows)
			}
			fmt.Fprintf(out, "ratio (dschema / native): median %.3f over %d runs (min %.3f, max %.3f)\n", median, runs, ratios[0], ratios[len(ratios)-1])
			fmt.Fprintln(out, "dschema load by stage (last run):")
			for _, st := range load.Stages {
				fmt.Fprintf(out, "  %6.2fs  %s\n", st.Seconds, st.Name)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&rows, "rows", 100000, "rows in the generated file (datadecide, wandb-history)")
	cmd.Flags().StringVar(&size, "size", "100MiB", "qa-outputs: size of the generated tarball (bytes, or with KB, MB, GB, KiB, MiB, GiB)")
	cmd.Flags().IntVar(&runs, "runs", 1, "timed runs of each side (the median ratio is reported)")
	cmd.Flags().StringVar(&dir, "dir", "", "keep the generated file and databases in this folder (default: a temporary one, removed)")
	cmd.Flags().StringVar(&memLimit, "memory-limit", "", "DuckDB memory_limit of both sides (default: datadecide "+datadecide.MemoryLimit+", wandb-history "+wandb.HistoryMemoryLimit+", qa-outputs "+qa.MemoryLimit+")")
	return cmd
}

// qaBenchQuestions is the questions per task of each step in the qa-outputs bench.
const qaBenchQuestions = 2000

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

// extractNested is the native way to read a recipe tarball: the system tar
// extracts it into a folder beside db, then each step tarball in it into
// its own folder.
func extractNested(file, beside string) (string, error) {
	dir, err := os.MkdirTemp(beside, "native-extract")
	if err != nil {
		return "", err
	}
	if out, err := exec.Command("tar", "-xzf", file, "-C", dir).CombinedOutput(); err != nil {
		return "", fmt.Errorf("tar -xzf %s: %w: %s", file, err, out)
	}
	var inner []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".tar.gz") {
			inner = append(inner, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	for _, p := range inner {
		if out, err := exec.Command("tar", "-xzf", p, "-C", filepath.Dir(p)).CombinedOutput(); err != nil {
			return "", fmt.Errorf("tar -xzf %s: %w: %s", p, err, out)
		}
	}
	return dir, nil
}

// runPhase runs one timed phase in a child process so that its peak memory is its own.
func runPhase(phase, kind, file, db, memLimit string) (*phaseResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c := exec.Command(self, "bench-phase", phase, kind, file, db, memLimit)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("bench phase %s: %w: %s", phase, err, stderr.String())
	}
	var r phaseResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("bench phase %s: %w", phase, err)
	}
	return &r, nil
}

func benchPhaseCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "bench-phase native|load <kind> <file> <db> <memory-limit>",
		Short:  "One timed phase of dschema bench (internal)",
		Hidden: true,
		Args:   cobra.ExactArgs(5),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			phase, kind, file, path, memLimit := args[0], args[1], args[2], args[3], args[4]
			db, err := dbfile.Open(ctx, path)
			if err != nil {
				return err
			}
			defer db.Close()
			var r phaseResult
			start := time.Now()
			switch phase {
			case "native":
				read := fmt.Sprintf("read_parquet(%s)", dbschema.Literal(file))
				switch kind {
				case "wandb-history":
					read = fmt.Sprintf("read_json(%s, format = 'newline_delimited', columns = %s)", dbschema.Literal(file), wandb.HistoryJSONLColumns)
				case "qa-outputs":
					dir, err := extractNested(file, filepath.Dir(path))
					if err != nil {
						return err
					}
					defer os.RemoveAll(dir)
					read = fmt.Sprintf("read_json(%s, format = 'newline_delimited')", dbschema.Literal(filepath.Join(dir, "**", "*-predictions.jsonl")))
				}
				if _, err := db.ExecContext(ctx, "SET memory_limit = "+dbschema.Literal(memLimit)); err != nil {
					return err
				}
				if _, err := db.ExecContext(ctx, "CREATE TABLE t AS SELECT * FROM "+read); err != nil {
					return err
				}
				if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&r.Rows); err != nil {
					return err
				}
			case "load":
				last, name := time.Now(), "checking the database version"
				mark := func(next string) {
					r.Stages = append(r.Stages, stageTime{name, time.Since(last).Seconds()})
					last, name = time.Now(), next
				}
				hashing := false
				opts := loaders.Options{
					MemoryLimit: memLimit,
					Progress:    mark,
					HashProgress: func(done, total int64) {
						if !hashing {
							hashing = true
							mark("hashing the file")
						}
					},
				}
				s, err := (&loaders.Engine{DB: db, DBPath: path}).Load(ctx, kind, file, opts)
				if err != nil {
					return err
				}
				mark("")
				r.Rows = s.Rows[benchKinds[kind].rowsTable]
			default:
				return fmt.Errorf("unknown phase %q", phase)
			}
			r.Seconds = time.Since(start).Seconds()
			r.MaxRSS = peakRSS()
			writeJSON(cmd.OutOrStdout(), r)
			return nil
		},
	}
}
