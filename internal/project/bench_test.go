package project

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/migrate"
)

// wideTable is shaped like pretrain_evals: a key and 1,887 commented DOUBLEs.
func wideTable() *dbschema.Table {
	t := &dbschema.Table{Name: "wide", Comment: "A wide table.", PrimaryKey: []string{"params", "step"}}
	t.Columns = append(t.Columns,
		&dbschema.Column{Name: "params", Type: "VARCHAR", NotNull: true, Comment: "Model size label."},
		&dbschema.Column{Name: "step", Type: "BIGINT", NotNull: true, Comment: "Training step."})
	for i := range 1887 {
		t.Columns = append(t.Columns, &dbschema.Column{Name: fmt.Sprintf("task_%d_metric", i), Type: "DOUBLE",
			Comment: fmt.Sprintf("Downstream evaluation: metric %d on task %d, as OLMES reports it.", i%28, i/28)})
	}
	return t
}

// BenchmarkCommentRuns applies a migration that creates the wide table and
// comments its columns, written as goose sends it by default (one Exec per
// statement) and as writeStatements fences it (one Exec per run of comments).
func BenchmarkCommentRuns(b *testing.B) {
	stmts := dbschema.CreateStatements(wideTable())
	var fenced strings.Builder
	writeStatements(&fenced, stmts)
	for _, v := range []struct{ name, up string }{
		{"exec_per_statement", strings.Join(stmts, "\n") + "\n"},
		{"exec_per_run", fenced.String()},
	} {
		b.Run(v.name, func(b *testing.B) {
			f := migrate.File{Version: 1, Name: "00001_wide.sql", Data: []byte("-- +goose Up\n" + v.up + "\n-- +goose Down\nDROP TABLE wide;\n")}
			ctx := context.Background()
			for b.Loop() {
				db, err := dbfile.Open(ctx, ":memory:")
				if err != nil {
					b.Fatal(err)
				}
				m, err := migrate.NewFromFiles(db, "bench", []migrate.File{f})
				if err == nil {
					_, err = m.Up(ctx)
				}
				db.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
