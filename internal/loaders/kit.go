package loaders

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dschema/dschema/internal/dbschema"
)

func Without(cols []string, drop ...string) []string {
	skip := map[string]bool{}
	for _, d := range drop {
		skip[d] = true
	}
	var out []string
	for _, c := range cols {
		if !skip[c] {
			out = append(out, c)
		}
	}
	return out
}

// TypeClass groups DuckDB types for compatibility checks.
func TypeClass(t string) string {
	switch {
	case t == "VARCHAR":
		return "text"
	case t == "BOOLEAN":
		return "boolean"
	case strings.HasSuffix(t, "INT") || t == "TINYINT" || t == "SMALLINT" || t == "INTEGER" || t == "BIGINT" || t == "HUGEINT" ||
		t == "UTINYINT" || t == "USMALLINT" || t == "UINTEGER" || t == "UBIGINT":
		return "integer"
	case t == "DOUBLE" || t == "FLOAT" || strings.HasPrefix(t, "DECIMAL"):
		return "float"
	}
	return "other"
}

type FileColumn struct{ Name, Type string }

// ParquetColumns reads the columns of a parquet file with DuckDB's own reader.
func ParquetColumns(ctx context.Context, conn *sql.Conn, path string) ([]FileColumn, error) {
	rows, err := conn.QueryContext(ctx, fmt.Sprintf("DESCRIBE SELECT * FROM read_parquet(%s)", dbschema.Literal(path)))
	if err != nil {
		return nil, &FileError{Path: path, Msg: "not a readable parquet file (truncated, or another format): " + FirstLine(err.Error()), Err: err}
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []FileColumn
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, FileColumn{Name: vals[0].String, Type: vals[1].String})
	}
	if err := rows.Err(); err != nil {
		return nil, &FileError{Path: path, Msg: "not a readable parquet file: " + FirstLine(err.Error()), Err: err}
	}
	return out, nil
}

func FirstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// DBTypes reads the canonical types of tables' columns from the database.
func DBTypes(ctx context.Context, conn *sql.Conn, tables ...string) (map[string]string, error) {
	q := make([]string, len(tables))
	for i, t := range tables {
		q[i] = dbschema.Literal(t)
	}
	rows, err := conn.QueryContext(ctx, `SELECT table_name, column_name, data_type FROM duckdb_columns()
		WHERE schema_name = 'main' AND database_name = current_database() AND table_name IN (`+strings.Join(q, ", ")+`)`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var t, c, typ string
		if err := rows.Scan(&t, &c, &typ); err != nil {
			return nil, err
		}
		out[t+"."+c] = typ
	}
	return out, rows.Err()
}

func Examples(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(", … (%d in all)", len(items))
}

// VaryingKey is a key whose JSON type differs between runs of one file.
type VaryingKey struct {
	Key    string           `json:"key"`
	Counts map[string]int64 `json:"counts"` // runs per type: integer, float, string, boolean, object, array
}

func (v VaryingKey) String() string {
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(v.Counts)) {
		parts = append(parts, fmt.Sprintf("%s %d", t, v.Counts[t]))
	}
	return v.Key + " (" + strings.Join(parts, ", ") + ")"
}

// chunkColumns bounds the expressions in one query: DuckDB plans a query
// with thousands of aggregates markedly slower than several smaller ones.
const chunkColumns = 200

// CountInChunks evaluates one count expression per column over from, in
// queries of at most chunkColumns expressions, and returns the counts in order.
func CountInChunks(ctx context.Context, conn *sql.Conn, exprs []string, from string) ([]int64, error) {
	out := make([]int64, len(exprs))
	for i := 0; i < len(exprs); i += chunkColumns {
		end := min(i+chunkColumns, len(exprs))
		// count_if over no rows (no group in common) is NULL: count 0.
		counts := make([]sql.NullInt64, end-i)
		ptrs := make([]any, end-i)
		for j := range ptrs {
			ptrs[j] = &counts[j]
		}
		if err := conn.QueryRowContext(ctx, "SELECT "+strings.Join(exprs[i:end], ", ")+" "+from).Scan(ptrs...); err != nil {
			return nil, err
		}
		for j, c := range counts {
			out[i+j] = c.Int64
		}
	}
	return out, nil
}
