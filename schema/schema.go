// Package schema holds dschema's canonical table definitions (the YAML files
// in this folder, one per domain) and the code that reads them into an
// intermediate representation (IR) for code generation, migration planning,
// documentation and checks. The YAML files are the single source of truth.
package schema

import "embed"

//go:generate go run ../internal/cmd/dschemagen -root ..

// Files holds the canonical schema definitions, embedded at build time.
//
//go:embed *.yaml
var Files embed.FS
