// Command dschema turns a lab's legacy experiment files into a versioned,
// typed DuckDB database. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/dschema/dschema/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
