package schema

import (
	"strings"
	"testing"
)

func TestLoadEmbedded(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	evals := s.Table("pretrain_evals")
	if evals == nil {
		t.Fatal("no pretrain_evals table")
	}
	// 8 base columns + 11 perplexities + 1,866 task × metric + overflow + load_id.
	if got, want := len(evals.Columns), 8+11+1866+1+1; got != want {
		t.Errorf("pretrain_evals has %d columns, want %d", got, want)
	}
	if c := evals.Column("boolq_acc_uncond"); c != nil {
		t.Errorf("boolq_acc_uncond exists, want it excepted")
	}
	c := evals.Column("mmlu_average_primary_metric")
	if c == nil || c.Description != "Downstream evaluation: primary_metric on mmlu_average." {
		t.Errorf("mmlu_average_primary_metric = %+v", c)
	}
	if got := len(s.Table("pretrain_models").Columns); got != 46 {
		t.Errorf("pretrain_models has %d columns, want 46 (params, 4 schedule columns, 40 model details, load_id)", got)
	}
	var names []string
	for _, d := range s.Domains {
		names = append(names, d.Name)
	}
	if got := strings.Join(names, ","); got != "finetune,pretraining,provenance,reference,wandb,wandb_history" {
		t.Errorf("domains = %s", got)
	}
}
