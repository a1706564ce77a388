package exchange

import (
	"errors"
	"fmt"

	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/ducktype"
)

// Representations: how a column's values are written to parquet. Every
// column of an export is one of these; schema.json names it for each
// column and docs/export.md says how another engine reads each back.
const (
	// AsIs: DuckDB's parquet writer holds the type exactly (DOUBLE is
	// IEEE 754 with NaN, ±Inf and -0.0 kept; JSON is its text, byte for
	// byte, with parquet's JSON logical type; TIMESTAMP WITH TIME ZONE is
	// INT64 microseconds since the epoch, isAdjustedToUTC=true; TIMESTAMP
	// is the same with isAdjustedToUTC=false; MAP, LIST and STRUCT are
	// parquet's nested types).
	AsIs = "as-is"
	// DecimalText: HUGEINT and UHUGEINT, which DuckDB would write as a
	// DOUBLE (rounding every value beyond 2^53), are written as a STRING
	// holding the integer's decimal digits, with a leading '-' for a
	// negative value and nothing else; CAST(x AS HUGEINT) reads one back.
	DecimalText = "decimal-text"
)

// ErrUnsupportedType is wrapped by the error for a column whose type the
// export has no exact, tested parquet representation for.
var ErrUnsupportedType = errors.New("type has no exact parquet representation in dschema export")

// asIsScalars are the scalar types whose round trip through DuckDB's
// parquet writer and reader is exact (each is covered by TestTypesRoundTrip).
var asIsScalars = map[string]bool{
	"BOOLEAN": true, "INTEGER": true, "BIGINT": true, "UBIGINT": true,
	"FLOAT": true, "DOUBLE": true, "VARCHAR": true, "JSON": true, "DATE": true,
	"TIMESTAMP": true, "TIMESTAMP WITH TIME ZONE": true,
}

// textScalars are written as DecimalText, and read back with a cast to the type.
var textScalars = map[string]bool{"HUGEINT": true, "UHUGEINT": true}

// column is one column of an exported table with its representation.
type column struct {
	Name string
	Type string // DuckDB's type text
	Repr string
}

// exportExpr is the column's expression in the export's SELECT.
func (c column) exportExpr() string {
	id := dbschema.Ident(c.Name)
	if c.Repr == DecimalText {
		return fmt.Sprintf("CAST(%s AS VARCHAR) AS %s", id, id)
	}
	return id
}

// importExpr is the column's expression over read_parquet in the import's INSERT.
func (c column) importExpr() string {
	id := dbschema.Ident(c.Name)
	if c.Repr == DecimalText {
		return fmt.Sprintf("CAST(%s AS %s)", id, c.Type)
	}
	return id
}

// columnsOf plans the columns of t, refusing a type without an exact representation.
func columnsOf(t *dbschema.Table) ([]column, error) {
	cols := make([]column, 0, len(t.Columns))
	for _, c := range t.Columns {
		r, err := reprOf(c.Type)
		if err != nil {
			return nil, fmt.Errorf("table %s, column %s: %w", t.Name, c.Name, err)
		}
		cols = append(cols, column{Name: c.Name, Type: c.Type, Repr: r})
	}
	return cols, nil
}

// reprOf returns the representation of a DuckDB type.
func reprOf(typ string) (string, error) {
	t, err := ducktype.Parse(typ)
	if err != nil {
		return "", err
	}
	if t.Kind == ducktype.Scalar && textScalars[t.Name] {
		return DecimalText, nil
	}
	if err := nestedAsIs(t); err != nil {
		return "", fmt.Errorf("%s: %w", typ, err)
	}
	return AsIs, nil
}

// nestedAsIs checks that t and every type inside it is written as it is.
func nestedAsIs(t *ducktype.Type) error {
	switch t.Kind {
	case ducktype.Scalar:
		if asIsScalars[t.Name] {
			return nil
		}
		if textScalars[t.Name] {
			return fmt.Errorf("%s inside a nested type: %w (only a top-level %s column is written as decimal text)", t.Name, ErrUnsupportedType, t.Name)
		}
		return fmt.Errorf("%s: %w", t.Name, ErrUnsupportedType)
	case ducktype.List:
		return nestedAsIs(t.Elem)
	case ducktype.Map:
		if err := nestedAsIs(t.Key); err != nil {
			return err
		}
		return nestedAsIs(t.Value)
	case ducktype.Struct:
		for _, f := range t.Fields {
			if err := nestedAsIs(f.Type); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("%s: %w", t.Text, ErrUnsupportedType)
	}
}
