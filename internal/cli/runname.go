package cli

import (
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dschema/dschema/internal/runname"
)

// runnameFields are the legacy record's field names, in its order.
var runnameFields = []string{"run_type", "pattern_name", "timestamp", "exp_name", "initial_checkpoint_recipe",
	"initial_checkpoint_size", "initial_checkpoint_steps", "num_finetune_tokens_per_epoch", "num_finetune_epochs",
	"num_finetune_tokens", "lr", "lr1", "lr2", "seed", "reduce_loss", "comparison_model_size", "comparison_metric"}

func runnameCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "runname <name>...",
		Short: "Parse finetune run names as the lab's records do: type, family and every field",
		Long: "Parse run names into the fields of the legacy finetune records (run_type, pattern_name, timestamp,\n" +
			"exp_name, initial_checkpoint_*, num_finetune_*, lr, lr1, lr2, seed, reduce_loss, comparison_*),\n" +
			"so a name can be checked before a sweep is launched. Families are tried in the lab's order, first\n" +
			"match wins; a name none matches is old or other. Fields the name lacks and its type carries get the\n" +
			"legacy defaults (1 epoch, the main checkpoint, the pile comparison metric); a load of W&B runs fills\n" +
			"learning rate, seed and epochs from each run's config instead.",
		Args:    cobra.MinimumNArgs(1),
		Example: "  dschema runname 250912-172812_match_150M_c4_finetune_100Mtx1_DD-d17-530M-6250-2\n  dschema runname --json NAME...",
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			for _, name := range args {
				p := runname.Parse(name)
				if asJSON {
					writeJSON(out, p)
					continue
				}
				printRunName(out, p)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per name")
	return cmd
}

func printRunName(w io.Writer, p *runname.Parsed) {
	fmt.Fprintf(w, "%s\n", p.RunID)
	s := func(v *string) string {
		if v == nil {
			return "-"
		}
		return *v
	}
	f := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return strconv.FormatFloat(*v, 'g', -1, 64)
	}
	ts := "-"
	if p.Timestamp != nil {
		ts = p.Timestamp.String()
	}
	recipe := s(p.InitialCheckpointRecipe)
	if p.InitialCheckpointRecipeRaw != nil && *p.InitialCheckpointRecipeRaw != recipe {
		recipe += " (" + *p.InitialCheckpointRecipeRaw + ")"
	} else if p.InitialCheckpointRecipeRaw != nil && !runname.KnownRecipe(*p.InitialCheckpointRecipeRaw) {
		recipe += " (not a DataDecide recipe code this dschema knows)"
	}
	pattern := p.PatternName
	if pattern == "" {
		pattern = "-"
	}
	vals := map[string]string{
		"run_type": p.RunType, "pattern_name": pattern, "timestamp": ts, "exp_name": s(p.ExpName),
		"initial_checkpoint_recipe": recipe, "initial_checkpoint_size": s(p.InitialCheckpointSize),
		"initial_checkpoint_steps": s(p.InitialCheckpointSteps), "num_finetune_tokens_per_epoch": f(p.NumFinetuneTokensPerEpoch),
		"num_finetune_epochs": f(p.NumFinetuneEpochs), "num_finetune_tokens": f(p.NumFinetuneTokens),
		"lr": s(p.LR), "lr1": s(p.LR1), "lr2": s(p.LR2), "seed": s(p.Seed), "reduce_loss": s(p.ReduceLoss),
		"comparison_model_size": s(p.ComparisonModelSize), "comparison_metric": s(p.ComparisonMetric),
	}
	for _, k := range runnameFields {
		fmt.Fprintf(w, "  %-30s %s\n", k, vals[k])
	}
	if p.MaxTrainSamples != nil {
		fmt.Fprintf(w, "  %-30s %d\n", "max_train_samples", *p.MaxTrainSamples)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}
