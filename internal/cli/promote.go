package cli

import (
	"github.com/spf13/cobra"

	"github.com/dschema/dschema/internal/project"
)

func promoteCmd() *cobra.Command {
	var o project.PromoteOptions
	cmd := &cobra.Command{
		Use:   "promote <table> <key>",
		Short: "Give a key of a table's overflow MAP column a typed column, with the migration that moves its values",
		Long: `promote adds a column for one key of a table's MAP(VARCHAR, …) overflow column
(wandb_history.extra_metrics, say) to the schema YAML that declares the table,
then writes the migration as go generate does: it moves the key's values out of
the map into the new column (and its Down moves them back), and regenerates gen/.
It refuses, leaving the YAML as it was, when the table or map is unknown, the
column or key is already there, or schema/ has edits no migration holds yet.`,
		Args: cobra.ExactArgs(2),
		Example: `  dschema promote wandb_history grad_norm
  dschema promote wandb_history "rewards/chosen" --description "Mean reward of the chosen answers (DPO)."
  dschema promote wandb_history "eval/loss" --column eval_loss --type DOUBLE --root ../dschema`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return project.Promote(cmd.Context(), cmd.OutOrStdout(), args[0], args[1], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Column, "column", "", "name of the new column (default: the key in lower snake_case, e.g. logps/chosen → logps_chosen)")
	f.StringVar(&o.Type, "type", "", "DuckDB type of the new column (default: the map's value type)")
	f.StringVar(&o.Description, "description", "", `the column's description (default: "<key> (promoted from <map>).")`)
	f.StringVar(&o.From, "from", "", "the MAP column that holds the key (needed only when the table has more than one)")
	f.StringVar(&o.Root, "root", ".", "repository root")
	return cmd
}
