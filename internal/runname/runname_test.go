package runname

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// fields renders the set fields of p as text, for comparison.
func fields(p *Parsed) map[string]string {
	b, _ := json.Marshal(p)
	var m map[string]any
	json.Unmarshal(b, &m)
	out := map[string]string{}
	for k, v := range m {
		if v == nil || k == "run_id" {
			continue
		}
		out[k] = fmt.Sprint(v)
	}
	return out
}

// TestFamilies: every family, with the §4.4 examples among the names, in
// the order they are tried (an earlier family must not take a later one's
// names). Long because it is its table: one row per family and edge case.
func TestFamilies(t *testing.T) {
	for _, c := range []struct {
		name string
		want map[string]string
	}{
		{"2025_08_19-08_50_05_finetune_DD-dolma1_7-4M_main_default", map[string]string{
			"run_type": "dpo", "pattern_name": "DPO1_PATTERN", "timestamp": "2025-08-19T08:50:05", "exp_name": "finetune",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "dolma1_7", "initial_checkpoint_size": "4M",
			"initial_checkpoint_steps": "main"}},
		{"2025_08_27-07_52_26_test_dpo_tune_cache_dd__dolma1_7-4M__main__100Mt_lr=5e-06_default_--learning_rate=2e-07", map[string]string{
			"run_type": "dpo", "pattern_name": "DPO2_PATTERN", "timestamp": "2025-08-27T07:52:26", "exp_name": "test_dpo_tune_cache",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "dolma1_7", "initial_checkpoint_size": "4M",
			"initial_checkpoint_steps": "main", "num_finetune_tokens": "1e+08", "lr1": "5e-06", "lr2": "2e-07",
			"notes": "[num_finetune_tokens: 100Mt is 1e+08 tokens (the legacy parser read it as 1e+14)]"}},
		{"250912-172812_match_150M_c4_finetune_100Mtx1_DD-d17-530M-6250-2", map[string]string{
			"run_type": "matched", "pattern_name": "MATCHED1_PATTERN", "timestamp": "2025-09-12T17:28:12", "exp_name": "match",
			"comparison_model_size": "150M", "comparison_metric": "c4_en-valppl", "comparison_model_recipe": "Dolma1.7",
			"num_finetune_tokens_per_epoch": "1e+08", "num_finetune_epochs": "1", "num_finetune_tokens": "1e+08",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "d17", "initial_checkpoint_size": "530M",
			"initial_checkpoint_steps": "6250", "seed": "2"}},
		{"250912-172812_match_150M_c4_finetune_Ft_DD-d17-530M-6250-2", map[string]string{
			"run_type": "matched", "pattern_name": "MATCHED2_PATTERN", "timestamp": "2025-09-12T17:28:12", "exp_name": "match",
			"comparison_model_size": "150M", "comparison_metric": "c4_en-valppl", "comparison_model_recipe": "Dolma1.7",
			"num_finetune_tokens_per_epoch": "6.65127434e+08", "num_finetune_epochs": "2", "num_finetune_tokens": "1.330254868e+09",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "d17", "initial_checkpoint_size": "530M",
			"initial_checkpoint_steps": "6250", "seed": "2"}},
		{"250912-172812_match_150M_finetune_Ft_DD-d17-530M-6250-2_lr=5e-05", map[string]string{
			"run_type": "matched", "pattern_name": "MATCHED3_PATTERN", "timestamp": "2025-09-12T17:28:12", "exp_name": "match",
			"comparison_model_size": "150M", "comparison_metric": "pile-valppl", "comparison_model_recipe": "Dolma1.7",
			"num_finetune_tokens_per_epoch": "6.65127434e+08", "num_finetune_epochs": "2", "num_finetune_tokens": "1.330254868e+09",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "d17", "initial_checkpoint_size": "530M",
			"initial_checkpoint_steps": "6250", "seed": "2", "lr": "5e-05"}},
		{"250912-172812_match_150M_finetune_100Mtx1_DD-d17-530M-6250-2", map[string]string{
			"run_type": "matched", "pattern_name": "MATCHED4_PATTERN", "timestamp": "2025-09-12T17:28:12", "exp_name": "match",
			"comparison_model_size": "150M", "comparison_metric": "pile-valppl", "comparison_model_recipe": "Dolma1.7",
			"num_finetune_tokens_per_epoch": "1e+08", "num_finetune_epochs": "1", "num_finetune_tokens": "1e+08",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "d17", "initial_checkpoint_size": "530M",
			"initial_checkpoint_steps": "6250", "seed": "2"}},
		{"250912-172812_match_150M_finetune_Ft_DD-d17-530M-6250-2", map[string]string{
			"run_type": "matched", "pattern_name": "MATCHED5_PATTERN", "timestamp": "2025-09-12T17:28:12", "exp_name": "match",
			"comparison_model_size": "150M", "comparison_metric": "pile-valppl", "comparison_model_recipe": "Dolma1.7",
			"num_finetune_tokens_per_epoch": "6.65127434e+08", "num_finetune_epochs": "2", "num_finetune_tokens": "1.330254868e+09",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "d17", "initial_checkpoint_size": "530M",
			"initial_checkpoint_steps": "6250", "seed": "2"}},
		{"250915-090000_match_DD-d17-150M_Ft_DD-dclm-530M-6250-2_lr=5e-05", map[string]string{
			"run_type": "matched", "pattern_name": "MATCHED6_PATTERN", "timestamp": "2025-09-15T09:00:00", "exp_name": "match",
			"comparison_model_size": "150M", "comparison_metric": "pile-valppl", "comparison_model_recipe": "Dolma1.7",
			"num_finetune_tokens_per_epoch": "6.65127434e+08", "num_finetune_epochs": "2", "num_finetune_tokens": "1.330254868e+09",
			"initial_checkpoint_recipe": "DCLM-Baseline", "initial_checkpoint_recipe_raw": "dclm", "initial_checkpoint_size": "530M",
			"initial_checkpoint_steps": "6250", "seed": "2", "lr": "5e-05"}},
		{"2025_09_15-09_00_00_match_DD-d17-150M_Ft_DD-d17-530M-6250-2_lr=5e-05", map[string]string{
			"run_type": "matched", "pattern_name": "MATCHED7_PATTERN", "timestamp": "2025-09-15T09:00:00", "exp_name": "match",
			"comparison_model_size": "150M", "comparison_metric": "pile-valppl", "comparison_model_recipe": "Dolma1.7",
			"num_finetune_tokens_per_epoch": "6.65127434e+08", "num_finetune_epochs": "2", "num_finetune_tokens": "1.330254868e+09",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "d17", "initial_checkpoint_size": "530M",
			"initial_checkpoint_steps": "6250", "seed": "2", "lr": "5e-05"}},
		{"250904-222144_test_match_150M_finetune_10Mtx1_DD-d17-300M-17500-2_lr=5e-05", map[string]string{
			"run_type": "matched", "pattern_name": "MATCHED8_PATTERN", "timestamp": "2025-09-04T22:21:44", "exp_name": "test_match",
			"comparison_model_size": "150M", "comparison_metric": "pile-valppl", "comparison_model_recipe": "Dolma1.7",
			"num_finetune_tokens_per_epoch": "1e+07", "num_finetune_epochs": "1", "num_finetune_tokens": "1e+07",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "d17", "initial_checkpoint_size": "300M",
			"initial_checkpoint_steps": "17500", "seed": "2", "lr": "5e-05"}},
		{"2025_08_20-12_12_19_test_data_rep_finetune_DD-dolma1_7-4M_main_default_--max_train_samples=51200_--reduce_loss=sum", map[string]string{
			"run_type": "reduce_type", "pattern_name": "REDUCE_LOSS_PATTERN", "timestamp": "2025-08-20T12:12:19", "exp_name": "test_data_rep_finetune",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "dolma1_7", "initial_checkpoint_size": "4M",
			"initial_checkpoint_steps": "main", "max_train_samples": "51200", "reduce_loss": "sum"}},
		{"2025_08_21-08_24_43_test_finetune_DD-dolma1_7-4M_main_1Mtx1_--learning_rate=5e-07", map[string]string{
			"run_type": "simple_ft_vary_tokens", "pattern_name": "FT1_PATTERN", "timestamp": "2025-08-21T08:24:43", "exp_name": "test_finetune",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "dolma1_7", "initial_checkpoint_size": "4M",
			"initial_checkpoint_steps": "main", "num_finetune_tokens_per_epoch": "1e+06", "num_finetune_epochs": "1", "num_finetune_tokens": "1e+06",
			"lr": "5e-07"}},
		{"2025_08_22-10_00_00_test_finetune_DD-dolma1_7-4M_main_10M_toks_--learning_rate=5e-06", map[string]string{
			"run_type": "simple_ft_vary_tokens", "pattern_name": "FT3_PATTERN", "timestamp": "2025-08-22T10:00:00", "exp_name": "test_finetune",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "dolma1_7", "initial_checkpoint_size": "4M",
			"initial_checkpoint_steps": "main", "num_finetune_epochs": "1", "num_finetune_tokens": "1e+07", "lr": "5e-06"}},
		{"250905-101010_sweep_10Mtx2_DD-d17-150M-5000-0_lr=1e-05", map[string]string{
			"run_type": "simple_ft_vary_tokens", "pattern_name": "FT6_PATTERN", "timestamp": "2025-09-05T10:10:10", "exp_name": "sweep",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "d17", "initial_checkpoint_size": "150M",
			"initial_checkpoint_steps": "5000", "seed": "0", "num_finetune_tokens_per_epoch": "1e+07", "num_finetune_epochs": "2",
			"num_finetune_tokens": "2e+07", "lr": "1e-05"}},
		{"2025_08_30-16_54_48_test_finetune_DD-dolma1_7-4M_Ft_--learning_rate=5e-05", map[string]string{
			"run_type": "simple_ft", "pattern_name": "FT4_PATTERN", "timestamp": "2025-08-30T16:54:48", "exp_name": "test_finetune",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "dolma1_7", "initial_checkpoint_size": "4M",
			"initial_checkpoint_steps": "main", "num_finetune_tokens_per_epoch": "6.65127434e+08", "num_finetune_epochs": "2",
			"num_finetune_tokens": "1.330254868e+09", "lr": "5e-05"}},
		{"250901-155734_test_finetune_DD-dclm-baseline-150M_Ft_learning_rate=5e-05", map[string]string{
			"run_type": "simple_ft", "pattern_name": "FT5_PATTERN", "timestamp": "2025-09-01T15:57:34", "exp_name": "test_finetune",
			"initial_checkpoint_recipe": "DCLM-Baseline", "initial_checkpoint_recipe_raw": "dclm-baseline", "initial_checkpoint_size": "150M",
			"initial_checkpoint_steps": "main", "num_finetune_tokens_per_epoch": "6.65127434e+08", "num_finetune_epochs": "2",
			"num_finetune_tokens": "1.330254868e+09", "lr": "5e-05"}},
		{"250910-120000_ftall_Ft_DD-unknown_mix-150M-10000-1_lr=2e-05", map[string]string{
			"run_type": "simple_ft", "pattern_name": "FT7_PATTERN", "timestamp": "2025-09-10T12:00:00", "exp_name": "ftall",
			"initial_checkpoint_recipe": "unknown_mix", "initial_checkpoint_recipe_raw": "unknown_mix", "initial_checkpoint_size": "150M",
			"initial_checkpoint_steps": "10000", "seed": "1", "num_finetune_tokens_per_epoch": "6.65127434e+08", "num_finetune_epochs": "2",
			"num_finetune_tokens": "1.330254868e+09", "lr": "2e-05"}},
		{"2025_08_18-22_30_05_allenai--DataDecide-dolma1_7-4M_main_default", map[string]string{"run_type": "old"}},
		{"2025_08_18-22_30_05_dpo_DataDecide-dolma1_7-4M_main_default", map[string]string{"run_type": "other"}},
		{"2025_08_18-22_30_05_allenai--DataDecide-dolma1_7-4M_main_default_--reduce_loss=sum", map[string]string{"run_type": "other"}},
		// A sample count too big for an integer: the family matches, the count is NULL.
		{"2025_08_20-12_12_19_t_DD-dolma1_7-4M_main_default_--max_train_samples=99999999999999999999_--reduce_loss=sum", map[string]string{
			"run_type": "reduce_type", "pattern_name": "REDUCE_LOSS_PATTERN", "timestamp": "2025-08-20T12:12:19", "exp_name": "t",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "dolma1_7", "initial_checkpoint_size": "4M",
			"initial_checkpoint_steps": "main", "reduce_loss": "sum"}},
		{"my-quick-test", map[string]string{"run_type": "other"}},
		{"", map[string]string{"run_type": "other"}},
		// A date that is not one: the family matches, the timestamp is NULL.
		{"251399-250000_sweep_10Mtx2_DD-d17-150M-5000-0_lr=1e-05", map[string]string{
			"run_type": "simple_ft_vary_tokens", "pattern_name": "FT6_PATTERN", "exp_name": "sweep",
			"initial_checkpoint_recipe": "Dolma1.7", "initial_checkpoint_recipe_raw": "d17", "initial_checkpoint_size": "150M",
			"initial_checkpoint_steps": "5000", "seed": "0", "num_finetune_tokens_per_epoch": "1e+07", "num_finetune_epochs": "2",
			"num_finetune_tokens": "2e+07", "lr": "1e-05"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := fields(Parse(c.name))
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			for k, v := range got {
				if _, ok := c.want[k]; !ok {
					t.Errorf("unexpected %s = %q", k, v)
				}
			}
		})
	}
}

// TestFill: LR, seed and epochs missing from a name come from the config;
// what the name gives is kept; an old or other run takes nothing.
func TestFill(t *testing.T) {
	cfg := map[string]any{"learning_rate": json.Number("5e-05"), "seed": json.Number("3"), "num_train_epochs": json.Number("3")}
	p := Parse("250912-172812_match_150M_finetune_100Mtx1_DD-d17-530M-6250-2") // MATCHED4: no lr in the name
	p.Fill(cfg)
	got := fields(p)
	for k, want := range map[string]string{"lr": "5e-05", "seed": "2", "num_finetune_epochs": "1", "num_finetune_tokens": "1e+08", "filled_from_config": "[lr]"} {
		if got[k] != want {
			t.Errorf("MATCHED4 filled: %s = %q, want %q", k, got[k], want)
		}
	}
	p = Parse("2025_08_22-10_00_00_test_finetune_DD-dolma1_7-4M_main_10M_toks_--learning_rate=5e-06") // FT3: no epochs in the name
	p.Fill(cfg)
	got = fields(p)
	for k, want := range map[string]string{"lr": "5e-06", "num_finetune_epochs": "3", "num_finetune_tokens": "1e+07", "seed": "3", "filled_from_config": "[seed num_finetune_epochs]"} {
		if got[k] != want {
			t.Errorf("FT3 filled: %s = %q, want %q", k, got[k], want)
		}
	}
	p = Parse("2025_08_30-16_54_48_test_finetune_DD-dolma1_7-4M_Ft_--learning_rate=5e-05") // _Ft_: epochs are the rule's
	p.Fill(cfg)
	if got := fields(p); got["num_finetune_epochs"] != "2" || got["filled_from_config"] != "[seed]" || got["seed"] != "3" {
		t.Errorf("FT4 filled: %v", got)
	}
	p = Parse("my-quick-test")
	p.Fill(cfg)
	if p.LR != nil || p.Filled != nil {
		t.Errorf("other filled: %+v", p)
	}
	for _, c := range []struct {
		v    any
		want string
		ok   bool
	}{{5e-05, "5e-05", true}, {0.0001, "0.0001", true}, {2.0, "2.0", true}, {float64(3), "3.0", true}, {int64(7), "7", true}, {json.Number("3"), "3", true}, {"1e-4", "1e-4", true}, {nil, "", false}, {"N/A", "", false}, {"", "", false}, {1e16, "1e+16", true}, {true, "True", true}, {[]any{1}, "", false}} {
		if got, ok := configText(c.v); got != c.want || ok != c.ok {
			t.Errorf("configText(%v) = %q %v, want %q %v", c.v, got, ok, c.want, c.ok)
		}
	}
}

func TestRecipes(t *testing.T) {
	seen := map[string]string{}
	for _, r := range Recipes {
		for _, a := range append([]string{r.Name}, r.Aliases...) {
			if other, ok := seen[a]; ok && other != r.Name {
				t.Errorf("alias %q names %s and %s", a, other, r.Name)
			}
			seen[a] = r.Name
		}
	}
	if len(Recipes) != 25 {
		t.Errorf("%d recipes, DataDecide has 25", len(Recipes))
	}
	for code, want := range map[string]string{"d17": "Dolma1.7", "dolma1_7": "Dolma1.7", "dclm-baseline-qc-fw-3p": "DCLM-Baseline (QC FW 3%)", "mystery": "mystery"} {
		if got := RecipeName(code); got != want {
			t.Errorf("RecipeName(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestDigits(t *testing.T) {
	for in, want := range map[string]string{"١٢٣": "123", "𝟘𝟙𝟚𝟡": "0129", "𝟬𝟵": "09", "12": "12"} {
		if got := asciiDigits(in); got != want {
			t.Errorf("asciiDigits(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParse: the parser never panics; what matches no family is old or
// other with no fields; a family's fields are pieces of the name.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"2025_08_19-08_50_05_finetune_DD-dolma1_7-4M_main_default",
		"250912-172812_match_150M_c4_finetune_100Mtx1_DD-d17-530M-6250-2",
		"2025_08_27-07_52_26_test_dpo_tune_cache_dd__dolma1_7-4M__main__100Mt_lr=5e-06_default_--learning_rate=2e-07",
		"250901-155734_test_finetune_DD-dclm-baseline-150M_Ft_learning_rate=5e-05",
		"main_default", "", "_Ft_", "251399-250000_x_Ft_DD-a-1M-1-1_lr=1e",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		p := Parse(name)
		p.Fill(map[string]any{"learning_rate": 1e-5, "seed": 1.0, "num_train_epochs": "x"})
		switch p.RunType {
		case TypeOld, TypeOther:
			if p.PatternName != "" || p.ExpName != nil || p.LR != nil {
				t.Fatalf("%q: %s with fields %+v", name, p.RunType, p)
			}
		default:
			if p.ExpName == nil || !strings.Contains(name, *p.ExpName) || !utf8.ValidString(*p.ExpName) {
				t.Fatalf("%q: exp_name %v", name, p.ExpName)
			}
			if p.PatternName == "" {
				t.Fatalf("%q: no pattern name", name)
			}
		}
	})
}

// TestNumber: a field reads as a finite number, or not at all (NaN and
// infinities, which ParseFloat accepts, are not numbers for a run record).
func TestNumber(t *testing.T) {
	for _, c := range []struct {
		in   *string
		want *float64
	}{
		{ptr("5e-05"), ptr(5e-05)},
		{ptr(" 3 "), ptr(3.0)},
		{ptr("-0.5"), ptr(-0.5)},
		{ptr("1e308"), ptr(1e308)},
		{nil, nil},
		{ptr(""), nil},
		{ptr("abc"), nil},
		{ptr("1e400"), nil}, // out of range: ParseFloat gives +Inf and an error
		{ptr("NaN"), nil},
		{ptr("nan"), nil},
		{ptr("Inf"), nil},
		{ptr("+inf"), nil},
		{ptr("-Inf"), nil},
		{ptr("infinity"), nil},
		{ptr("-Infinity"), nil},
	} {
		got := Number(c.in)
		if (got == nil) != (c.want == nil) || got != nil && *got != *c.want {
			t.Errorf("Number(%s) = %s, want %s", show(c.in), show(got), show(c.want))
		}
	}
	p := &Parsed{LR: ptr("NaN")}
	if v := p.LRValue(); v != nil {
		t.Errorf("LRValue() of lr NaN = %v, want nil", *v)
	}
}

// TestFillRefusesNonNumbers: a config whose epochs are not a finite
// number fills nothing, and the token total stays the name's.
func TestFillRefusesNonNumbers(t *testing.T) {
	const name = "2025_08_22-10_00_00_test_finetune_DD-dolma1_7-4M_main_10M_toks_--learning_rate=5e-06" // FT3: no epochs in the name
	for _, epochs := range []any{"NaN", "inf", "-Infinity", "three", "", "N/A", nil, map[string]any{}} {
		p := Parse(name)
		p.Fill(map[string]any{"num_train_epochs": epochs})
		if show(p.NumFinetuneEpochs) != `"1"` || show(p.NumFinetuneTokens) != `"1e+07"` || p.Filled != nil {
			t.Errorf("Fill(num_train_epochs=%#v): epochs %s, tokens %s, filled %q; want 1, 1e+07, nothing",
				epochs, show(p.NumFinetuneEpochs), show(p.NumFinetuneTokens), p.Filled)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func show[T any](p *T) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprintf("%q", fmt.Sprint(*p))
}
