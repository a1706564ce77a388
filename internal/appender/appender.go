// Package appender is the runtime of the generated appenders in gen/: a thin
// wrapper over duckdb-go's Appender that names the table in every error and
// converts values exactly or refuses them. The raw appender silently corrupts
// values when Go and column types differ (a float64 into DECIMAL(10,2) is
// taken as the unscaled integer, an int64 300 into TINYINT wraps to 44, 3.7
// into INTEGER truncates to 3); generated code gives every column its exact Go
// type so those paths do not compile, and the helpers here check the
// conversions a caller must make.
package appender

import (
	"cmp"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"

	"github.com/duckdb/duckdb-go/v2"
)

// Appender appends rows to one table.
type Appender struct {
	table string
	raw   *duckdb.Appender
	row   []driver.Value
	rows  int64
	// flushEvery, when set, flushes after every so many rows.
	flushEvery int64
}

// New opens an appender on table for the named columns, on conn (a
// duckdb-go driver connection: inside database/sql use (*sql.Conn).Raw).
func New(conn driver.Conn, table string, columns []string) (*Appender, error) {
	raw, err := duckdb.NewAppenderWithColumns(conn, "", "", table, columns)
	if err != nil {
		return nil, fmt.Errorf("open appender on %s: %w", table, err)
	}
	return &Appender{table: table, raw: raw, row: make([]driver.Value, len(columns))}, nil
}

// Row returns the buffer for the next row's values, in column order.
func (a *Appender) Row() []driver.Value { return a.row }

// AppendRow appends the buffered row.
func (a *Appender) AppendRow() error {
	if err := a.raw.AppendRow(a.row...); err != nil {
		return fmt.Errorf("append row %d to %s: %w", a.rows+1, a.table, err)
	}
	a.rows++
	if a.flushEvery > 0 && a.rows%a.flushEvery == 0 {
		return a.Flush()
	}
	return nil
}

// Fail reports a value that cannot be appended, naming table, row and column.
func (a *Appender) Fail(column string, err error) error {
	return fmt.Errorf("append row %d to %s: column %s: %w", a.rows+1, a.table, column, err)
}

// Rows is the number of rows appended so far.
func (a *Appender) Rows() int64 { return a.rows }

// ErrWrite is wrapped by the errors of Flush and Close, and of an
// AppendRow that flushed: DuckDB refused a batch of buffered rows (a
// duplicate key, a value a cast refused), so no one row is to blame.
var ErrWrite = errors.New("writing buffered rows")

// Flush writes buffered rows to the table.
func (a *Appender) Flush() error {
	if err := a.raw.Flush(); err != nil {
		return fmt.Errorf("flush appender on %s: %w: %w", a.table, ErrWrite, err)
	}
	return nil
}

// Close flushes and closes the appender.
func (a *Appender) Close() error {
	if err := a.raw.Close(); err != nil {
		return fmt.Errorf("close appender on %s: %w: %w", a.table, ErrWrite, err)
	}
	return nil
}

// Deref returns *p, or nil (SQL NULL) for a nil pointer.
func Deref[T any](p *T) driver.Value {
	if p == nil {
		return nil
	}
	return *p
}

// Decimal checks that d has exactly the column's scale and fits its width,
// and returns it for the appender.
func Decimal(d duckdb.Decimal, width, scale uint8) (driver.Value, error) {
	if d.Value == nil {
		return nil, errors.New("DECIMAL value has no digits (Value is nil)")
	}
	if d.Scale != scale {
		return nil, fmt.Errorf("DECIMAL(%d,%d) value has scale %d; build it with appender.ParseDecimal or the column's scale", width, scale, d.Scale)
	}
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(width)), nil)
	if new(big.Int).Abs(d.Value).Cmp(limit) >= 0 {
		return nil, fmt.Errorf("value %s does not fit DECIMAL(%d,%d)", d.String(), width, scale)
	}
	d.Width = width
	return d, nil
}

// DecimalPtr is Decimal for a nullable column.
func DecimalPtr(d *duckdb.Decimal, width, scale uint8) (driver.Value, error) {
	if d == nil {
		return nil, nil
	}
	return Decimal(*d, width, scale)
}

// ParseDecimal reads a decimal string such as "1.25" exactly at the given
// scale; more fraction digits than the scale is an error, not a rounding.
func ParseDecimal(s string, width, scale uint8) (duckdb.Decimal, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return duckdb.Decimal{}, fmt.Errorf("%q is not a decimal number", s)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !r.IsInt() {
		return duckdb.Decimal{}, fmt.Errorf("%q has more than %d fraction digits", s, scale)
	}
	d := duckdb.Decimal{Width: width, Scale: scale, Value: new(big.Int).Set(r.Num())}
	if _, err := Decimal(d, width, scale); err != nil {
		return duckdb.Decimal{}, err
	}
	return d, nil
}

// Integer is every Go integer type a column can have.
type Integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// Narrow converts v to a smaller integer type, or says that it does not fit
// (instead of wrapping around as a plain conversion does).
func Narrow[T Integer](v int64) (T, error) {
	t := T(v)
	if int64(t) != v || (v < 0) != (t < 0) {
		return 0, fmt.Errorf("%d does not fit %T", v, t)
	}
	return t, nil
}

// FromFloat converts an integral float to an integer type, or says why it
// cannot (a fraction, NaN, infinity, out of range) instead of truncating.
func FromFloat[T Integer](f float64) (T, error) {
	var zero T
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%v is not an integer", f)
	}
	if f != math.Trunc(f) {
		return 0, fmt.Errorf("%v is not an integer", f)
	}
	if f < -9.223372036854775808e18 || f >= 9.223372036854775808e18 {
		return 0, fmt.Errorf("%v does not fit %T", f, zero)
	}
	return Narrow[T](int64(f))
}

// Map turns a Go map into a DuckDB MAP with keys in sorted order, so the same
// map always gives the same stored value. A nil map is SQL NULL when nullable,
// else an empty MAP.
func Map[K cmp.Ordered, V any](m map[K]V, nullable bool) driver.Value {
	if m == nil && nullable {
		return nil
	}
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var om duckdb.OrderedMap
	for _, k := range keys {
		om.Set(k, m[k])
	}
	return om
}

// Nilable returns v, or nil (SQL NULL) when isNil: for nullable LIST, JSON
// and BLOB columns, whose Go nil means NULL.
func Nilable(v any, isNil bool) driver.Value {
	if isNil {
		return nil
	}
	return v
}
