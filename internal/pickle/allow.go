package pickle

import (
	"fmt"
	"strings"
)

// class is what GLOBAL, INST and STACK_GLOBAL push for an allowed name:
// call is cls(*args) (REDUCE, INST, OBJ), new is cls.__new__(cls, *args)
// (NEWOBJ, and copyreg._reconstructor); a class with neither is only an
// argument to something else (numpy.ndarray for _reconstruct).
type class struct {
	module, name string
	call         func(m *machine, args []any) (any, error)
	new          func(m *machine, args []any) (any, error)
}

// builder is an object BUILD gives a state to, once.
type builder interface {
	build(m *machine, state any) error
}

var (
	_ builder = (*Array)(nil)
	_ builder = (*Dtype)(nil)
	_ builder = (*DataFrame)(nil)
	_ builder = (*ndArrayBacked)(nil)
	_ builder = (*maskedArray)(nil)
	_ builder = (*pandasDtype)(nil)
)

// allowed answers a class name from the allowlist. The module is already
// mapped from its Python 2 name (__builtin__, copy_reg) when the protocol
// is below 3. The value is a *class, or for a name that is a value (pandas
// NA), the value.
func allowed(module, name string) (any, bool) {
	mk := func(call, nw func(*machine, []any) (any, error)) (any, bool) {
		return &class{module: module, name: name, call: call, new: nw}, true
	}
	switch module {
	case "builtins":
		if call, ok := builtinsCall(name); ok {
			return mk(call, nil)
		}
	case "copyreg":
		if name == "_reconstructor" { // protocols 0 and 1: object.__new__(cls)
			return mk(reconstructor, nil)
		}
	case "collections":
		if name == "OrderedDict" {
			return mk(func(m *machine, args []any) (any, error) {
				if len(args) != 0 {
					return nil, fmt.Errorf("OrderedDict() with arguments: not read")
				}
				return &pyDict{ordered: true, off: m.at}, nil
			}, nil)
		}
	case "_codecs":
		if name == "encode" { // protocols 0 to 2 write bytes as _codecs.encode(str, "latin1")
			return mk(codecsEncode, nil)
		}
	case "datetime":
		switch name {
		case "datetime", "date", "timedelta", "timezone":
			return mk(func(m *machine, args []any) (any, error) { return datetimeCall(m, name, args) }, nil)
		}
	case "pytz":
		switch name {
		case "_p", "_UTC", "FixedOffset":
			return mk(func(m *machine, args []any) (any, error) { return pytzCall(name, args) }, nil)
		}
	case "zoneinfo":
		if name == "ZoneInfo._unpickle" {
			return mk(func(m *machine, args []any) (any, error) { return zoneinfoCall(args) }, nil)
		}
	case "numpy.core.numeric", "numpy._core.numeric":
		if name == "_frombuffer" { // protocol 5
			return mk(frombuffer, nil)
		}
	case "numpy.core.multiarray", "numpy._core.multiarray":
		switch name {
		case "_reconstruct":
			return mk(reconstruct, nil)
		case "scalar":
			return mk(scalar, nil)
		}
	case "numpy":
		switch name {
		case "ndarray":
			return mk(nil, nil)
		case "dtype":
			return mk(newDtype, nil)
		}
	}
	if strings.HasPrefix(module, "pandas.") {
		return pandasClass(module, name)
	}
	return nil, false
}

// builtinsCall is the call of an allowed builtins name: set, frozenset,
// slice, bytearray and bytes; object is allowed with no call (only as
// copyreg._reconstructor's base).
func builtinsCall(name string) (func(m *machine, args []any) (any, error), bool) {
	switch name {
	case "set", "frozenset":
		frozen := name == "frozenset"
		return func(m *machine, args []any) (any, error) {
			s := &pySet{frozen: frozen, off: m.at}
			switch len(args) {
			case 0:
			case 1:
				var items []any
				switch x := args[0].(type) {
				case *pyList:
					items = x.items
				case *pyTuple:
					items = x.items
				default:
					return nil, fmt.Errorf("%s() of a %s: only a list or tuple is read", name, TypeName(args[0]))
				}
				if err := m.addItems(s, items); err != nil {
					return nil, err
				}
			default:
				return nil, fmt.Errorf("%s() takes at most 1 argument, got %d", name, len(args))
			}
			return s, nil
		}, true
	case "slice":
		return func(m *machine, args []any) (any, error) {
			switch len(args) {
			case 1:
				return &pySlice{stop: args[0], off: m.at}, nil
			case 2:
				return &pySlice{start: args[0], stop: args[1], off: m.at}, nil
			case 3:
				return &pySlice{start: args[0], stop: args[1], step: args[2], off: m.at}, nil
			}
			return nil, fmt.Errorf("slice() takes 1 to 3 arguments, got %d", len(args))
		}, true
	case "bytearray", "bytes":
		return func(m *machine, args []any) (any, error) {
			if len(args) == 0 {
				return []byte{}, nil
			}
			if len(args) > 2 {
				return nil, fmt.Errorf("%s() takes at most 2 arguments here, got %d", name, len(args))
			}
			return bytesArg(m, name, args)
		}, true
	case "object":
		return nil, true // only as copyreg._reconstructor's base
	}
	return nil, false
}

// reconstructor is copyreg._reconstructor(cls, object, None), which
// protocols 0 and 1 write for object.__new__(cls).
func reconstructor(m *machine, args []any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("_reconstructor takes 3 arguments, got %d", len(args))
	}
	cls, ok := args[0].(*class)
	base, ok2 := args[1].(*class)
	if !ok || !ok2 || base.name != "object" || args[2] != nil || cls.new == nil {
		return nil, fmt.Errorf("_reconstructor(%s, %s, %s): only object.__new__ of a class this decoder makes is read", TypeName(args[0]), TypeName(args[1]), TypeName(args[2]))
	}
	return cls.new(m, nil)
}

// codecsEncode is _codecs.encode(str[, encoding]), which protocols 0 to 2
// write for bytes.
func codecsEncode(m *machine, args []any) (any, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, fmt.Errorf("encode() takes 1 or 2 arguments here, got %d", len(args))
	}
	if _, ok := args[0].(string); !ok {
		return nil, fmt.Errorf("encode() of a %s", TypeName(args[0]))
	}
	return bytesArg(m, "encode", args)
}

// latin1Names are the names Python's codec registry takes for latin-1.
var latin1Names = map[string]bool{"latin1": true, "latin_1": true, "latin-1": true, "iso-8859-1": true, "iso8859-1": true, "iso_8859_1": true, "l1": true}

// bytesArg is bytes(x), bytearray(x[, encoding]) and _codecs.encode(str[,
// encoding]): bytes are copied, a str encoded (latin-1 as the picklers
// write; UTF-8), a list of ints taken as bytes. An int (a size) is refused.
func bytesArg(m *machine, fn string, args []any) ([]byte, error) {
	var out []byte
	switch x := args[0].(type) {
	case []byte:
		if len(args) > 1 {
			return nil, fmt.Errorf("%s() of bytes with an encoding", fn)
		}
		out = append([]byte{}, x...)
	case string:
		enc := "utf-8"
		if len(args) > 1 {
			e, ok := args[1].(string)
			if !ok {
				return nil, fmt.Errorf("%s() encoding is a %s", fn, TypeName(args[1]))
			}
			enc = strings.ToLower(e)
		} else if fn != "encode" {
			return nil, fmt.Errorf("%s() of a str without an encoding", fn)
		}
		switch {
		case latin1Names[enc]:
			var err error
			if out, err = latin1(x); err != nil {
				return nil, err
			}
		case enc == "utf-8" || enc == "utf8" || enc == "utf_8":
			out = []byte(x)
		default:
			return nil, fmt.Errorf("%s() encoding %s: only latin-1 and UTF-8 are read", fn, repr(enc))
		}
	case *pyList:
		if len(args) > 1 {
			return nil, fmt.Errorf("%s() of a list with an encoding", fn)
		}
		out = make([]byte, 0, len(x.items))
		for _, e := range x.items {
			n, ok := e.(int64)
			if !ok || n < 0 || n > 255 {
				return nil, fmt.Errorf("%s() of a list holding %s, not a byte", fn, repr(e))
			}
			out = append(out, byte(n))
		}
	default:
		return nil, fmt.Errorf("%s() of a %s: not read", fn, TypeName(args[0]))
	}
	if err := m.charge(int64(len(out))); err != nil {
		return nil, err
	}
	return out, nil
}

// latin1 encodes a str whose characters are all below U+0100.
func latin1(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i, r := range s {
		if r > 0xff {
			return nil, fmt.Errorf("latin-1 cannot encode U+%04X at %d", r, i)
		}
		out = append(out, byte(r))
	}
	return out, nil
}
