// Command dschemagen is what go generate runs: it plans the next migration
// and regenerates gen/. It imports only the schema, planning and codegen
// packages, never gen/ or the loaders, so a broken gen/ can always be
// regenerated. dschema gen calls the same library function.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/dschema/dschema/internal/cache"
	"github.com/dschema/dschema/internal/project"
)

func main() {
	root := flag.String("root", ".", "repository root")
	name := flag.String("name", "", "name of the new migration (derived from the changes when empty)")
	destructive := flag.Bool("allow-destructive", false, "allow dropping tables or columns and narrowing types")
	noCache := flag.Bool("no-cache", false, "neither read nor write the disk cache (env DSCHEMA_CACHE=off)")
	flag.Parse()
	ctx := context.Background()
	if *noCache {
		ctx = cache.NewContext(ctx, cache.MemoryOnly())
	}
	res, err := project.Gen(ctx, project.DefaultLayout(*root), project.GenOptions{Name: *name, AllowDestructive: *destructive})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dschema gen:", err)
		os.Exit(1)
	}
	project.PrintGen(os.Stdout, res)
}
