package appender

import (
	"database/sql/driver"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
)

// duckdb-go's appender writes a nested value (MAP, LIST, STRUCT) element
// by element through reflection and a Go map per STRUCT, about 40 µs for
// a row of a 4-choice answer list and a 14-entry metrics map. A staged
// appender sends such columns as JSON text instead, into the query
// appender's appended_data relation, and DuckDB's own JSON casts build the
// nested values in its INSERT: about 8 µs a row (measured on 200,000
// rows of qa_question_outputs). Generated code uses it for tables whose
// nested columns hold only numbers, booleans and text (the JSON types
// carry them exactly: a double as its shortest round-trip text, NaN and
// ±Infinity as DuckDB's JSON reader spells them).

// Stage is how one column travels: its type in appended_data (a scalar
// DuckDB type name), and the type its JSON text is cast to ("" when the
// column goes in as it is).
type Stage struct {
	Type string
	Cast string
}

var stageTypes = map[string]duckdb.Type{
	"BOOLEAN": duckdb.TYPE_BOOLEAN, "TINYINT": duckdb.TYPE_TINYINT, "SMALLINT": duckdb.TYPE_SMALLINT,
	"INTEGER": duckdb.TYPE_INTEGER, "BIGINT": duckdb.TYPE_BIGINT, "UTINYINT": duckdb.TYPE_UTINYINT,
	"USMALLINT": duckdb.TYPE_USMALLINT, "UINTEGER": duckdb.TYPE_UINTEGER, "UBIGINT": duckdb.TYPE_UBIGINT,
	"FLOAT": duckdb.TYPE_FLOAT, "DOUBLE": duckdb.TYPE_DOUBLE, "VARCHAR": duckdb.TYPE_VARCHAR, "JSON": duckdb.TYPE_VARCHAR,
}

// StageType reports whether a scalar column type can travel as itself in
// a staged appender.
func StageType(name string) bool { _, ok := stageTypes[name]; return ok }

// NewStaged opens a staged appender on table: rows are batched in
// appended_data with the stage types and written by one INSERT … SELECT
// per batch, inside the connection's transaction.
func NewStaged(conn driver.Conn, table string, columns []string, stages []Stage) (*Appender, error) {
	if len(columns) != len(stages) {
		return nil, fmt.Errorf("open appender on %s: %d columns, %d stages", table, len(columns), len(stages))
	}
	infos, names, q, err := StagedInsert(table, columns, stages, "appended_data")
	if err != nil {
		return nil, fmt.Errorf("open appender on %s: %w", table, err)
	}
	raw, err := duckdb.NewQueryAppender(conn, q, "appended_data", infos, names)
	if err != nil {
		return nil, fmt.Errorf("open appender on %s: %w", table, err)
	}
	return &Appender{table: table, raw: raw, row: make([]driver.Value, len(columns)), flushEvery: stagedFlushRows}, nil
}

// StagedInsert is how staged rows of table get in: the types of the
// staged columns and their names (c1, c2, …), and the INSERT that writes
// them from the relation from (a query appender's, or a table function's
// call), casting each nested column's JSON text to its type.
func StagedInsert(table string, columns []string, stages []Stage, from string) (infos []duckdb.TypeInfo, names []string, insert string, err error) {
	infos, names = make([]duckdb.TypeInfo, len(stages)), make([]string, len(stages))
	var target, sel []string
	for i, s := range stages {
		t, ok := stageTypes[s.Type]
		if !ok {
			return nil, nil, "", fmt.Errorf("column %s: %s cannot be staged", columns[i], s.Type)
		}
		info, err := duckdb.NewTypeInfo(t)
		if err != nil {
			return nil, nil, "", err
		}
		infos[i], names[i] = info, fmt.Sprintf("c%d", i+1)
		target = append(target, quoteIdent(columns[i]))
		if s.Cast != "" {
			sel = append(sel, FromJSON(names[i], s.Cast))
		} else {
			sel = append(sel, names[i])
		}
	}
	insert = fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", quoteIdent(table), strings.Join(target, ", "), strings.Join(sel, ", "), from)
	return infos, names, insert, nil
}

// FromJSON is SQL that reads expr, JSON text, as the type typ: DuckDB's
// from_json_strict told typ, which reads the same values as
// CAST(CAST(expr AS JSON) AS typ) (TestFromJSON), and refuses what it
// cannot read as typ, but parses the text once where the casts parse it
// twice (the cast to JSON checks it; the second cast parses it again):
// 0.7 s less than the casts for 960,000 rows of answer_outputs, on one
// thread. One difference: a key of a STRUCT's object that is not one of
// its fields, which the casts refuse, it ignores. The staged texts are
// written with exactly the type's fields: gen's writers are generated
// from the schema the type comes from, and qa's answers are held to it
// (TestAnswerKeys).
func FromJSON(expr, typ string) string {
	return fmt.Sprintf("from_json_strict(%s, '%s')", expr, strings.ReplaceAll(string(AppendJSONString(nil, typ)), "'", "''"))
}

// stagedFlushRows bounds the rows a staged appender holds before its
// INSERT runs. DuckDB's query appender would hold 100,000 (about 250 MB of
// JSON text for qa_question_outputs); 16,384 keep it near 40 MB and cost
// little (one INSERT per batch).
const stagedFlushRows = 16384

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// JSONer is a generated STRUCT type: it writes itself as a JSON object.
type JSONer interface {
	AppendJSON(b []byte) []byte
}

// Scalar is a Go type a staged nested value can hold (the generated
// types use these exactly).
type Scalar interface {
	bool | string | float32 | float64 | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64
}

// MapJSON is a MAP column as JSON text, keys sorted (as Map); nil is NULL
// when nullable, else an empty map.
func MapJSON[V Scalar](m map[string]V, nullable bool) driver.Value {
	if m == nil && nullable {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := make([]byte, 0, 16+len(m)*24)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONString(b, k)
		b = append(b, ':')
		b = AppendJSONScalar(b, m[k])
	}
	return string(append(b, '}'))
}

// ListJSON is a LIST column of scalars as JSON text; nil is NULL when
// nullable, else an empty list.
func ListJSON[V Scalar](s []V, nullable bool) driver.Value {
	if s == nil && nullable {
		return nil
	}
	return string(AppendJSONList(make([]byte, 0, 8+len(s)*12), s))
}

// StructsJSON is a LIST column of STRUCTs as JSON text.
func StructsJSON[T JSONer](s []T, nullable bool) driver.Value {
	if s == nil && nullable {
		return nil
	}
	return string(AppendJSONStructs(make([]byte, 0, 16+len(s)*128), s))
}

// StructJSON is a STRUCT column as JSON text.
func StructJSON[T JSONer](v T) driver.Value { return string(v.AppendJSON(nil)) }

// StructPtrJSON is a nullable STRUCT column as JSON text; nil is NULL.
func StructPtrJSON[T JSONer](v *T) driver.Value {
	if v == nil {
		return nil
	}
	return string((*v).AppendJSON(nil))
}

// AppendJSONList appends a list of scalars.
func AppendJSONList[V Scalar](b []byte, s []V) []byte {
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendJSONScalar(b, v)
	}
	return append(b, ']')
}

// AppendJSONStructs appends a list of STRUCTs.
func AppendJSONStructs[T JSONer](b []byte, s []T) []byte {
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = v.AppendJSON(b)
	}
	return append(b, ']')
}

// AppendJSONKey appends a struct field's key and colon, after a comma
// unless it is the first.
func AppendJSONKey(b []byte, key string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = AppendJSONString(b, key)
	return append(b, ':')
}

// AppendJSONScalar appends v as DuckDB's JSON reader reads it back
// exactly: integers in full, a double as its shortest round-trip text,
// NaN, Infinity and -Infinity as bare tokens.
func AppendJSONScalar[V Scalar](b []byte, v V) []byte {
	// A switch on a pointer: converting v itself to an interface would
	// allocate for every value.
	switch x := any(&v).(type) {
	case *bool:
		return strconv.AppendBool(b, *x)
	case *string:
		return AppendJSONString(b, *x)
	case *float64:
		return appendJSONFloat(b, *x, 64)
	case *float32:
		return appendJSONFloat(b, float64(*x), 32)
	case *int64:
		return strconv.AppendInt(b, *x, 10)
	case *int32:
		return strconv.AppendInt(b, int64(*x), 10)
	case *int16:
		return strconv.AppendInt(b, int64(*x), 10)
	case *int8:
		return strconv.AppendInt(b, int64(*x), 10)
	case *uint64:
		return strconv.AppendUint(b, *x, 10)
	case *uint32:
		return strconv.AppendUint(b, uint64(*x), 10)
	case *uint16:
		return strconv.AppendUint(b, uint64(*x), 10)
	case *uint8:
		return strconv.AppendUint(b, uint64(*x), 10)
	}
	return b // unreachable: Scalar's types are the cases above
}

func appendJSONFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case f == 0 && math.Signbit(f):
		return append(b, "-0.0"...) // "-0" would read as the integer 0
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

// AppendJSONString appends s as a JSON string. Text that is not UTF-8 has
// no JSON form: its bad bytes become U+FFFD, as encoding/json writes them.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// JSONText is a JSON column's text for a staged appender; nil is NULL.
func JSONText(b []byte) driver.Value {
	if b == nil {
		return nil
	}
	return string(b)
}
