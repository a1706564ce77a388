package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRunNameCommand(t *testing.T) {
	t.Parallel()
	out, errs, code := runCmd(t, "runname", "250904-222144_test_match_150M_finetune_10Mtx1_DD-d17-300M-17500-2_lr=5e-05",
		"250910-120000_ftall_Ft_DD-mystery-150M-10000-1_lr=2e-05")
	if code != 0 {
		t.Fatalf("runname: %s %s", out, errs)
	}
	for _, want := range []string{
		"  run_type                       matched\n",
		"  pattern_name                   MATCHED8_PATTERN\n",
		"  timestamp                      2025-09-04 22:21:44\n",
		"  initial_checkpoint_recipe      Dolma1.7 (d17)\n",
		"  num_finetune_tokens            1e+07\n",
		"  comparison_metric              pile-valppl\n",
		"  initial_checkpoint_recipe      mystery (not a DataDecide recipe code this dschema knows)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("runname output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runCmd(t, "runname", "--json", "my-test", "2025_08_20-12_12_19_x_DD-dolma1_7-4M_main_default_--max_train_samples=51200_--reduce_loss=sum")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 {
		t.Fatalf("runname --json: %q", out)
	}
	var a, b map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &a); err != nil || a["run_type"] != "other" {
		t.Errorf("%s: %v", lines[0], err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &b); err != nil || b["run_type"] != "reduce_type" || b["reduce_loss"] != "sum" || b["max_train_samples"] != 51200.0 {
		t.Errorf("%s: %v", lines[1], err)
	}
	if _, errs, code := runCmd(t, "runname"); code == 0 || !strings.Contains(errs, "requires at least 1 arg") {
		t.Errorf("runname without a name: %q, exit %d", errs, code)
	}
}
