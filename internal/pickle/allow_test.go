package pickle

import (
	"errors"
	"sort"
	"strings"
	"testing"
)

// allowedNames is the allowlist, written out: a name added to allowed()
// without being added here fails TestAllowlist, and so does any name
// outside it that decodes.
var allowedNames = map[string]bool{}

func init() {
	for _, mn := range strings.Fields(`
		builtins.set builtins.frozenset builtins.slice builtins.bytearray builtins.bytes builtins.object
		copyreg._reconstructor collections.OrderedDict _codecs.encode
		datetime.datetime datetime.date datetime.timedelta datetime.timezone
		pytz._p pytz._UTC pytz.FixedOffset zoneinfo.ZoneInfo._unpickle
		numpy.core.numeric._frombuffer numpy._core.numeric._frombuffer
		numpy.core.multiarray._reconstruct numpy._core.multiarray._reconstruct
		numpy.core.multiarray.scalar numpy._core.multiarray.scalar numpy.ndarray numpy.dtype
		pandas.core.frame.DataFrame pandas.core.internals.managers.BlockManager pandas._libs.internals._unpickle_block
		pandas.core.indexes.base._new_Index pandas.core.indexes.datetimes._new_DatetimeIndex
		pandas.core.indexes.base.Index pandas.core.indexes.range.RangeIndex
		pandas.core.indexes.numeric.Int64Index pandas.core.indexes.numeric.UInt64Index
		pandas.core.indexes.numeric.Float64Index pandas.core.indexes.numeric.NumericIndex
		pandas.core.indexes.datetimes.DatetimeIndex pandas.core.indexes.timedeltas.TimedeltaIndex
		pandas.core.indexes.category.CategoricalIndex
		pandas._libs.arrays.__pyx_unpickle_NDArrayBacked pandas.core.arrays.datetimes.DatetimeArray
		pandas.core.arrays.timedeltas.TimedeltaArray pandas.core.arrays.categorical.Categorical
		pandas.core.arrays.string_.StringArray pandas.core.arrays.string_.StringDtype
		pandas.core.arrays.integer.IntegerArray pandas.core.arrays.floating.FloatingArray pandas.core.arrays.boolean.BooleanArray
		pandas.core.arrays.integer.Int8Dtype pandas.core.arrays.integer.Int16Dtype pandas.core.arrays.integer.Int32Dtype
		pandas.core.arrays.integer.Int64Dtype pandas.core.arrays.integer.UInt8Dtype pandas.core.arrays.integer.UInt16Dtype
		pandas.core.arrays.integer.UInt32Dtype pandas.core.arrays.integer.UInt64Dtype
		pandas.core.arrays.floating.Float32Dtype pandas.core.arrays.floating.Float64Dtype pandas.core.arrays.boolean.BooleanDtype
		pandas.core.dtypes.dtypes.CategoricalDtype pandas.core.dtypes.dtypes.DatetimeTZDtype
		pandas._libs.tslibs.timestamps._unpickle_timestamp pandas._libs.tslibs.nattype.__nat_unpickle pandas._libs.missing.NA
	`) {
		allowedNames[mn] = true
	}
}

// split splits "module.name" at the module the table means: the longest
// prefix that is a module of the table (names may hold a dot).
func split(mn string) (string, string) {
	for i := len(mn) - 1; i > 0; i-- {
		if mn[i] == '.' && modules()[mn[:i]] {
			return mn[:i], mn[i+1:]
		}
	}
	i := strings.LastIndexByte(mn, '.')
	return mn[:i], mn[i+1:]
}

func modules() map[string]bool {
	out := map[string]bool{}
	for mn := range allowedNames {
		if strings.HasPrefix(mn, "zoneinfo.") {
			out["zoneinfo"] = true
			continue
		}
		out[mn[:strings.LastIndexByte(mn, '.')]] = true
	}
	return out
}

// refusedAt decodes a GLOBAL of module.name and reports whether it was
// refused (a *RefusedError naming it).
func refused(t *testing.T, proto int, module, name string) bool {
	t.Helper()
	_, err := Decode(newPW(proto).global(module, name).stop())
	var re *RefusedError
	if errors.As(err, &re) {
		if re.Module != module || re.Name != name || re.Offset != newPW(proto).at() || !errors.Is(err, ErrRefused) {
			t.Errorf("%s.%s: refused %s.%s at byte %d", module, name, re.Module, re.Name, re.Offset)
		}
		return true
	}
	return false
}

// TestAllowlist: every name of the allowlist is answered, and every name
// outside it is refused: dangerous names, and a generated list of names
// near the allowed ones (another module's name, a suffix, a case, a
// dotted attribute, a Python 2 name in protocol 4).
func TestAllowlist(t *testing.T) {
	for mn := range allowedNames {
		m, n := split(mn)
		if refused(t, 4, m, n) {
			t.Errorf("%s.%s is refused, want it allowed", m, n)
		}
	}
	for _, m := range []string{"set", "frozenset", "slice", "bytearray", "bytes", "object"} {
		if refused(t, 2, "__builtin__", m) {
			t.Errorf("__builtin__.%s is refused in protocol 2", m)
		}
		if !refused(t, 4, "__builtin__", m) {
			t.Errorf("__builtin__.%s is allowed in protocol 4, where Python 3 does not map it", m)
		}
	}
	if refused(t, 0, "copy_reg", "_reconstructor") {
		t.Errorf("copy_reg._reconstructor is refused in protocol 0")
	}
	candidates := map[string]bool{}
	for _, mn := range strings.Fields(`
		builtins.getattr builtins.setattr builtins.eval builtins.exec builtins.compile builtins.__import__ builtins.open
		builtins.globals builtins.vars builtins.type builtins.input builtins.breakpoint builtins.apply builtins.execfile
		builtins.object.__subclasses__ builtins.set.__init__ builtins.frozenset.__new__ builtins.complex builtins.map
		__builtin__.getattr __builtin__.eval __builtin__.__import__ __builtin__.file
		os.system posix.system nt.system os.popen os.execv os.spawnl posix.popen subprocess.Popen subprocess.call
		subprocess.check_output subprocess.run pty.spawn runpy._run_code runpy.run_path importlib.import_module
		pickle.loads _pickle.loads pickle._loads marshal.loads codecs.open shutil.rmtree webbrowser.open
		numpy.load numpy.loads numpy.frombuffer numpy.fromfile numpy.ctypeslib.load_library numpy.testing._private.utils.runstring
		numpy.core.multiarray._reconstruct.__globals__ numpy.core.multiarray.fromstring numpy.lib.npyio.load
		pandas.read_pickle pandas.io.pickle.read_pickle pandas.eval pandas.core.computation.eval.eval pandas.read_csv
		pandas.core.frame.DataFrame.eval pandas.core.frame.DataFrame.query pandas.core.series.Series
		pandas.core.indexes.multi.MultiIndex pandas.core.indexes.period.PeriodIndex pandas.core.arrays.arrow.array.ArrowExtensionArray
		copyreg._reconstructor.__globals__ copyreg.__newobj__ copy_reg.__newobj__ collections.OrderedDict.fromkeys
		_codecs.decode _codecs.lookup datetime.time functools.partial operator.attrgetter operator.methodcaller
		torch.load torch._utils._rebuild_tensor joblib.load dill._dill._load_type sys.modules types.FunctionType types.CodeType
	`) {
		candidates[mn] = true
	}
	var names, mods []string
	for mn := range allowedNames {
		m, n := split(mn)
		names = append(names, n)
		mods = append(mods, m)
	}
	for mn := range allowedNames {
		m, n := split(mn)
		for _, c := range []string{
			m + "." + n + "x", m + "." + strings.ToUpper(n[:1]) + n[1:], m + "x." + n, m + "." + n + ".__init__",
			m + ".__" + n, m + ".getattr", m + ".eval", m + ".__reduce__", "builtins." + n, "os." + n, m + "." + n + "." + n,
		} {
			candidates[c] = true
		}
		for _, n2 := range names {
			candidates[m+"."+n2] = true
		}
		for _, m2 := range mods {
			candidates[m2+"."+n] = true
		}
	}
	var tried []string
	for mn := range candidates {
		if allowedNames[mn] {
			continue
		}
		tried = append(tried, mn)
	}
	sort.Strings(tried)
	for _, mn := range tried {
		i := strings.LastIndexByte(mn, '.')
		m, n := mn[:i], mn[i+1:]
		if mm, nn := split(mn); modules()[mm] {
			m, n = mm, nn
		}
		if !refused(t, 4, m, n) {
			t.Errorf("%s.%s is not refused", m, n)
		}
	}
	if len(tried) < 1000 {
		t.Errorf("only %d names tried", len(tried))
	}
}

// TestRefusedOffsets: a refusal names the byte offset of the GLOBAL, INST
// or STACK_GLOBAL that asked, wherever it is, and nothing is called.
func TestRefusedOffsets(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		at   int64
	}{
		{"GLOBAL at byte 0", []byte("cposix\nsystem\n."), 0},
		{"GLOBAL after others", []byte("(I1\ncos\nsystem\n(S'echo'\ntR."), 4},
		{"INST", []byte("(S'echo'\nios\nsystem\n."), 9},
		{"INST at byte 1", []byte("(ios\nsystem\n."), 1},
		{"GLOBAL in protocol 2", newPW(2).op(']').put(0).global("os", "system").stop(), 5},
		{"STACK_GLOBAL", newPW(4).op('N', '0').stackGlobal("os", "system").stop(), 4 + 4 + 8},
		{"STACK_GLOBAL from the memo", newPW(4).str("os").put(0).str("system").put(1).op('0', '0').get(0).get(1).op(0x93).stop(), 24},
		{"GLOBAL inside a frame", append([]byte{0x80, 4, 0x95, 14, 0, 0, 0, 0, 0, 0, 0}, "cos\nsystem\n)R."...), 11},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.data)
			var re *RefusedError
			if !errors.As(err, &re) || re.Module != "os" && re.Module != "posix" || re.Name != "system" || re.Offset != c.at {
				t.Fatalf("Decode = %v, want os.system refused at byte %d", err, c.at)
			}
			if !strings.HasPrefix(err.Error(), "byte "+intStr(c.at)+": refused") {
				t.Errorf("error %q does not start with its offset", err)
			}
		})
	}
}

// TestMessages: errors name Python's types (list, dict, tuple, None,
// numpy.ndarray, pandas.DataFrame), never Go's.
func TestMessages(t *testing.T) {
	dt, _ := f8(1)
	for _, c := range []struct {
		name, want string
		data       []byte
	}{
		{"REDUCE of None", "a None is not callable", newPW(4).op('N', ')', 'R').stop()},
		{"APPEND to a dict", "APPEND to a dict, not a list", newPW(2).op('}', 'N', 'a').stop()},
		{"SETITEM on a list", "SETITEM on a list, not a dict", newPW(2).op(']', 'N', 'N', 's').stop()},
		{"unhashable key", "unhashable type: 'list'", newPW(2).op('}', ']', 'N', 's').stop()},
		{"REDUCE args not a tuple", "arguments are a list, not a tuple", newPW(4).stackGlobal("builtins", "set").op(']', 'R').stop()},
		{"set of a dict", "set() of a dict", newPW(4).stackGlobal("builtins", "set").op('}', 0x85, 'R').stop()},
		{"array data a list", "numpy array data: a list, not bytes", newPW(4).ndarray([]int64{1}, dt, func(p *pw) { p.op(']') }).stop()},
		{"frame state a tuple", "pandas DataFrame state: a tuple", newPW(4).stackGlobal("pandas.core.frame", "DataFrame").op(')', 0x81, ')', 'b').stop()},
		{"BUILD on a list", "BUILD on a list", newPW(2).op(']', '}', 'b').stop()},
		{"a class as the value", "a class (numpy.ndarray) as a value", newPW(4).stackGlobal("numpy", "ndarray").stop()},
		{"array never built", "never given its state", newPW(4).stackGlobal("numpy.core.multiarray", "_reconstruct").
			tuple(func(p *pw) { p.stackGlobal("numpy", "ndarray") }, vTuple(vInt(0)), vBytes([]byte("b"))).op('R').stop()},
		{"STACK_GLOBAL of ints", "STACK_GLOBAL of int and int: wants two str", newPW(4).op('K', 1, 'K', 2, 0x93).stop()},
	} {
		t.Run(c.name, func(t *testing.T) {
			pe := decodeError(t, c.data)
			msg := pe.Error()
			if !strings.Contains(msg, c.want) || pe.Offset < 0 || pe.Offset >= int64(len(c.data)) {
				t.Errorf("Decode = %q, want %q with an offset", msg, c.want)
			}
			for _, gone := range []string{"interface {", "*pickle.", "[]", "types.", "map["} {
				if strings.Contains(msg, gone) {
					t.Errorf("Decode = %q, names Go's type %q", msg, gone)
				}
			}
		})
	}
	if got := (&Error{Offset: -1, Msg: "x"}).Error(); got != "offset unknown: x" {
		t.Errorf("Error() = %q, want %q", got, "offset unknown: x")
	}
}

// TestNotAPickle: input that is plainly not a pickle says so, naming what
// it starts with, instead of a message about an opcode.
func TestNotAPickle(t *testing.T) {
	for _, c := range []struct{ name, data, want string }{
		{"empty", "", "empty input: not a pickle"},
		{"parquet", "PAR1 this is parquet", `not a pickle: it starts with "PAR1 thi", a Parquet file`},
		{"zip", "PK\x03\x04\x14\x00", "a zip archive"},
		{"gzip", "\x1f\x8b\x08\x00", "a gzip file: decompress it first"},
		{"npy", "\x93NUMPY\x01\x00", "a numpy .npy file"},
		{"P text", "Pandas are not pickles\n", `not a pickle: it starts with "Pandas a"`},
		{"json", `{"a": 1}`, "not a pickle"},
		{"csv", "run_id,loss\n", "not a pickle"},
		{"text", "hello world", "not a pickle"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pe := decodeError(t, []byte(c.data))
			if pe.Offset != 0 || !strings.Contains(pe.Msg, c.want) {
				t.Errorf("Decode(%q) = %v, want %q at byte 0", c.data, pe, c.want)
			}
		})
	}
}
