// Package all registers every loader: import it for its side effects
// (import _ "github.com/dschema/dschema/internal/loaders/all"), as the
// CLI does. A new loader package adds its blank import here.
package all

import (
	_ "github.com/dschema/dschema/internal/loaders/datadecide" // datadecide, datadecide-agg
	_ "github.com/dschema/dschema/internal/loaders/qa"         // qa-outputs
	_ "github.com/dschema/dschema/internal/loaders/showntell"  // showntell
	_ "github.com/dschema/dschema/internal/loaders/wandb"      // wandb-runs, wandb-history
)
