package exchange

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Format names the layout of an export; Import refuses any other.
const Format = "dschema-export/1"

// The two files beside the data.
const (
	ManifestFile = "manifest.json"
	SchemaFile   = "schema.json"
)

// Manifest is manifest.json: what an export holds, enough to check every
// file and to load it into a database at the same schema version.
type Manifest struct {
	Format         string `json:"format"`
	DschemaVersion string `json:"dschema_version"`
	// SchemaVersion is the migration version of the exported database.
	SchemaVersion int64 `json:"schema_version"`
	// MigrationSum is the chained hash (dschema.sum's h1:) of the migrations
	// up to SchemaVersion, as dschema migrate hash writes it.
	MigrationSum string `json:"migration_sum"`
	// LoadIDs are the dschema_loads.load_id values the export holds.
	LoadIDs []int64 `json:"load_ids"`
	// MaxFileBytes is the target size a file is closed at (see docs/export.md).
	MaxFileBytes int64 `json:"max_file_bytes"`
	// SchemaSHA256 is the sha256 of schema.json.
	SchemaSHA256 string `json:"schema_sha256"`
	// Tables are sorted by name.
	Tables []TableEntry `json:"tables"`
	// Files are sorted by path.
	Files []FileEntry `json:"files"`
}

// TableEntry is one exported table.
type TableEntry struct {
	Name        string `json:"name"`
	Rows        int64  `json:"rows"`
	PartitionBy string `json:"partition_by,omitempty"`
}

// FileEntry is one parquet file of an export.
type FileEntry struct {
	// Path is relative to the export's folder, with forward slashes.
	Path  string `json:"path"`
	Table string `json:"table"`
	// Partition holds the partition column's value (null for NULL); absent
	// for a table that is not partitioned.
	Partition map[string]*string `json:"partition,omitempty"`
	Rows      int64              `json:"rows"`
	Bytes     int64              `json:"bytes"`
	SHA256    string             `json:"sha256"`
}

// Schema is schema.json: every exported table and column with its DuckDB
// type, its representation in parquet and its description.
type Schema struct {
	Format string        `json:"format"`
	Tables []SchemaTable `json:"tables"`
}

// SchemaTable is one table of schema.json.
type SchemaTable struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	PrimaryKey  []string       `json:"primary_key,omitempty"`
	PartitionBy string         `json:"partition_by,omitempty"`
	Columns     []SchemaColumn `json:"columns"`
}

// SchemaColumn is one column of schema.json.
type SchemaColumn struct {
	Name string `json:"name"`
	// Type is the column's DuckDB type, as DuckDB prints it.
	Type    string `json:"duckdb_type"`
	NotNull bool   `json:"not_null,omitempty"`
	// Repr is the representation in parquet: AsIs or DecimalText.
	Repr        string `json:"parquet_representation"`
	Description string `json:"description,omitempty"`
}

// writeJSON writes v as indented JSON with a final newline.
func writeJSON(path string, v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	return b, os.WriteFile(path, b, 0o644)
}

// ReadManifest reads and checks the format of dir's manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	m := &Manifest{}
	if err := readJSON(filepath.Join(dir, ManifestFile), m); err != nil {
		return nil, err
	}
	if m.Format != Format {
		return nil, fmt.Errorf("%s: format %q, this dschema reads %q", filepath.Join(dir, ManifestFile), m.Format, Format)
	}
	return m, nil
}

// readJSON decodes path strictly into v.
func readJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read export: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
