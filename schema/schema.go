// Package schema holds dschema's canonical table definitions: the YAML files
// in this folder, one per domain, the single source of truth. They are
// embedded here, apart from the code that reads them (internal/schema), so
// that the generator go generate runs does not change when they do: an
// edited description neither relinks it nor loses its cache.
package schema

import (
	"embed"

	ischema "github.com/dschema/dschema/internal/schema"
)

//go:generate go run ../internal/cmd/dschemagen -root ..

// Files holds the canonical schema definitions, embedded at build time.
//
//go:embed *.yaml
var Files embed.FS

// Load reads the schema compiled into this binary.
func Load() (*ischema.Schema, error) { return ischema.Load(Files, ".", "schema") }
