package runname

// Recipe is one DataDecide data recipe and the spellings the lab's names
// use for it.
type Recipe struct {
	Name    string   // DataDecide's display name, as in pretrain_datasets.data
	Aliases []string // codes in run names: short, underscore and dashed forms
}

// Recipes are the DataDecide recipes with every alias the lab's run names
// and notebooks were seen to use (LEGACY-FORMATS.md §4.4). A code is the
// alias of one recipe only (TestAliasesUnique).
var Recipes = []Recipe{
	{"Dolma1.7", []string{"d17", "dolma1_7", "dolma1.7", "Dolma 1.7"}},
	{"Dolma1.7 (no code)", nil},
	{"Dolma1.7 (no math, code)", nil},
	{"Dolma1.7 (no Reddit)", nil},
	{"Dolma1.7 (no Flan)", nil},
	{"Dolma1.6++", []string{"d16", "Dolma 1.6"}},
	{"C4", []string{"c4"}},
	{"FineWeb-Pro", []string{"fineweb_pro"}},
	{"FineWeb-Edu", []string{"fineweb_edu", "FineWeb"}},
	{"Falcon", []string{"falcon"}},
	{"Falcon+CC", []string{"falcon_cc"}},
	{"Falcon+CC (QC 10%)", []string{"falcon_cc_qc10p"}},
	{"Falcon+CC (QC 20%)", []string{"falcon_cc_qc20p"}},
	{"Falcon+CC (QC Orig 10%)", []string{"falcon_cc_qcorig10p"}},
	{"Falcon+CC (QC Tulu 10%)", []string{"falcon_cc_qctulu10p"}},
	{"DCLM-Baseline", []string{"dclm", "dclm-baseline", "DCLM", "DCLM Baseline"}},
	{"DCLM-Baseline (QC 10%)", []string{"dclm_qc10p", "dclm-baseline-qc-10p"}},
	{"DCLM-Baseline (QC 20%)", []string{"dclm_qc20p", "dclm-baseline-qc-20p"}},
	{"DCLM-Baseline (QC 7%, FW3)", []string{"dclm_qc7p_fw3", "dclm_qc7fw3", "dclm-baseline-qc-7p-fw3"}},
	{"DCLM-Baseline (QC 7%, FW2)", []string{"dclm_qc7p_fw2", "dclm_qc7fw2", "dclm-baseline-qc-7p-fw2"}},
	{"DCLM-Baseline (QC FW 3%)", []string{"dclm_qcfw3p", "dclm-baseline-qc-fw-3p"}},
	{"DCLM-Baseline (QC FW 10%)", []string{"dclm_qcfw10p", "dclm-baseline-qc-fw-10p"}},
	{"DCLM-Baseline 25% / Dolma 75%", []string{"dclm25_dolma75", "dclm_25_d17_75"}},
	{"DCLM-Baseline 50% / Dolma 50%", []string{"dclm50_dolma50", "dclm_50_d17_50"}},
	{"DCLM-Baseline 75% / Dolma 25%", []string{"dclm75_dolma25", "dclm_75_d17_25"}},
}

var recipeByAlias = func() map[string]string {
	out := map[string]string{}
	for _, r := range Recipes {
		out[r.Name] = r.Name
		for _, a := range r.Aliases {
			out[a] = r.Name
		}
	}
	return out
}()

// RecipeName is the DataDecide display name of a recipe code, or the code
// itself when it is not a known alias (as the legacy records did).
func RecipeName(code string) string {
	if n, ok := recipeByAlias[code]; ok {
		return n
	}
	return code
}

// KnownRecipe reports whether a code names a DataDecide recipe.
func KnownRecipe(code string) bool { _, ok := recipeByAlias[code]; return ok }
