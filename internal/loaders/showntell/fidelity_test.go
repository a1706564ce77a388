package showntell_test

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// big53 is 2^53+1: the first integer no double holds.
const big53 = int64(1<<53 + 1)

// record is a processed_runs record: run_id, _run_type, then kv.
func record(id string, kv ...any) pyDict {
	d := pyDict{{"run_id", id}, {"_run_type", "simple_ft"}}
	for i := 0; i+1 < len(kv); i += 2 {
		d = append(d, [2]any{kv[i], kv[i+1]})
	}
	return d
}

func le64(n int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(n)) }

// TestShowntellRecordNumbers: a typed column of finetune_runs takes a
// record's value only when it holds it exactly: a seed of 1e30, inf or
// "2.5" leaves seed NULL (never MinInt64) and is named, 2^53+1 as a Python
// int, numpy int64 or digits is kept exactly; text that is not a number
// (lr "auto"), an integer no double holds, a list, a timestamp as text or
// with nanoseconds and steps that are not digits are named too, never
// dropped or rounded quietly. Every value stays in source; a float read
// into a text column reads as Python's str() shows it (1000000.0, not
// 1e+06). --strict refuses the first, naming its key.
func TestShowntellRecordNumbers(t *testing.T) {
	t.Parallel()
	path := writePickle(t, t.TempDir(), "20250101_000000_modernized_run_data.pkl", modernizedPickle(
		record("seed-huge", "seed", 1e30),
		record("seed-inf", "seed", math.Inf(1)),
		record("seed-text-exp", "seed", "1e30"),
		record("seed-half", "seed", "2.5"),
		record("seed-big-int", "seed", big53),
		record("seed-big-text", "seed", "9007199254740993"),
		record("seed-float", "seed", 3.0, "lr", "5e-05"),
		record("seed-np", "seed", npScalar("i8", le64(big53))),
		record("lr-text", "lr", "auto", "lr1", []any{1e-5}),
		record("tokens-int", "num_finetune_tokens", big53, "num_finetune_epochs", 2),
		record("time-text", "timestamp", "2025-01-01", "initial_checkpoint_steps", "6250.0"),
		record("time-ns", "timestamp", pdTimestamp(1757698092000000001)),
		record("floats", "lr", 1e6, "comparison_model_size", 2.0, "seed", 1e16),
	))
	v := loadertest.NewEnv(t)
	s := v.LoadKind("showntell", path, loaders.Options{})
	if s.Rows["finetune_runs"] != 13 {
		t.Fatalf("finetune_runs rows %d, want 13", s.Rows["finetune_runs"])
	}
	for _, c := range []struct{ run, col, want string }{
		{"seed-huge", "seed", "NULL"},
		{"seed-inf", "seed", "NULL"},
		{"seed-text-exp", "seed", "NULL"},
		{"seed-half", "seed", "NULL"},
		{"seed-big-int", "seed", "9007199254740993"},
		{"seed-big-text", "seed", "9007199254740993"},
		{"seed-np", "seed", "9007199254740993"},
		{"seed-float", "seed", "3"},
		{"seed-float", "lr", "5e-05"},
		{"lr-text", "lr", "NULL"},
		{"lr-text", "lr_text", "auto"},
		{"lr-text", "lr1", "NULL"},
		{"tokens-int", "tokens", "NULL"},
		{"tokens-int", "epochs", "2.0"},
		{"time-text", "started_at", "NULL"},
		{"time-text", "checkpoint_step", "NULL"},
		{"time-ns", "started_at", "NULL"},
		{"floats", "lr_text || ' ' || comparison_model_size || ' ' || seed", "1000000.0 2.0 10000000000000000"},
		{"floats", "source", `{"run_id":"floats","_run_type":"simple_ft","lr":1000000.0,"comparison_model_size":2.0,"seed":1e+16}`},
		{"time-ns", "source", `{"run_id":"time-ns","_run_type":"simple_ft","timestamp":"2025-09-12T17:28:12.000000001"}`},
		{"seed-huge", "source", `{"run_id":"seed-huge","_run_type":"simple_ft","seed":1e+30}`},
		{"seed-inf", "source", `{"run_id":"seed-inf","_run_type":"simple_ft","seed":Infinity}`},
		{"tokens-int", "source", `{"run_id":"tokens-int","_run_type":"simple_ft","num_finetune_tokens":9007199254740993,"num_finetune_epochs":2}`},
		{"lr-text", "source", `{"run_id":"lr-text","_run_type":"simple_ft","lr":"auto","lr1":[1e-05]}`},
	} {
		q := "SELECT coalesce(CAST(" + c.col + " AS VARCHAR), 'NULL') FROM finetune_runs WHERE run_id = ?"
		if got := v.Scalar(q, c.run); got != c.want {
			t.Errorf("run %s: %s = %s, want %s", c.run, c.col, got, c.want)
		}
	}
	rep := loadertest.ReportText(s)
	for _, want := range []string{
		"record fields no typed column holds exactly: ",
		"seed-huge: seed 1e+30 is beyond a BIGINT's range",
		"seed-inf: seed +Inf is not a whole number",
		`seed-text-exp: seed text "1e30" is not a whole number a BIGINT holds`,
		`seed-half: seed text "2.5" is not a whole number a BIGINT holds`,
		`lr-text: lr text "auto" is not a number`,
		"lr-text: lr1 a list, not a number",
		"tokens-int: num_finetune_tokens integer 9007199254740993 has no exact double",
		"time-text: timestamp a str, not a time",
		`time-text: initial_checkpoint_steps "6250.0" is neither main nor a step`,
		"time-ns: timestamp 2025-09-12 17:28:12.000000001 has nanoseconds a TIMESTAMP (microseconds) does not hold",
		"those columns are left NULL; finetune_runs.source keeps every value",
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("the summary lacks %q:\n%s", want, rep)
		}
	}
	var n int64
	for _, k := range s.Kept {
		if strings.HasPrefix(k.What, "record fields") {
			n = k.Count
		}
	}
	if n != 10 {
		t.Errorf("kept aside %d record fields, want 10", n)
	}

	w := loadertest.NewEnv(t)
	_, err := w.E.Load(w.Ctx, "showntell", path, loaders.Options{Strict: true})
	var fe *loaders.FileError
	if !errors.As(err, &fe) || fe.Path != path || fe.Place != "processed_runs[0] (run seed-huge), key seed" || !strings.Contains(fe.Msg, "1e+30 is beyond a BIGINT's range") {
		t.Errorf("--strict: %v", err)
	}
	if got := w.Scalar("SELECT (SELECT count(*) FROM dschema_loads) + (SELECT count(*) FROM finetune_runs)"); got != "0" {
		t.Errorf("a refused load left %s rows", got)
	}
}

// TestShowntellRecordValuesKept: a record's numpy arrays, tuples, NaN,
// Infinity, integers beyond a double and text with <, & and > load, and
// finetune_runs.source holds them exactly, keys in the record's order (NaN
// and Infinity as the bare tokens Python's json writes, arrays as nested
// lists of their values, not a Go struct; a datetime with its offset). A value with no JSON form is
// refused, naming the file, the run and the key down to the element.
func TestShowntellRecordValuesKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	nan := math.NaN()
	path := writePickle(t, dir, "20250102_000000_modernized_run_data.pkl", modernizedPickle(record("arrays",
		"lr_curve", npArray("f8", []int{2}, []float64{3.0, nan}),
		"pair", pyTuple{1e-5, nan},
		"ints", npArray("i8", []int{2}, []int64{1, big53}),
		"grid", npArray("f8", []int{2, 2}, []float64{1, 2, 3, math.Inf(1)}),
		"u", npArray("u8", []int{1}, []uint64{math.MaxUint64}),
		"nested", pyDict{{"a", []any{nan, math.Inf(-1)}}, {"b", "<&>"}},
		"two", 2.0,
		"timestamp", pdTimestamp(1757698092000000000),
		"aware", pyReduce{pyGlobal{"datetime", "datetime"}, pyTuple{pyBytes{0x07, 0xe9, 1, 2, 3, 4, 5, 0, 0, 7},
			pyReduce{pyGlobal{"datetime", "timezone"}, pyTuple{pyReduce{pyGlobal{"datetime", "timedelta"}, pyTuple{0, 7200, 0}}}}}},
		"none", nil,
		"seed", nan,
		"lr", "1e-05",
	)))
	v := loadertest.NewEnv(t)
	v.LoadKind("showntell", path, loaders.Options{})
	want := `{"run_id":"arrays","_run_type":"simple_ft","lr_curve":[3.0,NaN],"pair":[1e-05,NaN],"ints":[1,9007199254740993],` +
		`"grid":[[1.0,2.0],[3.0,Infinity]],"u":[18446744073709551615],"nested":{"a":[NaN,-Infinity],"b":"<&>"},"two":2.0,` +
		`"timestamp":"2025-09-12T17:28:12","aware":"2025-01-02T03:04:05.000007+02:00","none":null,"seed":NaN,"lr":"1e-05"}`
	if got := v.Scalar("SELECT CAST(source AS VARCHAR) FROM finetune_runs WHERE run_id = 'arrays'"); got != want {
		t.Errorf("source = %s\nwant     %s", got, want)
	}
	for q, want := range map[string]string{
		"SELECT json_type(source, '$.lr_curve[1]') FROM finetune_runs":                                           "DOUBLE",
		"SELECT isnan(CAST(source->'$.pair[1]' AS DOUBLE)) FROM finetune_runs":                                   "true",
		"SELECT seed IS NULL AND lr = 1e-05 AND started_at = TIMESTAMP '2025-09-12 17:28:12' FROM finetune_runs": "true",
	} {
		if got := v.Scalar(q); got != want {
			t.Errorf("%s = %s, want %s", q, got, want)
		}
	}

	for _, c := range []struct {
		name  string
		rec   pyDict
		place string
		msg   string
	}{
		{"bytes", record("bad", "blob", pyBytes("\x00\xff")), "processed_runs[0] (run bad), key blob", "a bytes has no JSON form"},
		{"bytes deep", record("bad", "nested", pyDict{{"k", []any{1, pyTuple{2, pyBytes("x")}}}}), `processed_runs[0] (run bad), key nested["k"][1][1]`, "a bytes has no JSON form"},
		{"dict key", record("bad", "d", pyDict{{pyTuple{1, 2}, 3}}), "processed_runs[0] (run bad), key d", "a dict key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := writePickle(t, dir, "20250103_000000_"+strings.ReplaceAll(c.name, " ", "_")+"_modernized_run_data.pkl", modernizedPickle(c.rec))
			_, err := v.E.Load(v.Ctx, "showntell", p, loaders.Options{})
			var fe *loaders.FileError
			if !errors.As(err, &fe) || fe.Path != p || fe.Place != c.place || !strings.Contains(fe.Msg, c.msg) {
				t.Errorf("Load = %v, want %s: %s", err, c.place, c.msg)
			}
			if got := v.Scalar("SELECT count(*) FROM finetune_runs WHERE run_id = 'bad'"); got != "0" {
				t.Errorf("a refused load wrote %s rows", got)
			}
		})
	}
}

// matchedFrame is a matched frame of runs m0, m1, m2 with the given
// columns after run_id, over index (nil: RangeIndex).
func matchedFrame(index any, cols ...frameColumn) any {
	if index == nil {
		index = pdRangeIndex(3)
	}
	return pdFrame(index, append([]frameColumn{{"run_id", "O8", []any{"m0", "m1", "m2"}}}, cols...)...)
}

// TestShowntellMatchedExact: a matched frame's integers are kept exactly
// (matched_group_id 2^53+1 in finetune_matched_runs; int64 and uint64
// columns, 2^64-1 included, in value_int, and in value only where a double
// holds them; uint8 is a number, not text), tuples and numpy arrays with
// NaN are curves, a list that is not all numbers keeps NaN in points_json,
// and the index labels are kept. What a typed column cannot hold exactly
// (a group id of 1e20, 1.5 or inf, a uint64 beyond BIGINT, an int64 no
// double holds in a DOUBLE column, a timestamp with nanoseconds, bytes) is
// refused, naming the file, the
// row, the run and the column, and nothing is written.
func TestShowntellMatchedExact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	nan := math.NaN()
	path := writePickle(t, dir, "combined_plotting_data_matched.pkl", matchedFrame(
		pdIndex(npArray("i8", []int{3}, []int64{10, 20, 30}), "run"),
		frameColumn{"matched_group_id", "i8", []int64{big53, 1, 2}},
		frameColumn{"pt_step", "i8", []int64{big53, 1, -5}},
		frameColumn{"pt_tokens", "u8", []uint64{math.MaxUint64, 0, 5}},
		frameColumn{"late_u8", "u1", []uint64{255, 0, 1}},
		frameColumn{"ft_loss_list", "O8", []any{pyTuple{1.0, nan}, npArray("f8", []int{2}, []float64{2.0, nan}), []any{1, "x", nan}}},
		frameColumn{"pt_curve", "O8", []any{npArray("i8", []int{2}, []int64{1, big53}), []any{}, nil}},
	))
	v := loadertest.NewEnv(t)
	s := v.LoadKind("showntell", path, loaders.Options{})
	if s.Rows["finetune_matched_runs"] != 3 || s.Rows["finetune_matched_values"] != 9 || s.Rows["finetune_matched_curves"] != 6 {
		t.Fatalf("rows %v", s.Rows)
	}
	for _, c := range []struct{ q, run, want string }{
		{"SELECT matched_group_id FROM finetune_matched_runs WHERE run_id = ?", "m0", "9007199254740993"},
		{"SELECT CAST(index_label AS VARCHAR) FROM finetune_matched_runs WHERE run_id = ?", "m0", "10"},
		{"SELECT CAST(index_label AS VARCHAR) || ' ' || row_index FROM finetune_matched_runs WHERE run_id = ?", "m2", "30 2"},
		{"SELECT count(*) FROM finetune_matched_runs WHERE other_text IS NOT NULL AND run_id LIKE ?", "m_", "0"},
		{"SELECT coalesce(CAST(value AS VARCHAR), 'NULL') || ' ' || value_int FROM finetune_matched_values WHERE name = 'pt_step' AND run_id = ?", "m0", "NULL 9007199254740993"},
		{"SELECT coalesce(CAST(value AS VARCHAR), 'NULL') || ' ' || value_int FROM finetune_matched_values WHERE name = 'pt_step' AND run_id = ?", "m2", "-5.0 -5"},
		{"SELECT coalesce(CAST(value AS VARCHAR), 'NULL') || ' ' || value_int FROM finetune_matched_values WHERE name = 'pt_tokens' AND run_id = ?", "m0", "NULL 18446744073709551615"},
		{"SELECT coalesce(CAST(value AS VARCHAR), 'NULL') || ' ' || value_int FROM finetune_matched_values WHERE name = 'pt_tokens' AND run_id = ?", "m2", "5.0 5"},
		{"SELECT CAST(value AS VARCHAR) || ' ' || value_int || ' ' || family FROM finetune_matched_values WHERE name = 'late_u8' AND run_id = ?", "m0", "255.0 255 other"},
		{"SELECT CAST(points AS VARCHAR) FROM finetune_matched_curves WHERE name = 'ft_loss_list' AND run_id = ?", "m0", "[1.0, nan]"},
		{"SELECT CAST(points AS VARCHAR) FROM finetune_matched_curves WHERE name = 'ft_loss_list' AND run_id = ?", "m1", "[2.0, nan]"},
		{"SELECT coalesce(CAST(points AS VARCHAR), 'NULL') || ' ' || CAST(points_json AS VARCHAR) FROM finetune_matched_curves WHERE name = 'ft_loss_list' AND run_id = ?", "m2", `NULL [1,"x",NaN]`},
		{"SELECT CAST(points_json AS VARCHAR) FROM finetune_matched_curves WHERE name = 'pt_curve' AND run_id = ?", "m0", "[1,9007199254740993]"},
		{"SELECT CAST(points AS VARCHAR) FROM finetune_matched_curves WHERE name = 'pt_curve' AND run_id = ?", "m1", "[]"},
		{"SELECT CAST(points_json AS VARCHAR) FROM finetune_matched_curves WHERE name = 'pt_curve' AND run_id = ?", "m2", "null"},
	} {
		if got := v.Scalar(c.q, c.run); got != c.want {
			t.Errorf("%s [%s] = %s, want %s", c.q, c.run, got, c.want)
		}
	}
	rep := loadertest.ReportText(s)
	for _, want := range []string{"index: Index named run, labels 10 … 30", "list-valued cells that were not lists, kept as curves like lists: 1 tuple, 2 numpy array"} {
		if !strings.Contains(rep, want) {
			t.Errorf("the summary lacks %q:\n%s", want, rep)
		}
	}
	// The lab's frame: a RangeIndex, each label the row's position.
	v.LoadKind("showntell", "../../fixtures/pickles/combined_plotting_data_matched.pkl", loaders.Options{})
	if got := v.Scalar("SELECT string_agg(CAST(index_label AS VARCHAR) || '=' || row_index, ' ' ORDER BY row_index) FROM finetune_matched_runs WHERE run_id NOT LIKE 'm_'"); got != "0=0 1=1 2=2" {
		t.Errorf("RangeIndex labels: %s", got)
	}

	loads := v.Scalar("SELECT count(*) FROM dschema_loads")
	for _, c := range []struct {
		name  string
		cols  []frameColumn
		place string
		msg   string
	}{
		{"group id 1e20", []frameColumn{{"matched_group_id", "f8", []float64{1e20, 1, 2}}}, "row 0 (run m0), column matched_group_id", "1e+20 is beyond a BIGINT's range"},
		{"group id 1.5", []frameColumn{{"matched_group_id", "f8", []float64{1, 1.5, 2}}}, "row 1 (run m1), column matched_group_id", "1.5 is not a whole number"},
		{"group id inf", []frameColumn{{"matched_group_id", "f8", []float64{1, 2, math.Inf(-1)}}}, "row 2 (run m2), column matched_group_id", "-Inf is not a whole number"},
		{"group id uint64", []frameColumn{{"matched_group_id", "u8", []uint64{1 << 63, 1, 2}}}, "row 0 (run m0), column matched_group_id", "integer 9223372036854775808 is beyond a BIGINT's range"},
		{"ft_tok int64", []frameColumn{{"ft_tok", "i8", []int64{big53, 1, 2}}}, "row 0 (run m0), column ft_tok", "integer 9007199254740993 has no exact double"},
		{"bytes cell", []frameColumn{{"note", "O8", []any{"x", pyBytes("\x00"), "y"}}}, "row 1 (run m1), column note", "a bytes has no JSON form"},
		{"bytes in a list", []frameColumn{{"ft_loss_list", "O8", []any{[]any{1.0, pyBytes("a")}, []any{}, []any{}}}}, "row 0 (run m0), column ft_loss_list[1]", "a bytes has no JSON form"},
		{"bytes label", []frameColumn{{"pt_step", "f8", []float64{1, 2, 3}}}, "row 0 (run m0), index label", "a bytes has no JSON form"},
		{"timestamp ns", []frameColumn{{"timestamp", "M8", []int64{1757698092000000000, 1757698092000000001, math.MinInt64}}}, "row 1 (run m1), column timestamp", "2025-09-12 17:28:12.000000001 has nanoseconds a TIMESTAMP (microseconds) does not hold"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var index any
			if c.name == "bytes label" {
				index = pdIndex(npArray("O8", []int{3}, []any{pyBytes("a"), "b", "c"}), nil)
			}
			p := writePickle(t, t.TempDir(), "combined_plotting_data_matched.pkl", matchedFrame(index, c.cols...))
			_, err := v.E.Load(v.Ctx, "showntell", p, loaders.Options{})
			var fe *loaders.FileError
			if !errors.As(err, &fe) || fe.Path != p || fe.Place != c.place || !strings.Contains(fe.Msg, c.msg) {
				t.Errorf("Load = %v, want %s: %s", err, c.place, c.msg)
			}
			if got := v.Scalar("SELECT count(*) FROM dschema_loads"); got != loads {
				t.Errorf("%s loads after a refused load, want %s", got, loads)
			}
		})
	}
}
