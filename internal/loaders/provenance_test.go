package loaders_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/datadecide"
	"github.com/dschema/dschema/internal/loaders/loadertest"
	"github.com/dschema/dschema/internal/version"
)

// TestProvenance: every row of every table the load wrote carries its
// load_id, and the dschema_loads row reads back with every field right.
func TestProvenance(t *testing.T) {
	t.Parallel()
	full, _, _ := loadertest.Sample(t)
	v := loadertest.NewEnv(t)
	start := time.Now().UTC()
	s := v.Load(full, loaders.Options{})
	for table, n := range s.Rows {
		if got := v.Scalar(`SELECT count(*) FILTER (WHERE load_id = ?) || '/' || count(*) FROM `+table, s.LoadID); got != itoa(n)+"/"+itoa(n) {
			t.Errorf("%s: rows with load %d / all rows = %s, want %d/%d", table, s.LoadID, got, n, n)
		}
	}
	if len(s.Rows) != 4 {
		t.Errorf("rows written to %d tables, want 4: %v", len(s.Rows), s.Rows)
	}
	b, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	for _, tt := range []struct{ name, query, want string }{
		{"kind, variant, source, path", `SELECT kind || '|' || variant || '|' || source || '|' || path FROM dschema_loads`,
			"datadecide|" + datadecide.VariantFullEval + "|" + full + "|" + full},
		{"size", `SELECT size_bytes FROM dschema_loads`, itoa(int64(len(b)))},
		{"sha256", `SELECT sha256 FROM dschema_loads`, hex.EncodeToString(sum[:])},
		{"rows written", `SELECT rows_written['pretrain_evals'] || ',' || rows_written['pretrain_runs'] || ',' || rows_written['pretrain_models'] || ',' || rows_written['pretrain_datasets'] FROM dschema_loads`, "144,36,4,3"},
		{"versions", `SELECT schema_version || '|' || tool_version FROM dschema_loads`, itoa(gen.SchemaVersion) + "|" + version.String()},
		{"kept aside, in the report", `SELECT json_extract_string(report, '$.kept[0].what') FROM dschema_loads`, s.Kept[0].What},
		{"not a replacement", `SELECT coalesce(CAST(replaced_load_id AS VARCHAR), 'NULL') FROM dschema_loads`, "NULL"},
		{"times in order", `SELECT started_at >= ?::TIMESTAMPTZ - INTERVAL 1 SECOND AND finished_at >= started_at AND finished_at <= now() FROM dschema_loads`, "true"},
	} {
		q, args := tt.query, []any{}
		if tt.name == "times in order" {
			args = append(args, start.Format(time.RFC3339Nano))
		}
		if got := v.Scalar(q, args...); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
