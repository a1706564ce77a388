package loaders

// Difference is one cell where a file and the database disagree.
type Difference struct {
	Key    string `json:"key"`
	Column string `json:"column"`
	File   string `json:"file"`
	DB     string `json:"database"`
}

// Verification is the outcome of comparing a file with the database.
type Verification struct {
	Path        string           `json:"path"`
	Rows        int64            `json:"rows"`
	Columns     int              `json:"columns"`
	Differing   int64            `json:"differing_cells"`
	MissingRows int64            `json:"rows_missing_from_database"`
	ExtraRows   int64            `json:"rows_missing_from_file"`
	ByColumn    map[string]int64 `json:"differing_by_column"`
	Examples    []Difference     `json:"examples"`
	Skipped     []string         `json:"columns_not_compared"`
	// NotInFile lists the database's full_eval columns the file lacks:
	// not compared either.
	NotInFile []string `json:"database_columns_not_in_file"`
	// NotCompared lists rows of the file the comparison left out, and why
	// (a model and task another source's load holds).
	NotCompared []string `json:"rows_not_compared,omitempty"`
	// SharedKeys counts the database's rows beyond the first with a key
	// the file has (a table whose key DuckDB does not hold could have
	// them); SharedKeyExamples names a few such keys.
	SharedKeys        int64    `json:"database_rows_sharing_a_key,omitempty"`
	SharedKeyExamples []string `json:"keys_shared,omitempty"`
}

// OK reports whether nothing differs.
func (v *Verification) OK() bool {
	return v.Differing == 0 && v.MissingRows == 0 && v.ExtraRows == 0 && v.SharedKeys == 0
}
