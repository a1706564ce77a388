package loaders

import (
	"context"
	"testing"

	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/duckdbtest"
)

// TestSetAside: verify sets a load's rows aside under quoted names, so
// any table name works.
func TestSetAside(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := duckdbtest.Open(t).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, name := range []string{"qa_task_outputs", `qa "odd" table`, "select"} {
		t.Run(name, func(t *testing.T) {
			tbl, aside := dbschema.Ident(name), dbschema.Ident("_dschema_db_"+name)
			if _, err := conn.ExecContext(ctx, "CREATE TABLE "+tbl+" AS SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (1, 'c')) v(load_id, x)"); err != nil {
				t.Fatal(err)
			}
			if err := SetAside(ctx, conn, "_dschema_db_", 1, nil, []string{name}); err != nil {
				t.Fatalf("SetAside(%q) = %v", name, err)
			}
			var left, set string
			if err := conn.QueryRowContext(ctx, "SELECT (SELECT string_agg(x, ' ' ORDER BY x) FROM "+tbl+"), (SELECT string_agg(x, ' ' ORDER BY x) FROM "+aside+")").Scan(&left, &set); err != nil {
				t.Fatal(err)
			}
			if left != "b" || set != "a c" {
				t.Errorf("SetAside(%q): left %q, set aside %q; want b, a c", name, left, set)
			}
		})
	}
}
