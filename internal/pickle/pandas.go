package pickle

import (
	"fmt"
	"math"
	"math/big"
	"time"
)

// The pandas objects of a pickled DataFrame, as pandas 1.5 and 2.x write
// them: DataFrame over a BlockManager of blocks (each a 2-D array of some
// columns, with their positions, or one extension array: categorical,
// nullable integer, float or boolean, string, tz-aware datetime), an Index
// per axis (Index, RangeIndex, pandas 1's Int64Index, UInt64Index and
// Float64Index, DatetimeIndex, TimedeltaIndex, CategoricalIndex),
// Timestamp, NaT and NA.
//
// Every count is checked before anything is made of it: a RangeIndex
// against the frame's rows, a block's placement against its columns, the
// rows of every block against the index; and what is made is charged to
// the memory bound.

// NaTValue is pandas' NaT (not a time).
type NaTValue struct{}

func (NaTValue) String() string { return "NaT" }

// NaTv is the decoded pandas.NaT.
var NaTv = NaTValue{}

// Index is a pandas Index, RangeIndex, or one of pandas 1's Int64Index,
// UInt64Index, Float64Index, or a DatetimeIndex, TimedeltaIndex or
// CategoricalIndex; Values holds its labels as Column gives a column's.
type Index struct {
	Name   any
	Values []any // the labels (a RangeIndex's too)
	Range  bool  // it was a RangeIndex
	off    int64
	rng    *rangeSpec // a RangeIndex's labels, until they are made
}

type rangeSpec struct{ start, step, n int64 }

// length is the number of labels, made or not.
func (ix *Index) length() int64 {
	if ix.rng != nil {
		return ix.rng.n
	}
	return int64(len(ix.Values))
}

// materialize makes a RangeIndex's labels, charged to the memory bound.
func (ix *Index) materialize(m *machine) error {
	r := ix.rng
	if r == nil {
		return nil
	}
	if err := m.chargeN(r.n, costSlot+8); err != nil {
		return err
	}
	ix.Values = make([]any, r.n)
	for i := range ix.Values {
		ix.Values[i] = r.start + int64(i)*r.step
	}
	ix.rng = nil
	return nil
}

// Block is one block of a BlockManager: Values holds len(Columns) rows of
// the frame's length (pandas keeps blocks transposed). An extension
// column's block (Dtype set) holds one row of Go values: see Column.
type Block struct {
	Values  *Array
	Columns []int  // positions of the block's columns in the frame
	Dtype   string // pandas extension dtype ("category", "Int64", "string", "datetime64[ns, UTC]", ...); empty for numpy data
}

// DataFrame is a pandas DataFrame.
type DataFrame struct {
	Columns []any // column labels, in order
	Index   *Index
	Blocks  []*Block
	pending bool
	off     int64
}

// Len is the number of rows.
func (df *DataFrame) Len() int {
	if df.Index == nil {
		return 0
	}
	return len(df.Index.Values)
}

// Column returns the values of the column at position j, one per row, as
// Go values: float64 (NaN kept), int64, uint64, bool, string,
// time.Time (datetime64: UTC; tz-aware: in its zone), time.Duration
// (timedelta64), NaTv (NaT), or what an object column holds. Extension
// columns give: categorical, the category of each row; nullable Int64
// (and Int8..UInt64, Float32/64, boolean), the value; string, the
// string; a missing value of any of these is nil.
func (df *DataFrame) Column(j int) ([]any, error) {
	for _, b := range df.Blocks {
		for k, c := range b.Columns {
			if c != j {
				continue
			}
			a := b.Values
			if a == nil || a.Dtype == nil || len(a.Shape) != 2 || a.Shape[0] != len(b.Columns) || a.dataLen() != a.Len() {
				return nil, fmt.Errorf("block of shape %s for %d columns", shapeText(shapeOf(a)), len(b.Columns))
			}
			n := a.Shape[1]
			out := make([]any, n)
			for i := 0; i < n; i++ {
				v, err := cell(a.Dtype, a.At(k, i))
				if err != nil {
					return nil, fmt.Errorf("row %d: %w", i, err)
				}
				out[i] = v
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("no block holds column %d", j)
}

func shapeOf(a *Array) []int {
	if a == nil {
		return nil
	}
	return a.Shape
}

// cell turns an element of an array of d into a Go value: datetime64 to
// time.Time, timedelta64 to time.Duration, NaT to NaTv.
func cell(d *Dtype, v any) (any, error) {
	x, ok := v.(int64)
	if !ok || (d.Kind != 'M' && d.Kind != 'm') {
		return v, nil
	}
	if x == NaT {
		return NaTv, nil
	}
	if d.Kind == 'M' {
		return d.timeOf(x)
	}
	return d.durationOf(x)
}

// ColumnByName returns the values of the column labelled name.
func (df *DataFrame) ColumnByName(name string) ([]any, error) {
	for j, c := range df.Columns {
		if s, ok := c.(string); ok && s == name {
			return df.Column(j)
		}
	}
	return nil, fmt.Errorf("no column %q", name)
}

// newFrame is DataFrame.__new__: an empty frame that BUILD fills.
func newFrame(m *machine, args []any) (any, error) {
	if len(args) != 0 {
		return nil, fmt.Errorf("DataFrame.__new__ with %d arguments", len(args))
	}
	return &DataFrame{pending: true, off: m.at}, nil
}

// build reads the frame's __dict__: _mgr (pandas 1.1 and later) or _data
// is the BlockManager. Every count is checked before the labels are made.
func (df *DataFrame) build(m *machine, state any) error {
	if !df.pending {
		return fmt.Errorf("a DataFrame's state may be set once")
	}
	d, ok := state.(*pyDict)
	if !ok {
		return fmt.Errorf("pandas DataFrame state: a %s", TypeName(state))
	}
	var mgr *blockManager
	for _, e := range d.entries {
		if s, _ := e.k.(string); s == "_mgr" || s == "_data" {
			if mgr, ok = e.v.(*blockManager); !ok {
				return fmt.Errorf("pandas DataFrame %s: a %s", s, TypeName(e.v))
			}
		}
	}
	if mgr == nil {
		return fmt.Errorf("pandas DataFrame state without _mgr")
	}
	if len(mgr.axes) != 2 {
		return fmt.Errorf("pandas DataFrame of %d axes", len(mgr.axes))
	}
	cols, rows := mgr.axes[0], mgr.axes[1]
	placed := int64(0)
	for _, b := range mgr.blocks {
		if r := int64(b.Values.Shape[1]); r != rows.length() {
			return fmt.Errorf("a pandas block of %d rows in a frame of %d", r, rows.length())
		}
		placed += int64(len(b.Columns))
	}
	if placed != cols.length() {
		return fmt.Errorf("pandas blocks hold %d columns, the frame has %d", placed, cols.length())
	}
	seen := make([]bool, placed)
	for _, b := range mgr.blocks {
		for _, c := range b.Columns {
			if c < 0 || int64(c) >= placed || seen[c] {
				return fmt.Errorf("a pandas block places column %d twice or outside the frame's %d", c, placed)
			}
			seen[c] = true
		}
	}
	if err := cols.materialize(m); err != nil {
		return err
	}
	if err := rows.materialize(m); err != nil {
		return err
	}
	df.Columns, df.Index, df.Blocks, df.pending = cols.Values, rows, mgr.blocks, false
	return nil
}

// blockManager is pandas' BlockManager(blocks, axes).
type blockManager struct {
	blocks []*Block
	axes   []*Index
}

func newBlockManager(m *machine, args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("BlockManager takes (blocks, axes), got %d arguments", len(args))
	}
	mgr := &blockManager{}
	for _, b := range items(args[0]) {
		blk, ok := b.(*Block)
		if !ok {
			return nil, fmt.Errorf("BlockManager block: a %s", TypeName(b))
		}
		mgr.blocks = append(mgr.blocks, blk)
	}
	for _, a := range items(args[1]) {
		ix, ok := a.(*Index)
		if !ok {
			return nil, fmt.Errorf("BlockManager axis: a %s", TypeName(a))
		}
		mgr.axes = append(mgr.axes, ix)
	}
	return mgr, nil
}

func items(v any) []any {
	switch x := v.(type) {
	case *pyTuple:
		return x.items
	case *pyList:
		return x.items
	}
	return nil
}

// unpickleBlock is pandas' _unpickle_block(values, placement, ndim).
func unpickleBlock(m *machine, args []any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("_unpickle_block takes 3 arguments, got %d", len(args))
	}
	if nd, _ := args[2].(int64); nd != 2 {
		return nil, fmt.Errorf("a block of %s dimensions: only a DataFrame's (2) are read", repr(args[2]))
	}
	b := &Block{}
	var a *Array
	switch v := args[0].(type) {
	case *Array:
		a = v
	case *ndArrayBacked:
		a, b.Dtype = v.arr, v.dtype
	case *maskedArray:
		a, b.Dtype = v.arr, v.dtype
	default:
		return nil, fmt.Errorf("block values: a %s", TypeName(args[0]))
	}
	if a == nil || a.pending {
		return nil, fmt.Errorf("block values never given their state")
	}
	switch len(a.Shape) {
	case 2:
		b.Values = a
	case 1: // an extension array: one column
		b.Values = &Array{Dtype: a.Dtype, Shape: []int{1, a.Shape[0]}, Data: a.Data, off: a.off}
	default:
		return nil, fmt.Errorf("block values of shape %s", shapeText(a.Shape))
	}
	ncols := int64(b.Values.Shape[0])
	switch p := args[1].(type) {
	case *pySlice:
		start, step, n, err := sliceSpan(p)
		if err != nil {
			return nil, err
		}
		if n != ncols {
			return nil, fmt.Errorf("block placement slice(%s, %s, %s) places %d columns, its values hold %d", repr(p.start), repr(p.stop), repr(p.step), n, ncols)
		}
		if err := m.chargeN(n, 8); err != nil {
			return nil, err
		}
		b.Columns = make([]int, n)
		for i := range b.Columns {
			b.Columns[i] = int(start + int64(i)*step)
		}
	case *Array:
		ix, ok := p.Data.([]int64)
		if !ok || len(p.Shape) != 1 || p.Dtype.Kind != 'i' {
			return nil, fmt.Errorf("block placement of %s", p.Dtype)
		}
		if int64(len(ix)) != ncols {
			return nil, fmt.Errorf("block placement of %d columns, its values hold %d", len(ix), ncols)
		}
		if err := m.chargeN(int64(len(ix)), 8); err != nil {
			return nil, err
		}
		b.Columns = make([]int, len(ix))
		for i, c := range ix {
			if c < 0 || c > math.MaxInt32 {
				return nil, fmt.Errorf("block placement of column %d", c)
			}
			b.Columns[i] = int(c)
		}
	default:
		return nil, fmt.Errorf("block placement: a %s", TypeName(args[1]))
	}
	return b, nil
}

// sliceSpan is the start, step and length of a block placement slice,
// computed without overflow; its bounds must be non-negative ints.
func sliceSpan(p *pySlice) (start, step, n int64, err error) {
	start, step = 0, 1
	ok := true
	if p.start != nil {
		start, ok = p.start.(int64)
	}
	stop, ok2 := p.stop.(int64)
	ok3 := true
	if p.step != nil {
		step, ok3 = p.step.(int64)
	}
	if !ok || !ok2 || !ok3 || start < 0 || stop < 0 || step < 1 {
		return 0, 0, 0, fmt.Errorf("block placement slice(%s, %s, %s): not read", repr(p.start), repr(p.stop), repr(p.step))
	}
	if stop > start {
		n = (stop-start-1)/step + 1
	}
	return start, step, n, nil
}

// indexClasses are the Index classes _new_Index is given.
var indexClasses = map[string]bool{
	"pandas.core.indexes.base.Index": true, "pandas.core.indexes.range.RangeIndex": true,
	"pandas.core.indexes.numeric.Int64Index": true, "pandas.core.indexes.numeric.UInt64Index": true,
	"pandas.core.indexes.numeric.Float64Index": true, "pandas.core.indexes.numeric.NumericIndex": true,
	"pandas.core.indexes.datetimes.DatetimeIndex": true, "pandas.core.indexes.timedeltas.TimedeltaIndex": true,
	"pandas.core.indexes.category.CategoricalIndex": true,
}

// newIndex is pandas' _new_Index(cls, d) and _new_DatetimeIndex(cls, d).
func newIndex(m *machine, args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("_new_Index takes 2 arguments, got %d", len(args))
	}
	c, ok := args[0].(*class)
	if !ok || !indexClasses[c.module+"."+c.name] {
		return nil, fmt.Errorf("_new_Index of a %s", TypeName(args[0]))
	}
	d, ok := args[1].(*pyDict)
	if !ok {
		return nil, fmt.Errorf("%s state: a %s", c.name, TypeName(args[1]))
	}
	get := d.get
	ix := &Index{Name: get("name"), off: m.at}
	if c.name == "RangeIndex" {
		start, step := int64(0), int64(1)
		ok1, ok3 := true, true
		if v := get("start"); v != nil {
			start, ok1 = v.(int64)
		}
		stop, ok2 := get("stop").(int64)
		if v := get("step"); v != nil {
			step, ok3 = v.(int64)
		}
		if !ok1 || !ok2 || !ok3 || step == 0 {
			return nil, fmt.Errorf("RangeIndex(%s, %s, %s): not read", repr(get("start")), repr(get("stop")), repr(get("step")))
		}
		// the length in 128 bits: stop-start overflows int64 for
		// start=-2**62, stop=2**62
		var n int64
		if step > 0 && stop > start {
			n = int64((uint64(stop)-uint64(start)-1)/uint64(step) + 1)
		} else if step < 0 && stop < start {
			n = int64((uint64(start)-uint64(stop)-1)/uint64(-step) + 1)
		}
		if n < 0 || n > maxElements {
			return nil, fmt.Errorf("RangeIndex(%d, %d, %d) of more than %d labels: not read", start, stop, step, int64(maxElements))
		}
		ix.Range, ix.rng = true, &rangeSpec{start: start, step: step, n: n}
		return ix, nil
	}
	var a *Array
	switch v := get("data").(type) {
	case *Array:
		a = v
	case *ndArrayBacked:
		a = v.arr
	case *maskedArray:
		a = v.arr
	default:
		return nil, fmt.Errorf("%s data: a %s", c.name, TypeName(get("data")))
	}
	if a == nil || a.pending || len(a.Shape) != 1 {
		return nil, fmt.Errorf("%s of a non-1-D array", c.name)
	}
	var loc *time.Location
	if tz, ok := get("tz").(*tzInfo); ok && a.Dtype.Kind == 'M' { // pandas before 1.0
		loc = tz.loc
	}
	vals, err := values(m, a, loc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	ix.Values = vals
	return ix, nil
}

// values are an array's elements as Go values (see cell), charged; with
// loc, datetime64 values are placed in that zone.
func values(m *machine, a *Array, loc *time.Location) ([]any, error) {
	n := a.Len()
	if err := m.chargeN(int64(n), costSlot+24); err != nil {
		return nil, err
	}
	out := make([]any, n)
	for i := range out {
		v, err := cell(a.Dtype, elementAt(a, i))
		if err != nil {
			return nil, err
		}
		if t, ok := v.(time.Time); ok && loc != nil {
			v = t.In(loc)
		}
		out[i] = v
	}
	return out, nil
}

// elementAt is the i-th element of Data, in memory order.
func elementAt(a *Array, i int) any {
	switch x := a.Data.(type) {
	case []float64:
		return x[i]
	case []int64:
		return x[i]
	case []uint64:
		return x[i]
	case []bool:
		return x[i]
	case []string:
		return x[i]
	case []any:
		return x[i]
	}
	return nil
}

// objectArray is an array of Go values of a's shape and order.
func objectArray(a *Array, vals []any) *Array {
	return &Array{Dtype: &Dtype{Kind: 'O', Size: 8, ByteOrder: '|', built: true}, Shape: a.Shape, Fortran: a.Fortran, Data: vals, off: a.off}
}

// ndArrayBacked is pandas' NDArrayBacked (DatetimeArray, TimedeltaArray,
// Categorical, StringArray): BUILD gives (dtype, ndarray[, attributes]).
// arr is what a block or an index reads: the ndarray itself for naive
// datetimes and timedeltas, Go values for the others.
type ndArrayBacked struct {
	cls   string
	arr   *Array
	dtype string // the pandas extension dtype, for a block
}

var ndArrayBackedClasses = map[string]bool{
	"pandas.core.arrays.datetimes.DatetimeArray": true, "pandas.core.arrays.timedeltas.TimedeltaArray": true,
	"pandas.core.arrays.categorical.Categorical": true, "pandas.core.arrays.string_.StringArray": true,
}

func unpickleNDArrayBacked(m *machine, args []any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("__pyx_unpickle_NDArrayBacked takes 3 arguments, got %d", len(args))
	}
	c, ok := args[0].(*class)
	if !ok || !ndArrayBackedClasses[c.module+"."+c.name] {
		return nil, fmt.Errorf("NDArrayBacked of a %s: only DatetimeArray, TimedeltaArray, Categorical and StringArray are read", TypeName(args[0]))
	}
	n := &ndArrayBacked{cls: c.name}
	if args[2] != nil {
		return n, n.build(m, args[2])
	}
	return n, nil
}

func (n *ndArrayBacked) build(m *machine, state any) error {
	if n.arr != nil {
		return fmt.Errorf("a %s's state may be set once", n.cls)
	}
	t, ok := state.(*pyTuple)
	if !ok || len(t.items) < 2 || len(t.items) > 3 {
		return fmt.Errorf("%s state: a %s", n.cls, TypeName(state))
	}
	a, ok := t.items[1].(*Array)
	if !ok || a.pending {
		return fmt.Errorf("%s data: a %s", n.cls, TypeName(t.items[1]))
	}
	dt := t.items[0]
	switch n.cls {
	case "DatetimeArray":
		if a.Dtype.Kind != 'M' {
			return fmt.Errorf("DatetimeArray of %s", a.Dtype)
		}
		switch d := dt.(type) {
		case *Dtype:
			if d.Kind != 'M' {
				return fmt.Errorf("DatetimeArray of dtype %s", d)
			}
			n.arr = a
			return nil
		case *pandasDtype:
			if d.cls != "DatetimeTZDtype" || d.tz == nil {
				return fmt.Errorf("DatetimeArray of dtype %s", d.cls)
			}
			vals, err := values(m, a, d.tz.loc)
			if err != nil {
				return err
			}
			n.arr, n.dtype = objectArray(a, vals), fmt.Sprintf("datetime64[%s, %s]", a.Dtype.Unit, d.tz.loc)
			return nil
		}
		return fmt.Errorf("DatetimeArray dtype: a %s", TypeName(dt))
	case "TimedeltaArray":
		if d, ok := dt.(*Dtype); !ok || d.Kind != 'm' || a.Dtype.Kind != 'm' {
			return fmt.Errorf("TimedeltaArray of %s", TypeName(dt))
		}
		n.arr = a
		return nil
	case "Categorical":
		d, ok := dt.(*pandasDtype)
		if !ok || d.cls != "CategoricalDtype" || d.categories == nil {
			return fmt.Errorf("Categorical dtype: a %s", TypeName(dt))
		}
		codes, ok := a.Data.([]int64)
		if !ok || a.Dtype.Kind != 'i' {
			return fmt.Errorf("Categorical codes of %s", a.Dtype)
		}
		if err := d.categories.materialize(m); err != nil {
			return err
		}
		cats := d.categories.Values
		if err := m.chargeN(int64(len(codes)), costSlot); err != nil {
			return err
		}
		vals := make([]any, len(codes))
		for i, c := range codes {
			switch {
			case c == -1:
				vals[i] = nil
			case c >= 0 && c < int64(len(cats)):
				vals[i] = cats[c]
			default:
				return fmt.Errorf("Categorical code %d of %d categories", c, len(cats))
			}
		}
		n.arr, n.dtype = objectArray(a, vals), "category"
		return nil
	case "StringArray":
		if d, ok := dt.(*pandasDtype); !ok || d.cls != "StringDtype" {
			return fmt.Errorf("StringArray dtype: a %s", TypeName(dt))
		}
		vals, ok := a.Data.([]any)
		if !ok {
			return fmt.Errorf("StringArray of %s", a.Dtype)
		}
		for i, v := range vals {
			if _, ok := v.(string); !ok && v != nil {
				return fmt.Errorf("StringArray element %d is a %s", i, TypeName(v))
			}
		}
		n.arr, n.dtype = a, "string"
		return nil
	}
	return fmt.Errorf("%s is not read", n.cls)
}

// maskedArray is pandas' IntegerArray, FloatingArray or BooleanArray:
// BUILD gives {"_data": ndarray, "_mask": ndarray of bool, ...}.
type maskedArray struct {
	cls   string
	arr   *Array
	dtype string
}

func (a *maskedArray) build(m *machine, state any) error {
	if a.arr != nil {
		return fmt.Errorf("a %s's state may be set once", a.cls)
	}
	d, ok := state.(*pyDict)
	if !ok {
		return fmt.Errorf("%s state: a %s", a.cls, TypeName(state))
	}
	data, _ := d.get("_data").(*Array)
	mask, _ := d.get("_mask").(*Array)
	if data == nil || mask == nil || data.pending || mask.pending {
		return fmt.Errorf("%s state without _data and _mask arrays", a.cls)
	}
	bits, ok := mask.Data.([]bool)
	if !ok || len(data.Shape) != 1 || len(mask.Shape) != 1 || data.Shape[0] != mask.Shape[0] {
		return fmt.Errorf("%s of data %s and mask %s of %s", a.cls, shapeText(data.Shape), shapeText(mask.Shape), mask.Dtype)
	}
	want := map[string]string{"IntegerArray": "iu", "FloatingArray": "f", "BooleanArray": "b"}[a.cls]
	if !containsByte(want, data.Dtype.Kind) {
		return fmt.Errorf("%s of %s", a.cls, data.Dtype)
	}
	vals, err := values(m, data, nil)
	if err != nil {
		return err
	}
	for i, masked := range bits {
		if masked {
			vals[i] = nil
		}
	}
	switch data.Dtype.Kind {
	case 'i':
		a.dtype = fmt.Sprintf("Int%d", 8*data.Dtype.Size)
	case 'u':
		a.dtype = fmt.Sprintf("UInt%d", 8*data.Dtype.Size)
	case 'f':
		a.dtype = fmt.Sprintf("Float%d", 8*data.Dtype.Size)
	case 'b':
		a.dtype = "boolean"
	}
	a.arr = objectArray(data, vals)
	return nil
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// pandasDtype is one of pandas' extension dtypes; BUILD gives its
// __dict__.
type pandasDtype struct {
	cls        string
	built      bool
	categories *Index  // CategoricalDtype
	tz         *tzInfo // DatetimeTZDtype
}

func (d *pandasDtype) build(m *machine, state any) error {
	if d.built {
		return fmt.Errorf("a %s's state may be set once", d.cls)
	}
	st, ok := state.(*pyDict)
	if !ok {
		return fmt.Errorf("%s state: a %s", d.cls, TypeName(state))
	}
	for _, e := range st.entries {
		v := e.v
		switch s, _ := e.k.(string); {
		case d.cls == "CategoricalDtype" && s == "categories":
			ix, ok := v.(*Index)
			if !ok {
				return fmt.Errorf("CategoricalDtype categories: a %s", TypeName(v))
			}
			d.categories = ix
		case d.cls == "DatetimeTZDtype" && (s == "tz" || s == "_tz"):
			tz, ok := v.(*tzInfo)
			if !ok {
				return fmt.Errorf("DatetimeTZDtype tz: a %s: only pytz, zoneinfo and datetime.timezone zones are read", TypeName(v))
			}
			d.tz = tz
		}
	}
	d.built = true
	return nil
}

// unpickleTimestamp is pandas' _unpickle_timestamp(value, freq, tz[, reso]).
func unpickleTimestamp(m *machine, args []any) (any, error) {
	if len(args) < 3 || len(args) > 4 {
		return nil, fmt.Errorf("_unpickle_timestamp takes 3 or 4 arguments, got %d", len(args))
	}
	// The value is an int however the pickle spells it (BININT, LONG1 of
	// any length, LONG4, protocol 0's I and L lines): the decoder gives
	// every int in int64's range as an int64, and pandas holds no other.
	var v int64
	switch x := args[0].(type) {
	case int64:
		v = x
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("Timestamp value %d is beyond int64, which pandas holds a Timestamp in", x)
		}
		v = int64(x)
	case *big.Int:
		if !x.IsInt64() {
			return nil, fmt.Errorf("Timestamp value %s is beyond int64, which pandas holds a Timestamp in", repr(x))
		}
		v = x.Int64()
	default:
		return nil, fmt.Errorf("Timestamp value: a %s, not an int", TypeName(args[0]))
	}
	reso := int64(10) // nanoseconds, pandas 1.x
	if len(args) > 3 {
		var ok bool
		if reso, ok = args[3].(int64); !ok {
			return nil, fmt.Errorf("Timestamp resolution: a %s", TypeName(args[3]))
		}
	}
	var t time.Time
	switch reso {
	case 10:
		t = time.Unix(0, v).UTC()
	case 9:
		t = time.UnixMicro(v).UTC()
	case 8:
		t = time.UnixMilli(v).UTC()
	case 7:
		t = time.Unix(v, 0).UTC()
	default:
		return nil, fmt.Errorf("Timestamp of resolution %d", reso)
	}
	switch tz := args[2].(type) {
	case nil:
		return t, nil
	case *tzInfo:
		return t.In(tz.loc), nil
	}
	return nil, fmt.Errorf("Timestamp time zone: a %s", TypeName(args[2]))
}

// pandasClass answers FindClass for pandas' names.
func pandasClass(module, name string) (any, bool) {
	full := module + "." + name
	mk := func(call, nw func(*machine, []any) (any, error)) (any, bool) {
		return &class{module: module, name: name, call: call, new: nw}, true
	}
	if indexClasses[full] || ndArrayBackedClasses[full] {
		return mk(nil, nil) // passed to _new_Index and __pyx_unpickle_NDArrayBacked
	}
	switch full {
	case "pandas.core.frame.DataFrame":
		return mk(nil, newFrame)
	case "pandas.core.internals.managers.BlockManager":
		return mk(newBlockManager, nil)
	case "pandas._libs.internals._unpickle_block":
		return mk(unpickleBlock, nil)
	case "pandas.core.indexes.base._new_Index", "pandas.core.indexes.datetimes._new_DatetimeIndex":
		return mk(newIndex, nil)
	case "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked":
		return mk(unpickleNDArrayBacked, nil)
	case "pandas.core.arrays.integer.IntegerArray", "pandas.core.arrays.floating.FloatingArray", "pandas.core.arrays.boolean.BooleanArray":
		return mk(nil, func(m *machine, args []any) (any, error) {
			if len(args) != 0 {
				return nil, fmt.Errorf("%s.__new__ with arguments", name)
			}
			return &maskedArray{cls: name}, nil
		})
	case "pandas.core.dtypes.dtypes.CategoricalDtype", "pandas.core.dtypes.dtypes.DatetimeTZDtype", "pandas.core.arrays.string_.StringDtype",
		"pandas.core.arrays.integer.Int8Dtype", "pandas.core.arrays.integer.Int16Dtype", "pandas.core.arrays.integer.Int32Dtype",
		"pandas.core.arrays.integer.Int64Dtype", "pandas.core.arrays.integer.UInt8Dtype", "pandas.core.arrays.integer.UInt16Dtype",
		"pandas.core.arrays.integer.UInt32Dtype", "pandas.core.arrays.integer.UInt64Dtype", "pandas.core.arrays.floating.Float32Dtype",
		"pandas.core.arrays.floating.Float64Dtype", "pandas.core.arrays.boolean.BooleanDtype":
		return mk(nil, func(m *machine, args []any) (any, error) {
			if len(args) != 0 {
				return nil, fmt.Errorf("%s.__new__ with arguments", name)
			}
			return &pandasDtype{cls: name}, nil
		})
	case "pandas._libs.tslibs.timestamps._unpickle_timestamp":
		return mk(unpickleTimestamp, nil)
	case "pandas._libs.tslibs.nattype.__nat_unpickle":
		return mk(func(m *machine, args []any) (any, error) { return NaTv, nil }, nil)
	case "pandas._libs.missing.NA":
		return nil, true // pandas.NA decodes as nil, as None does
	}
	return nil, false
}
