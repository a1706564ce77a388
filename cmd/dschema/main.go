// Command dschema turns a lab's legacy experiment files into a versioned,
// typed DuckDB database. See README.md.
package main

import (
	"os"

	"github.com/dschema/dschema/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
