package datadecide_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/fixtures"
	"github.com/dschema/dschema/internal/loaders/datadecide"
	"github.com/dschema/dschema/internal/loaders/loadertest"
	"github.com/dschema/dschema/internal/runname"
)

// TestReferenceViews: the schema's recipe_aliases view is the run-name
// parser's alias table, row for row; its recipes are DataDecide's; the
// seeds view is DataDecide's seed names.
func TestReferenceViews(t *testing.T) {
	t.Parallel()
	v := loadertest.NewEnv(t)
	rows, err := v.DB.QueryContext(v.Ctx, "SELECT alias, recipe FROM recipe_aliases ORDER BY alias")
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
	for i, n := range datadecide.SeedNames {
		if got := v.Scalar("SELECT seed_name FROM datadecide_seeds WHERE seed = ?", i); got != n {
			t.Errorf("seed %d = %s, want %s", i, got, n)
		}
	}
	// LEGACY-FORMATS §1.1 lists the training seeds in the seeds' order.
	if got := v.Scalar("SELECT string_agg(training_seed::VARCHAR, ' ' ORDER BY seed) FROM datadecide_seeds"); got != "6198 14 15 4 5" {
		t.Errorf("training seeds by seed = %s", got)
	}
	if got, want := v.Scalar("SELECT string_agg(training_seed || '->' || seed, ' ' ORDER BY training_seed) FROM datadecide_training_seeds"), func() string {
		var ks []int
		for k := range runname.TrainingSeeds {
			ks = append(ks, int(k))
		}
		sort.Ints(ks)
		var out []string
		for _, k := range ks {
			out = append(out, fmt.Sprintf("%d->%d", k, runname.TrainingSeeds[int64(k)]))
		}
		return strings.Join(out, " ")
	}(); got != want {
		t.Errorf("datadecide_training_seeds = %s, runname.TrainingSeeds = %s", got, want)
	}
	// Every training seed's DataDecide seed is the one datadecide_seeds names it for, or the default's alias 2.
	if got := v.Scalar("SELECT count(*) FROM datadecide_training_seeds t LEFT JOIN datadecide_seeds s USING (training_seed) WHERE s.seed IS DISTINCT FROM t.seed"); got != "1" {
		t.Errorf("%s training seeds are not datadecide_seeds' (want 1: the default's alias 2)", got)
	}
}
