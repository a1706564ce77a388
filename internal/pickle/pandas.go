package pickle

import (
	"fmt"
	"time"

	"github.com/nlpodyssey/gopickle/types"
)

// The pandas objects of a pickled DataFrame, as pandas 1.5 and 2.x write
// them: DataFrame over a BlockManager of blocks (each a 2-D array of some
// columns, with their positions), an Index or RangeIndex per axis,
// DatetimeArray for datetime columns, Timestamp and NaT.

// NaTValue is pandas' NaT (not a time).
type NaTValue struct{}

func (NaTValue) String() string { return "NaT" }

// NaTv is the decoded pandas.NaT.
var NaTv = NaTValue{}

// Index is a pandas Index or RangeIndex.
type Index struct {
	Name   any
	Values []any // the labels (a RangeIndex's too)
	Range  bool  // it was a RangeIndex
}

// Block is one block of a BlockManager: Values holds len(Columns) rows of
// the frame's length (pandas keeps blocks transposed).
type Block struct {
	Values  *Array
	Columns []int // positions of the block's columns in the frame
}

// DataFrame is a pandas DataFrame.
type DataFrame struct {
	Columns []any // column labels, in order
	Index   *Index
	Blocks  []*Block
	pending bool
	attrs   map[string]any
}

// Len is the number of rows.
func (df *DataFrame) Len() int {
	if df.Index == nil {
		return 0
	}
	return len(df.Index.Values)
}

// Column returns the values of the column at position j, one per row, as
// Go values: float64 (NaN kept), int64, uint64, bool, string, time.Time
// (datetime64), NaTv (NaT), or what an object column holds.
func (df *DataFrame) Column(j int) ([]any, error) {
	for _, b := range df.Blocks {
		for k, c := range b.Columns {
			if c != j {
				continue
			}
			a := b.Values
			if len(a.Shape) != 2 || a.Shape[0] != len(b.Columns) {
				return nil, fmt.Errorf("block of shape %v for %d columns", a.Shape, len(b.Columns))
			}
			n := a.Shape[1]
			out := make([]any, n)
			for i := 0; i < n; i++ {
				v := a.At(k, i)
				if a.Dtype.Kind == 'M' {
					if t, ok := a.Dtype.Time(v.(int64)); ok {
						v = t
					} else {
						v = NaTv
					}
				}
				out[i] = v
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("no block holds column %d", j)
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

// PyNew is DataFrame.__new__: an empty frame that BUILD fills.
func (df *DataFrame) PyNew(args ...any) (any, error) { return &DataFrame{pending: true}, nil }

// PySetState reads the frame's __dict__: _mgr is the BlockManager.
func (df *DataFrame) PySetState(state any) error {
	d, ok := state.(*types.Dict)
	if !ok {
		return fmt.Errorf("pandas DataFrame state: %T", state)
	}
	for _, e := range *d {
		if k, _ := e.Key.(string); k == "_mgr" || k == "_data" {
			m, ok := e.Value.(*blockManager)
			if !ok {
				return fmt.Errorf("pandas DataFrame %s: %T", k, e.Value)
			}
			if len(m.axes) != 2 {
				return fmt.Errorf("pandas DataFrame of %d axes", len(m.axes))
			}
			df.Columns, df.Index, df.Blocks, df.pending = m.axes[0].Values, m.axes[1], m.blocks, false
			return df.check()
		}
	}
	return fmt.Errorf("pandas DataFrame state without _mgr")
}

// check verifies every column is in exactly one block of the right length.
func (df *DataFrame) check() error {
	seen := make([]bool, len(df.Columns))
	for _, b := range df.Blocks {
		if len(b.Values.Shape) != 2 || b.Values.Shape[0] != len(b.Columns) || b.Values.Shape[1] != df.Len() {
			return fmt.Errorf("pandas block of shape %v: want %d × %d", b.Values.Shape, len(b.Columns), df.Len())
		}
		for _, c := range b.Columns {
			if c < 0 || c >= len(seen) || seen[c] {
				return fmt.Errorf("pandas block places column %d twice or outside %d columns", c, len(seen))
			}
			seen[c] = true
		}
	}
	for j, s := range seen {
		if !s {
			return fmt.Errorf("pandas DataFrame column %d is in no block", j)
		}
	}
	return nil
}

// blockManager is pandas' BlockManager(blocks, axes).
type blockManager struct {
	blocks []*Block
	axes   []*Index
}

func newBlockManager(args ...any) (any, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("pandas BlockManager takes (blocks, axes), got %d arguments", len(args))
	}
	m := &blockManager{}
	return m, m.set(args[0], args[1])
}

func (m *blockManager) set(blocks, axes any) error {
	for _, b := range items(blocks) {
		blk, ok := b.(*Block)
		if !ok {
			return fmt.Errorf("pandas BlockManager block: %T", b)
		}
		m.blocks = append(m.blocks, blk)
	}
	for _, a := range items(axes) {
		ix, ok := a.(*Index)
		if !ok {
			return fmt.Errorf("pandas BlockManager axis: %T", a)
		}
		m.axes = append(m.axes, ix)
	}
	return nil
}

func items(v any) []any {
	switch x := v.(type) {
	case *types.Tuple:
		return *x
	case *types.List:
		return *x
	}
	return nil
}

// unpickleBlock is pandas' _unpickle_block(values, placement, ndim).
func unpickleBlock(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("pandas _unpickle_block takes 3 arguments, got %d", len(args))
	}
	b := &Block{}
	switch v := args[0].(type) {
	case *Array:
		b.Values = v
	case *ndArrayBacked:
		b.Values = v.data
	default:
		return nil, fmt.Errorf("pandas block values: %T", args[0])
	}
	if b.Values == nil || b.Values.pending {
		return nil, fmt.Errorf("pandas block values never built")
	}
	if nd, _ := args[2].(int); nd != 2 {
		return nil, fmt.Errorf("pandas block of %v dimensions: only 2 are read", args[2])
	}
	switch p := args[1].(type) {
	case *Slice:
		start, _ := p.Start.(int)
		stop, ok := p.Stop.(int)
		step, _ := p.Step.(int)
		if step == 0 {
			step = 1
		}
		if !ok || step < 1 || stop < start || stop-start > maxElements {
			return nil, fmt.Errorf("pandas block placement %v", p)
		}
		for c := start; c < stop; c += step {
			b.Columns = append(b.Columns, c)
		}
	case *Array:
		ix, ok := p.Data.([]int64)
		if !ok {
			return nil, fmt.Errorf("pandas block placement of %s", p.Dtype)
		}
		for _, c := range ix {
			b.Columns = append(b.Columns, int(c))
		}
	default:
		return nil, fmt.Errorf("pandas block placement: %T", args[1])
	}
	return b, nil
}

// newIndex is pandas' _new_Index(cls, d).
func newIndex(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("pandas _new_Index takes 2 arguments, got %d", len(args))
	}
	c, ok := args[0].(*class)
	if !ok {
		return nil, fmt.Errorf("pandas _new_Index of %T", args[0])
	}
	d, ok := args[1].(*types.Dict)
	if !ok {
		return nil, fmt.Errorf("pandas %s state: %T", c.name, args[1])
	}
	get := func(k string) any {
		for _, e := range *d {
			if s, _ := e.Key.(string); s == k {
				return e.Value
			}
		}
		return nil
	}
	ix := &Index{}
	name, err := convert(get("name"))
	if err != nil {
		return nil, err
	}
	ix.Name = name
	switch c.name {
	case "RangeIndex":
		start, _ := get("start").(int)
		stop, ok := get("stop").(int)
		step, _ := get("step").(int)
		if !ok || step == 0 || (stop-start)/step > maxElements {
			return nil, fmt.Errorf("pandas RangeIndex(%v, %v, %v)", get("start"), get("stop"), get("step"))
		}
		ix.Range = true
		for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
			ix.Values = append(ix.Values, int64(i))
		}
		if ix.Values == nil {
			ix.Values = []any{}
		}
	case "Index", "DatetimeIndex":
		var a *Array
		switch v := get("data").(type) {
		case *Array:
			a = v
		case *ndArrayBacked:
			a = v.data
		default:
			return nil, fmt.Errorf("pandas %s data: %T", c.name, get("data"))
		}
		if a == nil || len(a.Shape) != 1 {
			return nil, fmt.Errorf("pandas %s of a non-1-D array", c.name)
		}
		ix.Values = make([]any, a.Len())
		for i := range ix.Values {
			v := a.At(i)
			if a.Dtype.Kind == 'M' {
				if t, ok := a.Dtype.Time(v.(int64)); ok {
					v = t
				} else {
					v = NaTv
				}
			}
			ix.Values[i] = v
		}
	default:
		return nil, fmt.Errorf("pandas %s is not read", c.name)
	}
	return ix, nil
}

// ndArrayBacked is pandas' NDArrayBacked (DatetimeArray): BUILD gives
// (dtype, ndarray, attributes).
type ndArrayBacked struct {
	data *Array
}

func unpickleNDArrayBacked(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("pandas __pyx_unpickle_NDArrayBacked without a class")
	}
	if c, ok := args[0].(*class); !ok || c.name != "DatetimeArray" {
		return nil, fmt.Errorf("pandas NDArrayBacked of %v: only DatetimeArray is read", args[0])
	}
	return &ndArrayBacked{}, nil
}

func (n *ndArrayBacked) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || len(*t) < 2 {
		return fmt.Errorf("pandas DatetimeArray state: %T", state)
	}
	a, ok := (*t)[1].(*Array)
	if !ok || a.Dtype == nil || a.Dtype.Kind != 'M' {
		return fmt.Errorf("pandas DatetimeArray data: %T", (*t)[1])
	}
	if d, ok := (*t)[0].(*Dtype); !ok || d.Kind != 'M' {
		return fmt.Errorf("pandas DatetimeArray dtype %v: only naive datetime64 is read", (*t)[0])
	}
	n.data = a
	return nil
}

// unpickleTimestamp is pandas' _unpickle_timestamp(value, freq, tz[, reso]).
func unpickleTimestamp(args ...any) (any, error) {
	if len(args) < 3 {
		return nil, fmt.Errorf("pandas _unpickle_timestamp takes 3 or 4 arguments, got %d", len(args))
	}
	v, ok := args[0].(int)
	if !ok {
		return nil, fmt.Errorf("pandas Timestamp value: %T", args[0])
	}
	if args[2] != nil {
		return nil, fmt.Errorf("pandas Timestamp with a time zone (%T) is not read", args[2])
	}
	reso := 10 // nanoseconds, pandas 1.x
	if len(args) > 3 {
		if r, ok := args[3].(int); ok {
			reso = r
		}
	}
	switch reso {
	case 10:
		return time.Unix(0, int64(v)).UTC(), nil
	case 9:
		return time.UnixMicro(int64(v)).UTC(), nil
	case 8:
		return time.UnixMilli(int64(v)).UTC(), nil
	case 7:
		return time.Unix(int64(v), 0).UTC(), nil
	}
	return nil, fmt.Errorf("pandas Timestamp of resolution %d", reso)
}

// pandasClass answers FindClass for pandas' names.
func pandasClass(module, name string) (any, bool) {
	switch module + "." + name {
	case "pandas.core.frame.DataFrame":
		return &DataFrame{}, true
	case "pandas.core.internals.managers.BlockManager":
		return callable(newBlockManager), true
	case "pandas._libs.internals._unpickle_block":
		return callable(unpickleBlock), true
	case "pandas.core.indexes.base._new_Index":
		return callable(newIndex), true
	case "pandas.core.indexes.base.Index", "pandas.core.indexes.range.RangeIndex", "pandas.core.indexes.datetimes.DatetimeIndex",
		"pandas.core.arrays.datetimes.DatetimeArray":
		return &class{module, name}, true
	case "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked":
		return callable(unpickleNDArrayBacked), true
	case "pandas._libs.tslibs.timestamps._unpickle_timestamp":
		return callable(unpickleTimestamp), true
	case "pandas._libs.tslibs.nattype.__nat_unpickle":
		return callable(func(args ...any) (any, error) { return NaTv, nil }), true
	}
	return nil, false
}
