package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/wandb"
)

// PhaseResult is what one timed phase reports to Run, as JSON.
type PhaseResult struct {
	Seconds float64 `json:"seconds"`
	Rows    int64   `json:"rows"`
	// MaxRSS is the phase process's own peak resident memory in bytes
	// (VmHWM; rusage's maxrss would carry the parent's peak across exec).
	MaxRSS int64 `json:"max_rss"`
	// Stages are the load's steps with their durations in seconds, in order.
	Stages []StageTime `json:"stages,omitempty"`
	// MemoryLimit is the DuckDB memory_limit the phase ran under.
	MemoryLimit string `json:"memory_limit"`
}

// StageTime is one step of a timed load.
type StageTime struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// Phase names one timed phase: the arguments of PhaseCommand.
type Phase struct {
	Phase       string // native or load
	Kind        string // as Options.Kind
	File        string // the generated file
	DB          string // the database file, fresh (native) or migrated (load)
	MemoryLimit string
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

// runPhase runs one timed phase in a child process (this executable run
// with PhaseCommand) so that its peak memory is its own.
func runPhase(phase, kind, file, db, memLimit string) (*PhaseResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c := exec.Command(self, PhaseCommand, phase, kind, file, db, memLimit)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("bench phase %s: %w: %s", phase, err, stderr.String())
	}
	var r PhaseResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("bench phase %s: %w", phase, err)
	}
	return &r, nil
}

// RunPhase runs one timed phase in this process and writes its PhaseResult
// to out as one line of JSON: what PhaseCommand does.
func RunPhase(ctx context.Context, out io.Writer, p Phase) error {
	db, err := dbfile.Open(ctx, p.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	var r PhaseResult
	start := time.Now()
	switch p.Phase {
	case "native":
		var extracted string
		extracted, err = nativePhase(ctx, db, p, &r)
		if extracted != "" {
			defer os.RemoveAll(extracted) // after the timing, as the read is timed without it
		}
	case "load":
		err = loadPhase(ctx, db, p, &r)
	default:
		err = fmt.Errorf("unknown phase %q", p.Phase)
	}
	if err != nil {
		return err
	}
	r.Seconds = time.Since(start).Seconds()
	r.MaxRSS = peakRSS()
	b, _ := json.Marshal(r)
	fmt.Fprintln(out, string(b))
	return nil
}

// nativePhase reads the file with DuckDB's own CREATE TABLE AS (for
// qa-outputs, after the system tar extracted it) and counts the rows. It
// returns the folder it extracted into, if any, for the caller to remove
// once the phase is timed.
func nativePhase(ctx context.Context, db *sql.DB, p Phase, r *PhaseResult) (extracted string, err error) {
	read := fmt.Sprintf("read_parquet(%s)", dbschema.Literal(p.File))
	switch p.Kind {
	case "wandb-history":
		read = fmt.Sprintf("read_json(%s, format = 'newline_delimited', columns = %s)", dbschema.Literal(p.File), wandb.HistoryJSONLColumns)
	case "qa-outputs":
		if extracted, err = extractNested(p.File, filepath.Dir(p.DB)); err != nil {
			return "", err
		}
		read = fmt.Sprintf("read_json(%s, format = 'newline_delimited')", dbschema.Literal(filepath.Join(extracted, "**", "*-predictions.jsonl")))
	}
	if _, err := db.ExecContext(ctx, "SET memory_limit = "+dbschema.Literal(p.MemoryLimit)); err != nil {
		return extracted, err
	}
	r.MemoryLimit = p.MemoryLimit
	if _, err := db.ExecContext(ctx, "CREATE TABLE t AS SELECT * FROM "+read); err != nil {
		return extracted, err
	}
	return extracted, db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&r.Rows)
}

// loadPhase loads the file with dschema, timing each stage.
func loadPhase(ctx context.Context, db *sql.DB, p Phase, r *PhaseResult) error {
	last, name := time.Now(), "checking the database version"
	mark := func(next string) {
		r.Stages = append(r.Stages, StageTime{name, time.Since(last).Seconds()})
		last, name = time.Now(), next
	}
	hashing := false
	opts := loaders.Options{
		MemoryLimit: p.MemoryLimit,
		Progress:    mark,
		HashProgress: func(done, total int64) {
			if !hashing {
				hashing = true
				mark("hashing the file")
			}
		},
	}
	s, err := (&loaders.Engine{DB: db, DBPath: p.DB}).Load(ctx, p.Kind, p.File, opts)
	if err != nil {
		return err
	}
	mark("")
	r.Rows, r.MemoryLimit = s.Rows[kinds[p.Kind].rowsTable], s.MemoryLimit
	return nil
}
