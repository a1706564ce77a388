package loaders

// ColumnSource says where, in one layout a loader reads, the values of one
// database column come from: the legacy column or key as the file names it.
type ColumnSource struct {
	Table  string // the database table, e.g. pretrain_evals
	Column string // its column, e.g. c4_en_valppl
	Layout string // the layout (Summary.Variant) the loader detects, e.g. full_eval (1,939-column layout)
	From   string // the legacy column or key, e.g. c4_en-valppl or config.learning_rate
}

// ColumnSourcer is a loader that declares the legacy column or key each
// database column it writes comes from, per layout, from the same lists it
// loads by (dschema docs --html shows them). Columns a loader does not
// declare are not known to come from one place: a derived value, or a
// loader that has not said.
type ColumnSourcer interface {
	ColumnSources() []ColumnSource
}

// ColumnSources collects the sources every registered loader declares, by
// loader kind.
func ColumnSources() map[string][]ColumnSource {
	out := map[string][]ColumnSource{}
	for _, k := range Kinds() {
		if s, ok := registry[k].(ColumnSourcer); ok {
			out[k] = s.ColumnSources()
		}
	}
	return out
}
