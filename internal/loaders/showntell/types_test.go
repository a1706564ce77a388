package showntell_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/loaders/loadertest"
)

// nat is numpy's NaT in a datetime64 or timedelta64 array.
const nat = math.MinInt64

// TestShowntellDurations: a timedelta (datetime.timedelta, a timedelta64
// array, a pandas timedelta column or TimedeltaIndex) is kept exactly as
// the text pandas writes for it ("1 days 00:00:01", "-1 days
// +23:59:59.999999", nanoseconds when there are any), in source, in
// other_text, in an index label and in a text column, never refused or
// shown as Go writes a duration; NaT is null. A datetime64 array keeps
// every element exactly, in any unit: one past 2262 in microseconds is a
// time, not null.
func TestShowntellDurations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	day := int64(86400e9)
	path := writePickle(t, dir, "20250106_000000_modernized_run_data.pkl", modernizedPickle(record("durations",
		"elapsed", pyReduce{pyGlobal{"datetime", "timedelta"}, pyTuple{1, 1, 0}},
		"walls", npArray("m8", []int{5}, []int64{math.MaxInt64, math.MinInt64 + 1, 1, -1000, nat}),
		"hours", npArray("m8[h]", []int{2}, []int64{-25, 3}),
		"when", npArray("M8[us]", []int{3}, []int64{253402300799999999, -1, nat}),
		"months", npArray("M8[M]", []int{1}, []int64{-1}),
	)))
	v := loadertest.NewEnv(t)
	v.LoadKind("showntell", path, loaders.Options{})
	want := `{"run_id":"durations","_run_type":"simple_ft","elapsed":"1 days 00:00:01",` +
		`"walls":["106751 days 23:47:16.854775807","-106752 days +00:12:43.145224193","0 days 00:00:00.000000001","-1 days +23:59:59.999999",null],` +
		`"hours":["-2 days +23:00:00","0 days 03:00:00"],"when":["9999-12-31T23:59:59.999999","1969-12-31T23:59:59.999999",null],"months":["1969-12-01T00:00:00"]}`
	if got := v.Scalar("SELECT CAST(source AS VARCHAR) FROM finetune_runs WHERE run_id = 'durations'"); got != want {
		t.Errorf("source = %s\nwant     %s", got, want)
	}

	// A time the decoder cannot give exactly is refused, named down to
	// the element, never written as null.
	far := writePickle(t, dir, "20250107_000000_modernized_run_data.pkl", modernizedPickle(record("bad",
		"far", npArray("M8[s]", []int{2}, []int64{0, 1<<62 + 1}))))
	_, err := v.E.Load(v.Ctx, "showntell", far, loaders.Options{})
	var fe *loaders.FileError
	if !errors.As(err, &fe) || fe.Place != "processed_runs[0] (run bad), key far[1]" || !strings.Contains(fe.Msg, "datetime64 4611686018427387905[s] is beyond") {
		t.Errorf("Load(far) = %v", err)
	}

	mpath := writePickle(t, dir, "combined_plotting_data_matched.pkl", matchedFrame(
		pdIndex(npArray("m8", []int{3}, []int64{1e9, -1000, nat}), "after"),
		frameColumn{"seed", "m8", []int64{1e9, -1000, nat}},
		frameColumn{"ft_wall", "m8", []int64{day + 1e9, 1, nat}},
	))
	s := v.LoadKind("showntell", mpath, loaders.Options{})
	for _, c := range []struct{ q, run, want string }{
		{"SELECT CAST(index_label AS VARCHAR) FROM finetune_matched_runs WHERE run_id = ?", "m0", `"0 days 00:00:01"`},
		{"SELECT CAST(index_label AS VARCHAR) FROM finetune_matched_runs WHERE run_id = ?", "m2", "null"},
		{"SELECT seed FROM finetune_matched_runs WHERE run_id = ?", "m1", "-1 days +23:59:59.999999"},
		{"SELECT coalesce(seed, 'NULL') FROM finetune_matched_runs WHERE run_id = ?", "m2", "NULL"},
		{"SELECT CAST(other_text AS VARCHAR) FROM finetune_matched_runs WHERE run_id = ?", "m0", `{"ft_wall":"1 days 00:00:01"}`},
		{"SELECT CAST(other_text AS VARCHAR) FROM finetune_matched_runs WHERE run_id = ?", "m1", `{"ft_wall":"0 days 00:00:00.000000001"}`},
		{"SELECT CAST(other_text AS VARCHAR) FROM finetune_matched_runs WHERE run_id = ?", "m2", `{"ft_wall":null}`},
	} {
		if got := v.Scalar(c.q, c.run); got != c.want {
			t.Errorf("%s [%s] = %s, want %s", c.q, c.run, got, c.want)
		}
	}
	if rep := loadertest.ReportText(s); !strings.Contains(rep, "index: Index named after, labels 0 days 00:00:01 … NaT") {
		t.Errorf("the summary lacks the index:\n%s", rep)
	}
}

// TestShowntellAwareTimes: an aware datetime or Timestamp keeps its zone.
// source holds it with its UTC offset (to the second for local mean time,
// +00:09:21); a naive TIMESTAMP column (started_at, the matched
// timestamp) does not take it, since it would drop the zone: a record's
// is kept aside and named, a matched frame's refused with its row and
// column. Records and frames are compared by the time as Python writes
// it, fraction and offset included, and a text column shows it so.
func TestShowntellAwareTimes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plus2, lmt := pyTimezone(7200), pyTimezone(561)
	aware := pyDatetime(2025, 7, 1, 12, 0, 0, 0, plus2)
	path := writePickle(t, dir, "20250108_000000_modernized_run_data.pkl", pyDict{
		{"processed_runs", []any{
			record("aware", "timestamp", aware),
			record("paris", "timestamp", pdTimestampTZ(1751364000e9, "Europe/Paris")),
			record("lmt", "timestamp", pyDatetime(1900, 1, 1, 0, 0, 0, 0, lmt)),
			record("naive", "timestamp", pyDatetime(2025, 1, 2, 3, 4, 5, 7, nil)),
		}},
		{"grouped_data", pyDict{}},
		{"processed_dataframes", pyDict{{"simple_ft", pdFrame(pdRangeIndex(2),
			frameColumn{"run_id", "O8", []any{"aware", "naive"}},
			frameColumn{"timestamp", "O8", []any{pyDatetime(2025, 7, 1, 12, 0, 0, 0, nil), pyDatetime(2025, 1, 2, 3, 4, 5, 0, nil)}},
		)}}},
		{"metadata", pyDict{}},
	})
	v := loadertest.NewEnv(t)
	s := v.LoadKind("showntell", path, loaders.Options{})
	for _, c := range []struct{ run, col, want string }{
		{"aware", "started_at", "NULL"},
		{"aware", "source->>'$.timestamp'", "2025-07-01T12:00:00+02:00"},
		{"paris", "started_at", "NULL"},
		{"paris", "source->>'$.timestamp'", "2025-07-01T12:00:00+02:00"},
		{"lmt", "source->>'$.timestamp'", "1900-01-01T00:00:00+00:09:21"},
		{"naive", "started_at", "2025-01-02 03:04:05.000007"},
	} {
		q := "SELECT coalesce(CAST(" + c.col + " AS VARCHAR), 'NULL') FROM finetune_runs WHERE run_id = ?"
		if got := v.Scalar(q, c.run); got != c.want {
			t.Errorf("run %s: %s = %s, want %s", c.run, c.col, got, c.want)
		}
	}
	rep := loadertest.ReportText(s)
	for _, want := range []string{
		"aware: timestamp 2025-07-01 12:00:00+02:00 is aware (UTC+02:00), and a naive TIMESTAMP would drop its zone",
		"paris: timestamp 2025-07-01 12:00:00+02:00 is aware (Europe/Paris)",
		"lmt: timestamp 1900-01-01 00:00:00+00:09:21 is aware (UTC+00:09:21)",
		"aware: timestamp records 2025-07-01 12:00:00+02:00, frames 2025-07-01 12:00:00",
		"naive: timestamp records 2025-01-02 03:04:05.000007, frames 2025-01-02 03:04:05",
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("the summary lacks %q:\n%s", want, rep)
		}
	}

	mpath := writePickle(t, dir, "combined_plotting_data_matched.pkl", matchedFrame(nil,
		frameColumn{"ckpt_data", "M8", []int64{1735787045000000000, 1735787045000007000, nat}},
		frameColumn{"pt_when", "O8", []any{aware, nil, pyDatetime(2025, 1, 2, 3, 4, 5, 0, nil)}},
	))
	v.LoadKind("showntell", mpath, loaders.Options{})
	for _, c := range []struct{ q, run, want string }{
		{"SELECT ckpt_data FROM finetune_matched_runs WHERE run_id = ?", "m0", "2025-01-02 03:04:05"},
		{"SELECT ckpt_data FROM finetune_matched_runs WHERE run_id = ?", "m1", "2025-01-02 03:04:05.000007"},
		{"SELECT CAST(other_text AS VARCHAR) FROM finetune_matched_runs WHERE run_id = ?", "m0", `{"pt_when":"2025-07-01T12:00:00+02:00"}`},
		{"SELECT CAST(other_text AS VARCHAR) FROM finetune_matched_runs WHERE run_id = ?", "m2", `{"pt_when":"2025-01-02T03:04:05"}`},
	} {
		if got := v.Scalar(c.q, c.run); got != c.want {
			t.Errorf("%s [%s] = %s, want %s", c.q, c.run, got, c.want)
		}
	}
	bad := writePickle(t, t.TempDir(), "combined_plotting_data_matched.pkl", matchedFrame(nil,
		frameColumn{"timestamp", "O8", []any{nil, aware, nil}}))
	_, err := v.E.Load(v.Ctx, "showntell", bad, loaders.Options{})
	var fe *loaders.FileError
	if !errors.As(err, &fe) || fe.Place != "row 1 (run m1), column timestamp" || fe.Msg != "2025-07-01 12:00:00+02:00 is aware (UTC+02:00), and a naive TIMESTAMP would drop its zone" {
		t.Errorf("Load(aware timestamp) = %v", err)
	}
}
