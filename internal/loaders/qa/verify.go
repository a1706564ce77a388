package qa

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dschema/dschema/internal/loaders"

	"github.com/dschema/dschema/gen"
	"github.com/dschema/dschema/internal/dbschema"
)

var _ loaders.Verifier = qaLoader{}

// qaTables are the QA loader's tables with their keys.
var qaTables = []struct {
	name string
	keys []string
}{
	{gen.QATaskOutputTable, gen.QATaskOutputPrimaryKey},
	{gen.QAQuestionOutputTable, gen.QAQuestionOutputPrimaryKey},
	{gen.QAQuestionInputTable, gen.QAQuestionInputPrimaryKey},
}

// Verify implements Verifier: the QA outputs of a tarball or folder
// against what its current load wrote. In a transaction rolled back, the
// load's rows are set aside, the source is read again by the loader's own
// pipeline (load id -1), and the two compared row for row and value for
// value (NaN = NaN, NULL = NULL, maps by sorted entries). What another
// source's load holds the loader leaves out, and the verdict names it.
func (k qaLoader) Verify(ctx context.Context, db *sql.DB, path string, opts loaders.VerifyOptions) (loaders.Verdict, error) {
	abs, v, err := loaders.StartVerify(k.Kind(), path, &opts)
	if err != nil {
		return nil, err
	}
	err = loaders.InRollback(ctx, db, func(conn *sql.Conn) error {
		loadID, err := loaders.CurrentLoadOfPath(ctx, conn, k.Kind(), abs)
		if err != nil {
			return err
		}
		for _, t := range qaTables {
			if err := loaders.SetAside(ctx, conn, "_dschema_db_", loadID, nil, []string{t.name}); err != nil {
				return err
			}
		}
		rep, err := k.Load(ctx, &loaders.Load{Conn: conn, ID: -1, Source: loaders.Source{Path: abs, Key: abs}})
		if err != nil {
			return err
		}
		for _, s := range rep.Skipped {
			v.NotCompared = append(v.NotCompared, fmt.Sprintf("%s (%d): %s", s.What, s.Count, s.Reason))
		}
		for _, t := range qaTables {
			exp := "_dschema_exp_" + t.name
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS SELECT * FROM %s WHERE load_id = -1", dbschema.Ident(exp), dbschema.Ident(t.name))); err != nil {
				return err
			}
			cols := loaders.Without(loaders.ColumnsOf(ctx, conn, t.name), append([]string{"load_id"}, t.keys...)...)
			r := loaders.Relation{Name: "_dschema_db_" + t.name, Label: t.name, Expected: exp, Keys: t.keys, Cols: cols}
			if err := loaders.CompareRelation(ctx, conn, v, r, loadID, opts.MaxExamples); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}
