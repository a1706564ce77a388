package loaders_test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/runname"
)

// TestReferenceViews: the schema's recipe_aliases view is the run-name
// parser's alias table, row for row; its recipes are DataDecide's; the
// seeds view is DataDecide's seed names.
func TestReferenceViews(t *testing.T) {
	v := newEnv(t)
	rows, err := v.db.QueryContext(v.ctx, "SELECT alias, recipe FROM recipe_aliases ORDER BY alias")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var a, r string
		if err := rows.Scan(&a, &r); err != nil {
			t.Fatal(err)
		}
		got = append(got, a+" -> "+r)
	}
	rows.Close()
	sort.Strings(got)
	var want []string
	names := map[string]bool{}
	for _, r := range runname.Recipes {
		names[r.Name] = true
		for _, a := range append([]string{r.Name}, r.Aliases...) {
			want = append(want, a+" -> "+r.Name)
		}
	}
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("recipe_aliases differs from runname.Recipes:\n%v\n%v", got, want)
	}
	for _, r := range fixtures.Recipes {
		if !names[r] {
			t.Errorf("DataDecide recipe %q is not in runname.Recipes", r)
		}
	}
	if len(names) != len(fixtures.Recipes) {
		t.Errorf("%d recipes in runname, %d in DataDecide", len(names), len(fixtures.Recipes))
	}
	for i, n := range loaders.SeedNames {
		if got := v.scalar("SELECT seed_name FROM datadecide_seeds WHERE seed = ?", i); got != n {
			t.Errorf("seed %d = %s, want %s", i, got, n)
		}
	}
}
