package runname

import "strings"

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
	{"Dolma1.7", []string{"d17", "dolma1_7", "dolma1.7", "Dolma 1.7", "dolma17"}},
	{"Dolma1.7 (no code)", []string{"dolma1_7-no-code", "dolma1.7-no-code", "dolma17_no_code", "no_code"}},
	{"Dolma1.7 (no math, code)", []string{"dolma1_7-no-math-code", "dolma1.7-no-math-no-code", "dolma17_no_math_code", "no_math_no_code"}},
	{"Dolma1.7 (no Reddit)", []string{"dolma1_7-no-reddit", "dolma1.7-no-reddit", "dolma17_no_reddit", "no_reddit"}},
	{"Dolma1.7 (no Flan)", []string{"dolma1_7-no-flan", "dolma1.7-no-flan", "dolma17_no_flan", "no_flan"}},
	{"Dolma1.6++", []string{"d16", "Dolma 1.6", "dolma1_6plus", "dolma16", "dolma_v1_6_and_sources_baseline"}},
	{"C4", []string{"c4"}},
	{"FineWeb-Pro", []string{"fineweb_pro", "fineweb-pro", "prox_fineweb_pro"}},
	{"FineWeb-Edu", []string{"fineweb_edu", "FineWeb", "fineweb-edu", "fineweb_edu_dedup"}},
	{"Falcon", []string{"falcon"}},
	{"Falcon+CC", []string{"falcon_cc", "falcon-and-cc", "falcon_and_cc"}},
	{"Falcon+CC (QC 10%)", []string{"falcon_cc_qc10p", "falcon-and-cc-qc-10p", "falcon_cc_qc_10", "falcon_and_cc_eli5_oh_top10p"}},
	{"Falcon+CC (QC 20%)", []string{"falcon_cc_qc20p", "falcon-and-cc-qc-20p", "falcon_cc_qc_20", "falcon_and_cc_eli5_oh_top20p"}},
	{"Falcon+CC (QC Orig 10%)", []string{"falcon_cc_qcorig10p", "falcon-and-cc-qc-orig-10p", "falcon_cc_qc_orig_10", "falcon_and_cc_og_eli5_oh_top10p"}},
	{"Falcon+CC (QC Tulu 10%)", []string{"falcon_cc_qctulu10p", "falcon-and-cc-qc-tulu-10p", "falcon_cc_qc_tulu_10", "falcon_and_cc_tulu_qc_top10"}},
	{"DCLM-Baseline", []string{"dclm", "dclm-baseline", "DCLM", "DCLM Baseline", "dclm_baseline", "DCLM-baseline"}},
	{"DCLM-Baseline (QC 10%)", []string{"dclm_qc10p", "dclm-baseline-qc-10p", "dclm_baseline_qc_10", "pos_eli5_oh_neg_dclm_refinedweb_steps_2000_lr3e4_top10p"}},
	{"DCLM-Baseline (QC 20%)", []string{"dclm_qc20p", "dclm-baseline-qc-20p", "dclm_baseline_qc_20", "pos_eli5_oh_neg_dclm_refinedweb_steps_2000_lr3e4_top20p"}},
	{"DCLM-Baseline (QC 7%, FW3)", []string{"dclm_qc7p_fw3", "dclm_qc7fw3", "dclm-baseline-qc-7p-fw3", "dclm_baseline_qc_7_fw3", "dclm_ft7percentile_fw3"}},
	{"DCLM-Baseline (QC 7%, FW2)", []string{"dclm_qc7p_fw2", "dclm_qc7fw2", "dclm-baseline-qc-7p-fw2", "dclm_baseline_qc_7_fw2", "dclm_ft7percentile_fw2"}},
	{"DCLM-Baseline (QC FW 3%)", []string{"dclm_qcfw3p", "dclm-baseline-qc-fw-3p", "dclm_baseline_qc_fw_3", "dclm_fw_top3"}},
	{"DCLM-Baseline (QC FW 10%)", []string{"dclm_qcfw10p", "dclm-baseline-qc-fw-10p", "dclm_baseline_qc_fw_10", "dclm_fw_top10"}},
	{"DCLM-Baseline 25% / Dolma 75%", []string{"dclm25_dolma75", "dclm_25_d17_75", "dclm-baseline-25p-dolma1.7-75p", "dclm_baseline_25_dolma_75", "dolma17_75p_dclm_baseline_25p"}},
	{"DCLM-Baseline 50% / Dolma 50%", []string{"dclm50_dolma50", "dclm_50_d17_50", "dclm-baseline-50p-dolma1.7-50p", "dclm_baseline_50_dolma_50", "dolma17_50p_dclm_baseline_50p"}},
	{"DCLM-Baseline 75% / Dolma 25%", []string{"dclm75_dolma25", "dclm_75_d17_25", "dclm-baseline-75p-dolma1.7-25p", "dclm_baseline_75_dolma_25", "dolma17_25p_dclm_baseline_75p"}},
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

// TrainingSeeds maps each training seed a DataDecide eval-instance path
// writes (seed-<N>) to the DataDecide seed number 0-4 (pretrain_evals.seed).
// The default seed is 6198, written 2 in the instance paths
// (LEGACY-FORMATS.md §1.1, §5.1). The schema's datadecide_training_seeds
// view is the same table (TestReferenceViews).
var TrainingSeeds = map[int64]int64{6198: 0, 2: 0, 14: 1, 15: 2, 4: 3, 5: 4}

// DataDecideSeed is the DataDecide seed (0-4) of a training seed.
func DataDecideSeed(training int64) (int64, bool) {
	s, ok := TrainingSeeds[training]
	return s, ok
}

// LookupRecipe is the DataDecide name of a recipe spelling: an alias as
// written, else one that differs from it only in letter case.
func LookupRecipe(code string) (string, bool) {
	if n, ok := recipeByAlias[code]; ok {
		return n, true
	}
	n, ok := recipeByFold[strings.ToLower(code)]
	return n, ok
}

var recipeByFold = func() map[string]string {
	out := map[string]string{}
	for a, n := range recipeByAlias {
		out[strings.ToLower(a)] = n
	}
	return out
}()
