package wandb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/labtest"
	"github.com/dschema/dschema/internal/loaders"
)

// The Go reader of history JSON lines is checked against the SQL it
// replaces: for every file it takes, it must write the rows the SQL writes,
// value for value (seq included), but for the two differences it makes on
// purpose (numbers too small for a double, and numbers as written inside
// extra's values), which the corpus below leaves out and TestHistoryGoKeeps
// covers.

var (
	diffDBOnce sync.Once
	diffDB     *sql.DB
	diffDBErr  error
)

// diffConn is a connection to one migrated database shared by the
// differential tests (each works in its own temp tables, in a transaction
// it rolls back).
func diffConn(t testing.TB) *sql.Conn {
	diffDBOnce.Do(func() {
		path := labtest.MigratedDB(t)
		diffDB, diffDBErr = dbfile.Open(context.Background(), path)
	})
	if diffDBErr != nil {
		t.Fatal(diffDBErr)
	}
	conn, err := diffDB.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// bothWays reads a history file with the Go reader and with the SQL into
// two temp tables and returns each one's rows as text, ordered by run and
// seq; took is false when the Go reader left the file to the SQL (then
// goRows is empty). sqlErr is the SQL's error, if it refused the file.
func bothWays(t testing.TB, conn *sql.Conn, path string) (goRows, sqlRows []string, took bool, sqlErr error) {
	t.Helper()
	ctx := context.Background()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK")
	h, err := detectHistory(ctx, conn, path, "")
	if err != nil {
		t.Fatalf("detect: %v", err)
	}
	if !goReads(h) {
		t.Fatalf("the Go reader does not take %s", h.variant)
	}
	metrics, err := historyMetrics()
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range []string{"_go", "_sql"} {
		if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE "+tb+" AS SELECT * FROM wandb_history LIMIT 0"); err != nil {
			t.Fatal(err)
		}
	}
	rows := func(tb string) []string {
		out, err := queryStrings(conn, fmt.Sprintf("SELECT CAST(COLUMNS(*) AS VARCHAR) FROM %s ORDER BY run_id, seq", tb))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	_, took, err = appendHistoryJSONL(ctx, conn, h, path, "_go", metrics, 0, nil)
	if err != nil {
		t.Fatalf("Go reader: %v", err)
	}
	goRows = rows("_go")
	cols, sel := historySelect(h, metrics, 0)
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO _sql (%s) %s", strings.Join(cols, ", "), sel)); err != nil {
		return goRows, nil, took, err // the transaction is aborted: nothing more to read
	}
	return goRows, rows("_sql"), took, nil
}

// queryStrings is every row of q as the text of its columns joined by |,
// NULL as ∅.
func queryStrings(conn *sql.Conn, q string) ([]string, error) {
	rs, err := conn.QueryContext(context.Background(), q)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			parts[i] = "∅"
			if v.Valid {
				parts[i] = v.String
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out, rs.Err()
}

// line is one v3 history row.
func line(run, step, ts, rt, meta, metrics, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"run_id": %s`, run)
	for _, kv := range [][2]string{{"step", step}, {"timestamp", ts}, {"runtime", rt}, {"wandb_metadata", meta}, {"metrics", metrics}, {"extra", extra}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, `, "%s": %s`, kv[0], kv[1])
		}
	}
	return b.String() + "}\n"
}

// historyCorpus is lines the Go reader takes, one file per case; the
// values are written as DuckDB renders them, so that both ways give the
// same text.
var historyCorpus = map[string]string{
	"typed and other numbers": line(`"r"`, "0", `"1755581965.2730658"`, "1", "null",
		`{"learning_rate": 5e-06, "train_loss": 3e-05, "total_tokens": 4096, "other": 123.456, "neg": -7, "z": -0.0, "nan": NaN, "inf": Infinity, "ninf": -Infinity}`, "{}"),
	"integers at a double's edge": line(`"r"`, "1", "1.5", "2", "null",
		`{"a": 9007199254740992, "b": 9007199254740993, "c": -9007199254740993, "d": 18446744073709551616, "e": 170141183460469231731687303715884105727, "f": 170141183460469231731687303715884105728, "g": -170141183460469231731687303715884105728, "h": 123456789012345678901234, "i": 1000000000000000000000}`, "{}"),
	"beyond a double": line(`"r"`, "2", "2.5", "3", "null", `{"grad": 1e400, "ngrad": -1e400, "per_device_tps": 1e400}`, "{}"),
	"typed keys holding other things": line(`"r"`, "3", "3.5", "4", "null",
		`{"learning_rate": "n/a", "train_loss": null, "epoch": {"a": 1}, "total_tokens": [1, 2], "per_device_tps": true, "x": "text", "y": null, "z": false}`, "{}"),
	"extra and metadata": line(`"r"`, "4", "4.5", "5", `{"runtime": 25, "t": "x"}`, `{"a": 1, "s": "two"}`, `{"_custom": 1, "k": {"n": [1, "b", null]}, "n": null}`),
	"escapes in keys and text": line(`"r\"q"`, "5", "5.5", "6", "null",
		`{"q\"k": 2, "t\\ab": "tab\there", "uni": "é ü 漢", "esc": "\u00e9\n\r\b\f\u0001\u001f\u007f", "<&>": "<&>", "slash": "a\/b", "ctl\n": 1}`, `{"k\"e": "v\\w"}`),
	"empty objects": line(`"r"`, "6", "6.5", "7", "{}", "{}", "{}"),
	"keys missing":  `{"run_id": "m", "metrics": {"a": 1}}` + "\n",
	"nulls":         line(`"n"`, "null", "null", "null", "null", `{"a": 1}`, "null"),
	"steps": line(`"s"`, "2.0", "1", "1", "null", "{}", "{}") + line(`"s"`, "NaN", "2", "2", "null", "{}", "{}") +
		line(`"s"`, "-0.0", "3", "3", "null", "{}", "{}") + line(`"s"`, "9007199254740992", "4", "4", "null", "{}", "{}") +
		line(`"s"`, "-9007199254740992", "5", "5", "null", "{}", "{}") + line(`"s"`, "1e3", "6", "6", "null", "{}", "{}"),
	"timestamps": line(`"t"`, "0", `"0"`, "1", "null", "{}", "{}") + line(`"t"`, "1", "-1.5", "1", "null", "{}", "{}") +
		line(`"t"`, "2", `"1.7e9"`, "1", "null", "{}", "{}") + line(`"t"`, "3", "1755581965", "1", "null", "{}", "{}") +
		line(`"t"`, "4", `"0.0000005"`, "1", "null", "{}", "{}") + line(`"t"`, "5", `"0.0000015"`, "1", "null", "{}", "{}") +
		line(`"t"`, "6", `"99999999999.999999"`, "1", "null", "{}", "{}") + line(`"t"`, "7", `"-99999999999"`, "1", "null", "{}", "{}") +
		line(`"t"`, "8", "1E2", "1", "null", "{}", "{}") + line(`"t"`, "9", `"12.0000005"`, "1", "null", "{}", "{}"),
	"runtimes": line(`"u"`, "0", "1", "NaN", "null", "{}", "{}") + line(`"u"`, "2", "3", "Infinity", "null", "{}", "{}") + line(`"u"`, "3", "4", "1e-300", "null", "{}", "{}") +
		line(`"u"`, "4", "5", "123456789", "null", "{}", "{}"),
	// seq: runs interleaved, in order, out of order, tied, with NULLs.
	"interleaved runs": line(`"a"`, "0", "1", "0", "null", "{}", "{}") + line(`"b"`, "0", "1", "0", "null", "{}", "{}") +
		line(`"a"`, "1", "2", "1", "null", "{}", "{}") + line(`"b"`, "1", "0.5", "1", "null", "{}", "{}") +
		line(`"a"`, "2", "2", "0.5", "null", "{}", "{}") + line(`"b"`, "2", "0.5", "0", "null", "{}", "{}"),
	"out of order": line(`"o"`, "3", "3", "3", "null", `{"v": 3}`, "{}") + line(`"o"`, "1", "1", "1", "null", `{"v": 1}`, "{}") +
		line(`"o"`, "2", "2", "2", "null", `{"v": 2}`, "{}") + line(`"o"`, "0", "2", "2", "null", `{"v": 0}`, "{}"),
	"many keys": line(`"m"`, "0", "1", "1", "null", `{"k0": 0, "k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "k7": 7, "k8": 8, "k9": 9, "k10": 10, "k11": 11, "k12": 12, "k13": 13, "k14": 14, "k15": 15, "k16": 16, "k17": "x", "k18": 18, "learning_rate": 1}`,
		`{"e0": 0, "e1": 1, "e2": 2, "e3": 3, "e4": 4, "e5": 5, "e6": 6, "e7": 7, "e8": 8, "e9": 9, "e10": 10, "e11": 11, "e12": 12, "e13": 13, "e14": 14, "e15": 15, "e16": 16, "e17": 17}`),
	"out of order, runtime -0.0": line(`"z"`, "2", "2", "-0.0", "null", `{"v": 2}`, "{}") + line(`"z"`, "1", "1", "-0.0", "null", `{"v": 1}`, "{}") +
		line(`"z"`, "3", "3", "0.0", "null", `{"v": 3}`, "{}"),
	"ties": line(`"t"`, "5", `"9.5"`, "1", "null", `{"v": 2}`, "{}") + line(`"t"`, "5", `"9.5"`, "1", "null", `{"v": 1}`, "{}") +
		line(`"t"`, "5", `"9.5"`, "1", "null", `{"v": 3}`, "{}") + line(`"u"`, "1", "1", "1", "null", `{"v": 1}`, "{}"),
	"NULLs in the order": line(`"n"`, "1", "null", "1", "null", `{"v": 1}`, "{}") + line(`"n"`, "null", "1", "1", "null", `{"v": 2}`, "{}") +
		line(`"n"`, "0", "1", "null", "null", `{"v": 3}`, "{}") + line(`"n"`, "0", "1", "NaN", "null", `{"v": 4}`, "{}") +
		line(`"n"`, "0", "1", "-0.0", "null", `{"v": 5}`, "{}") + line(`"n"`, "0", "1", "0", "null", `{"v": 6}`, "{}"),
	"blank lines": "\n" + line(`"b"`, "0", "1", "1", "null", "{}", "{}") + "\n   \n" + line(`"b"`, "1", "2", "2", "null", "{}", "{}"),
}

// goFile writes data to a file named name, begins a transaction on conn
// that the test's end rolls back, makes the empty table _t of
// wandb_history's columns, and reads the file's layout.
func goFile(t *testing.T, conn *sql.Conn, name, data string) (p string, h *histSource, metrics []historyMetric) {
	t.Helper()
	ctx := context.Background()
	p = filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.ExecContext(ctx, "ROLLBACK") })
	if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE _t AS SELECT * FROM wandb_history LIMIT 0"); err != nil {
		t.Fatal(err)
	}
	h, err := detectHistory(ctx, conn, p, "")
	if err != nil {
		t.Fatal(err)
	}
	if metrics, err = historyMetrics(); err != nil {
		t.Fatal(err)
	}
	return p, h, metrics
}

// TestHistoryGoReaderAgrees: on every corpus file the Go reader takes the
// file and writes the SQL's rows.
func TestHistoryGoReaderAgrees(t *testing.T) {
	conn := diffConn(t)
	dir := t.TempDir()
	for name, data := range historyCorpus {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".jsonl")
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			goRows, sqlRows, took, sqlErr := bothWays(t, conn, p)
			if sqlErr != nil {
				t.Fatalf("the SQL refuses the file: %v", sqlErr)
			}
			if !took {
				t.Fatalf("the Go reader left the file to the SQL")
			}
			if strings.Join(goRows, "\n") != strings.Join(sqlRows, "\n") {
				t.Errorf("Go:\n%s\nSQL:\n%s", strings.Join(goRows, "\n"), strings.Join(sqlRows, "\n"))
			}
		})
	}
}

// randomLine is a row from a seeded mix of the corpus's values.
func randomLine(r *rand.Rand) string {
	pick := func(s ...string) string { return s[r.Intn(len(s))] }
	num := func() string {
		return pick("0", "1", "-1", "1.5", "5e-06", "3e-05", "-0.0", "NaN", "Infinity", "-Infinity", "123456789012345678901234",
			"9007199254740993", "1e400", "0.1", "2.5e-300", "1e22", "1e23", "4.9e-324", "17", "-123.25")
	}
	val := func() string {
		return pick(num(), num(), `"s"`, "null", "true", `{"k": 1}`, "[1, 2]", `"1.5"`, "{}", "[]")
	}
	var m []string
	keys := []string{"learning_rate", "train_loss", "epoch", "logps/chosen", "a", "b", "c", "eval/loss"}
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	for _, k := range keys[:r.Intn(len(keys))] {
		m = append(m, fmt.Sprintf("%q: %s", k, val()))
	}
	// extra's values keep numbers as written, where DuckDB renders them
	// (3e-05 as 0.00003): there, only numbers it writes as they are.
	valX := func() string {
		return pick("0", "1", "-1", "1.5", "NaN", "Infinity", "-Infinity", "123456789012345678901234", "9007199254740993", "1e22", "17", "-123.25",
			`"s"`, "null", "true", `{"k": 1}`, "[1, 2]", `"1.5"`, "{}", "[]")
	}
	var x []string
	for _, k := range []string{"_x", "_y"}[:r.Intn(3)] {
		x = append(x, fmt.Sprintf("%q: %s", k, valX()))
	}
	return line(pick(`"a"`, `"b"`, `"c"`), pick("0", "1", "2", "3", "null", "NaN", "4.0"), pick("1", "2", `"3"`, "1.25", "null", `"2.0"`),
		pick("0", "1", "2", "NaN", "null"), pick("null", "{}", `{"runtime": 1}`), "{"+strings.Join(m, ", ")+"}", "{"+strings.Join(x, ", ")+"}")
}

// TestHistoryGoReaderAgreesRandom: seeded files of rows mixing the
// corpus's values, in and out of order, tied and not.
func TestHistoryGoReaderAgreesRandom(t *testing.T) {
	conn := diffConn(t)
	dir := t.TempDir()
	r := rand.New(rand.NewSource(18))
	compared := 0
	defer func() {
		if compared < 30 {
			t.Errorf("only %d of 40 files compared", compared)
		}
	}()
	for i := range 40 {
		var b strings.Builder
		for range 1 + r.Intn(12) {
			b.WriteString(randomLine(r))
		}
		data := b.String()
		p := filepath.Join(dir, fmt.Sprintf("r%d.jsonl", i))
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		goRows, sqlRows, took, sqlErr := bothWays(t, conn, p)
		if sqlErr != nil && took {
			t.Errorf("file %d: the SQL refuses it (%v), the Go reader took it:\n%s", i, sqlErr, data)
		}
		if sqlErr != nil || !took {
			continue // refused by the SQL, or left to it: nothing to compare
		}
		compared++
		if strings.Join(goRows, "\n") != strings.Join(sqlRows, "\n") {
			t.Errorf("file %d:\n%s\nGo:\n%s\nSQL:\n%s", i, data, strings.Join(goRows, "\n"), strings.Join(sqlRows, "\n"))
		}
	}
}

// TestHistoryGoReaderAgreesLarge: one file of many chunks, read by both
// parsers and numbered across chunks: runs interleaved, some out of
// order, some tied.
func TestHistoryGoReaderAgreesLarge(t *testing.T) {
	conn := diffConn(t)
	r := rand.New(rand.NewSource(7))
	var b strings.Builder
	n := 3*histChunkLines + 17
	for i := range n {
		b.WriteString(line(fmt.Sprintf(`"run%d"`, i%7), fmt.Sprint(i/7), fmt.Sprintf(`"%d.5"`, 1000+i/7-(i%5)*(i%7%2)), fmt.Sprint(i%3),
			`{"runtime": 1}`, fmt.Sprintf(`{"learning_rate": %d.25, "eval/loss": %g, "s": "x"}`, i, r.Float64()), "{}"))
	}
	p := filepath.Join(t.TempDir(), "large.jsonl")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	goRows, sqlRows, took, sqlErr := bothWays(t, conn, p)
	if sqlErr != nil || !took {
		t.Fatalf("took %v, the SQL's error %v", took, sqlErr)
	}
	if len(goRows) != n {
		t.Fatalf("%d rows, want %d", len(goRows), n)
	}
	for i := range goRows {
		if goRows[i] != sqlRows[i] {
			t.Fatalf("row %d:\nGo:  %s\nSQL: %s", i, goRows[i], sqlRows[i])
		}
	}
}

// TestHistoryGoKeepsNumbersAsWritten: the one difference on purpose. In
// extra, the Go reader keeps numbers as written; the SQL writes DuckDB's
// rendering of the double it read.
func TestHistoryGoKeepsNumbersAsWritten(t *testing.T) {
	conn := diffConn(t)
	p := filepath.Join(t.TempDir(), "keeps.jsonl")
	data := line(`"r"`, "0", "1", "1", `{"a": 1.50, "b": 3e-05, "c": 1E+2, "d": 100000000000000000000000}`, `{"m": {"x": 1.50}, "t": [2.50, 1e-7]}`, `{"k": 12.0}`)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	goRows, sqlRows, took, sqlErr := bothWays(t, conn, p)
	if sqlErr != nil || !took {
		t.Fatalf("took %v, the SQL's error %v", took, sqlErr)
	}
	extra := func(row string) string { f := strings.Split(row, "|"); return f[len(f)-2] }
	if got, want := extra(goRows[0]), `{"m":{"x":1.50},"t":[2.50,1e-7],"_wandb":{"a":1.50,"b":3e-05,"c":1E+2,"d":100000000000000000000000},"k":12.0}`; got != want {
		t.Errorf("Go reader's extra:\n got %s\nwant %s", got, want)
	}
	if got, want := extra(sqlRows[0]), `{"m":{"x":1.5},"t":[2.5,1e-7],"_wandb":{"a":1.5,"b":0.00003,"c":100.0,"d":100000000000000000000000},"k":12.0}`; got != want {
		t.Errorf("SQL's extra:\n got %s\nwant %s", got, want)
	}
}

// TestHistoryGoLeavesToSQL: a line the Go reader does not read, after
// chunks it already gave DuckDB, leaves the whole file to the SQL: the
// Go reader's rows are gone, and the SQL's rows are the file's.
func TestHistoryGoLeavesToSQL(t *testing.T) {
	conn := diffConn(t)
	ctx := context.Background()
	var b strings.Builder
	n := 2*histChunkLines + 5
	for i := range n {
		ts := fmt.Sprintf("%d", 1000+i)
		if i == n-3 {
			ts = `"2025-01-02 03:04:05"` // a time written as a date: the SQL's rule
		}
		b.WriteString(line(`"r"`, fmt.Sprint(i), ts, "1", "null", `{"train_loss": 1.50}`, "{}"))
	}
	p, h, metrics := goFile(t, conn, "leave.jsonl", b.String())
	st, took, err := appendHistoryJSONL(ctx, conn, h, p, "_t", metrics, 0, nil)
	if err != nil || took || st != nil {
		t.Fatalf("appendHistoryJSONL: %v, took %v, %v; want the file left to the SQL", st, took, err)
	}
	var left int64
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM _t").Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d rows left behind (%v)", left, err)
	}
	if rows, st, err := insertHistory(ctx, conn, p, h, "_t", metrics, 0, nil); err != nil || rows != int64(n) || st != nil {
		t.Fatalf("insertHistory: %d rows, %v, %v; want %d rows through the SQL", rows, st, err, n)
	}
	got, err := queryStrings(conn, "SELECT seq, step, CAST(logged_at AS VARCHAR), train_loss FROM _t WHERE seq IN (0, 4000, 4098, 4099, 4100) ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	// seq follows logged time: the row logged in 2025 is the run's last.
	want := []string{"0|0|1970-01-01 00:16:40+00|1.5", "4000|4000|1970-01-01 01:23:20+00|1.5", "4098|4099|1970-01-01 01:24:59+00|1.5",
		"4099|4100|1970-01-01 01:25:00+00|1.5", "4100|4098|2025-01-02 03:04:05+00|1.5"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestHistoryGoTaken: rows of runs another source loaded are left out,
// and the others are numbered as if those were not in the file.
func TestHistoryGoTaken(t *testing.T) {
	conn := diffConn(t)
	ctx := context.Background()
	var b strings.Builder
	for i := range 6 {
		b.WriteString(line(fmt.Sprintf(`"%c"`, 'a'+i%2), fmt.Sprint(i), fmt.Sprint(10+i), "1", "null", "{}", "{}"))
	}
	// Chunks of lines all of the run taken: DuckDB ends a table function
	// at an empty chunk, so they must not end the rows before b's last.
	for i := range 2*histChunkLines + 3 {
		b.WriteString(line(`"a"`, fmt.Sprint(100+i), fmt.Sprint(100+i), "1", "null", "{}", "{}"))
	}
	b.WriteString(line(`"b"`, "7", "9000", "1", "null", "{}", "{}"))
	p, h, metrics := goFile(t, conn, "taken.jsonl", b.String())
	threads := func() (n int64) {
		if err := conn.QueryRowContext(ctx, "SELECT current_setting('threads')").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := threads()
	st, took, err := appendHistoryJSONL(ctx, conn, h, p, "_t", metrics, 0, []string{"a"})
	if err != nil || !took || st.rows != 4 {
		t.Fatalf("%v, took %v, %v", st, took, err)
	}
	if after := threads(); after != before {
		t.Errorf("DuckDB's threads %d after the insert, %d before", after, before)
	}
	got, err := queryStrings(conn, "SELECT run_id, seq, step FROM _t ORDER BY run_id, seq")
	if err != nil {
		t.Fatal(err)
	}
	if want := "b|0|1 b|1|3 b|2|5 b|3|7"; strings.Join(got, " ") != want {
		t.Errorf("rows %q, want %q", strings.Join(got, " "), want)
	}
}

// TestHistoryGoCancel: cancelling a load while DuckDB reads the Go
// reader's rows stops it, and the reader's goroutines end.
func TestHistoryGoCancel(t *testing.T) {
	conn := diffConn(t)
	var b strings.Builder
	for i := range 40 * histChunkLines {
		b.WriteString(line(`"r"`, fmt.Sprint(i), fmt.Sprint(1000+i), "1", "null", `{"train_loss": 1.5, "x": 2}`, "{}"))
	}
	bg := context.Background()
	p, h, metrics := goFile(t, conn, "cancel.jsonl", b.String())
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(bg)
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	st, took, err := appendHistoryJSONL(ctx, conn, h, p, "_t", metrics, 0, nil)
	if err == nil {
		t.Fatalf("no error after the cancel: %v, took %v", st, took)
	}
	goroutinesEnd(t, before)
}

// goroutinesEnd fails t unless the goroutines are back to before within
// a few seconds.
func goroutinesEnd(t *testing.T, before int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines left, %d before", g, before)
	}
}

// A chunk of lines fills at most one of DuckDB's data chunks.
func TestHistoryChunkFits(t *testing.T) {
	if c := duckdb.GetDataChunkCapacity(); histChunkLines > c {
		t.Errorf("histChunkLines %d > DuckDB's data chunk capacity %d", histChunkLines, c)
	}
}

// TestHistoryGoInsertFails: when DuckDB's INSERT fails while the reader
// still has rows for it (here a key already in a copy of the table that
// holds it as a constraint), the error comes back and the reader's
// goroutines end.
func TestHistoryGoInsertFails(t *testing.T) {
	conn := diffConn(t)
	ctx := context.Background()
	var b strings.Builder
	for i := range 20 * histChunkLines {
		b.WriteString(line(`"dup"`, fmt.Sprint(i), fmt.Sprint(1000+i), "1", "null", `{"train_loss": 1.5}`, "{}"))
	}
	p, h, metrics := goFile(t, conn, "fails.jsonl", b.String())
	for _, q := range []string{
		"CREATE TEMP TABLE keyed_history AS SELECT * FROM wandb_history LIMIT 0",
		"ALTER TABLE keyed_history ADD PRIMARY KEY (run_id, seq)",
		"INSERT INTO keyed_history (run_id, seq, load_id) VALUES ('dup', 5000, 0)",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	defer conn.ExecContext(ctx, "DROP TABLE keyed_history")
	before := runtime.NumGoroutine()
	done := make(chan error, 1)
	go func() {
		_, _, err := appendHistoryJSONL(ctx, conn, h, p, "keyed_history", metrics, 0, nil)
		done <- err
	}()
	select {
	case err := <-done:
		var fe *loaders.FileError
		if !errors.As(err, &fe) || fe.Path != p || !strings.Contains(err.Error(), "dup") {
			t.Errorf("error %v, want the file's, naming the duplicate key", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("appendHistoryJSONL did not return after the INSERT failed")
	}
	goroutinesEnd(t, before)
}

// TestHistoryGoChecksAgree: what the Go reader counts as it reads (rows
// without a step, steps logged twice, runs wandb_runs lacks) gives the
// report the SQL path's grouping of the loaded rows gives.
func TestHistoryGoChecksAgree(t *testing.T) {
	conn := diffConn(t)
	ctx := context.Background()
	dir := t.TempDir()
	files := map[string]string{
		// a: steps 1 2 2 3 1 (two steps twice, four rows); b: rising; c:
		// no steps; d (another source's): one step three times, out of
		// time order.
		"repeats": line(`"a"`, "1", "1", "1", "null", "{}", "{}") + line(`"b"`, "1", "1", "1", "null", "{}", "{}") +
			line(`"a"`, "2", "2", "1", "null", "{}", "{}") + line(`"a"`, "2", "3", "1", "null", "{}", "{}") +
			line(`"c"`, "null", "3", "1", "null", "{}", "{}") + line(`"a"`, "3", "4", "1", "null", "{}", "{}") +
			line(`"b"`, "2", "2", "1", "null", "{}", "{}") + line(`"a"`, "1", "5", "1", "null", "{}", "{}") +
			line(`"c"`, "NaN", "4", "1", "null", "{}", "{}") + line(`"d"`, "7", "9", "1", "null", "{}", "{}") +
			line(`"d"`, "7", "8", "1", "null", "{}", "{}") + line(`"d"`, "7", "7", "1", "null", "{}", "{}"),
		"none twice": line(`"b"`, "1", "1", "1", "null", "{}", "{}") + line(`"b"`, "2", "2", "1", "null", "{}", "{}"),
	}
	for name, data := range historyCorpus {
		files["corpus "+name] = data
	}
	r := rand.New(rand.NewSource(3))
	for i := range 10 {
		var b strings.Builder
		for range 1 + r.Intn(12) {
			b.WriteString(randomLine(r))
		}
		files[fmt.Sprintf("random %d", i)] = b.String()
	}
	compared := 0
	for name, data := range files {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".jsonl")
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		reports := map[bool]string{}
		for _, goPath := range []bool{true, false} {
			func() {
				if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
					t.Fatal(err)
				}
				defer conn.ExecContext(ctx, "ROLLBACK")
				if _, err := conn.ExecContext(ctx, "INSERT INTO wandb_runs (run_id, load_id) VALUES ('b', 0), ('n', 0)"); err != nil {
					t.Fatal(err)
				}
				// Run d's history another source loaded: left out, and named.
				if _, err := conn.ExecContext(ctx, "INSERT INTO wandb_history (run_id, seq, load_id) VALUES ('d', 0, 0)"); err != nil {
					t.Fatal(err)
				}
				taken := []string{"d"}
				h, err := detectHistory(ctx, conn, p, "")
				if err != nil {
					t.Fatal(err)
				}
				metrics, err := historyMetrics()
				if err != nil {
					t.Fatal(err)
				}
				var st *histStats
				if goPath {
					var took bool
					if st, took, err = appendHistoryJSONL(ctx, conn, h, p, "wandb_history", metrics, 1, taken); err != nil || !took {
						return // left to the SQL: nothing to compare
					}
				} else {
					cols, sel := historySelect(h, metrics, 1)
					sel = fmt.Sprintf("SELECT * FROM (%s) x WHERE run_id NOT IN (SELECT DISTINCT run_id FROM wandb_history)", sel)
					if _, err := conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO wandb_history (%s) %s", strings.Join(cols, ", "), sel)); err != nil {
						return // the SQL refuses the file
					}
				}
				rep := &loaders.Report{}
				if err := historyChecks(ctx, conn, p, h, 1, taken, st, rep); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				reports[goPath] = fmt.Sprintf("kept %v\nnotes %q\nskipped %v", rep.Kept, rep.Notes, rep.Skipped)
			}()
		}
		if len(reports) < 2 {
			continue
		}
		compared++
		if reports[true] != reports[false] {
			t.Errorf("%s:\nGo:  %s\nSQL: %s", name, reports[true], reports[false])
		}
		if name == "repeats" {
			want := `kept [{rows without a step 2 loaded with step NULL; seq keeps their order}]
notes ["2 steps were logged more than once (4 rows): all kept, told apart by seq" "history of 2 runs not in wandb_runs (loaded; load their runs file to join them): a (5 rows), c (2 rows)"]
skipped [{history of runs d (3 rows) 1 already in wandb_history from another source (the first source to load a row keeps it)}]`
			if reports[true] != want {
				t.Errorf("repeats:\n%s\nwant\n%s", reports[true], want)
			}
		}
	}
	if compared < len(historyCorpus) {
		t.Errorf("only %d of %d files compared", compared, len(files))
	}
}

// TestHistoryGoLeavesWhatDuckDBRefuses: what fastjson reads and DuckDB's
// JSON reader does not (numbers such as 007, +1, .5, 5., 1.2.3, nan;
// a control character inside a string) the Go reader leaves to the SQL,
// which refuses the file or reads it its own way.
func TestHistoryGoLeavesWhatDuckDBRefuses(t *testing.T) {
	conn := diffConn(t)
	dir := t.TempDir()
	var cases []string
	for _, n := range []string{"007", "+1", ".5", "5.", "1.2.3", "1e", "-", "nan", "inf", "-nan", "+Infinity", "00"} {
		cases = append(cases,
			line(`"r"`, "0", "1", "1", "null", `{"train_loss": `+n+`}`, "{}"),
			line(`"r"`, "0", "1", "1", "null", `{"other": `+n+`}`, "{}"),
			line(`"r"`, "0", "1", "1", "null", `{"t": "x"}`, `{"e": [1, `+n+`]}`),
			line(`"r"`, "0", "1", "1", `{"runtime": `+n+`}`, `{}`, "{}"),
			line(`"r"`, n, "1", "1", "null", "{}", "{}"),
			line(`"r"`, "0", n, "1", "null", "{}", "{}"),
			line(`"r"`, "0", "1", n, "null", "{}", "{}"))
	}
	var many []string
	for k := range 20 {
		many = append(many, fmt.Sprintf(`"k%d": %d`, k, k))
	}
	cases = append(cases, line(`"r"`, "0", "1", "1", "null", "{"+strings.Join(append(many, `"k3": 1`), ", ")+"}", "{}"),
		line(`"r"`, "0", "1", "1", "null", "{"+strings.Join(many[:3], ", ")+"}", "{"+strings.Join(append(many, `"k19": 2`), ", ")+"}"))
	cases = append(cases, line("\"a\tb\"", "0", "1", "1", "null", "{}", "{}"), line(`"r"`, "0", "1", "1", "null", "{\"s\": \"x\ty\"}", "{}"),
		line(`"r"`, "0", "1", "1", "null", "{}", "{\"e\": \"\x01\"}"))
	for i, data := range cases {
		// After a first line that reads: the layout is told from the first.
		data = line(`"r"`, "-1", "0", "0", "null", "{}", "{}") + data
		p := filepath.Join(dir, fmt.Sprintf("c%d.jsonl", i))
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, took, sqlErr := bothWays(t, conn, p)
		if took {
			t.Errorf("the Go reader took %q (the SQL's error: %v)", data, sqlErr)
		}
	}
}

// TestHistoryGoMetricMasks: which typed metrics a row holds travels as
// bits of UBIGINT columns, 64 metrics a column. With 65 metrics (the
// schema has 11), rows holding the edges of each mask (metrics 0, 63 and
// 64), every other one, or none, load the values they hold (NaN and -0.0
// included, a metric holding text in extra) and NULL elsewhere, and agree
// with the SQL.
func TestHistoryGoMetricMasks(t *testing.T) {
	conn := diffConn(t)
	ctx := context.Background()
	var metrics []historyMetric
	cols := []string{"run_id VARCHAR", "seq BIGINT", "step BIGINT", "logged_at TIMESTAMPTZ", "runtime DOUBLE"}
	for i := range 65 {
		metrics = append(metrics, historyMetric{column: fmt.Sprintf("m%d", i), key: fmt.Sprintf("k%d", i), typ: "DOUBLE"})
		cols = append(cols, fmt.Sprintf("m%d DOUBLE", i))
	}
	cols = append(cols, "extra_metrics MAP(VARCHAR, DOUBLE)", "extra JSON", "load_id BIGINT")
	every := func(f func(i int) string) string {
		var parts []string
		for i := range 65 {
			if v := f(i); v != "" {
				parts = append(parts, fmt.Sprintf(`"k%d": %s`, i, v))
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	data := line(`"r"`, "0", "1", "1", "null", `{"k0": 1.5, "k63": NaN, "k64": -0.0}`, "{}") +
		line(`"r"`, "1", "2", "2", "null", `{"k62": 2, "k63": "text", "k64": 7, "other": 4}`, "{}") +
		line(`"r"`, "2", "3", "3", "null", every(func(i int) string { return fmt.Sprint(i) }), "{}") +
		line(`"r"`, "3", "4", "4", "null", every(func(i int) string {
			if i%2 == 1 {
				return fmt.Sprint(-i)
			}
			return ""
		}), "{}") +
		line(`"r"`, "4", "5", "5", "null", "{}", "{}")
	p := filepath.Join(t.TempDir(), "masks.jsonl")
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK")
	for _, tb := range []string{"_go", "_sql"} {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s (%s)", tb, strings.Join(cols, ", "))); err != nil {
			t.Fatal(err)
		}
	}
	h, err := detectHistory(ctx, conn, p, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, took, err := appendHistoryJSONL(ctx, conn, h, p, "_go", metrics, 0, nil); err != nil || !took {
		t.Fatalf("Go reader: took %v, %v", took, err)
	}
	sqlCols, sel := historySelect(h, metrics, 0)
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO _sql (%s) %s", strings.Join(sqlCols, ", "), sel)); err != nil {
		t.Fatal(err)
	}
	held := make([]string, len(metrics))
	for i, m := range metrics {
		held[i] = fmt.Sprintf("(%s IS NOT NULL)::INT", m.column)
	}
	pick := `SELECT seq || ':' || concat_ws(',', coalesce(m0::VARCHAR, '∅'), coalesce(m1::VARCHAR, '∅'), coalesce(m62::VARCHAR, '∅'),
		coalesce(m63::VARCHAR, '∅'), coalesce(m64::VARCHAR, '∅')) || ' ' || (` + strings.Join(held, " + ") + `) FROM %s ORDER BY seq`
	got, err := queryStrings(conn, fmt.Sprintf(pick, "_go"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0:1.5,∅,∅,nan,-0.0 3", "1:∅,∅,2.0,∅,7.0 2", "2:0.0,1.0,62.0,63.0,64.0 65", "3:∅,-1.0,∅,-63.0,∅ 32", "4:∅,∅,∅,∅,∅ 0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Go reader's metrics:\n got %q\nwant %q", got, want)
	}
	all := "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM %s ORDER BY seq"
	goRows, err := queryStrings(conn, fmt.Sprintf(all, "_go"))
	if err != nil {
		t.Fatal(err)
	}
	sqlRows, err := queryStrings(conn, fmt.Sprintf(all, "_sql"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(goRows, "\n") != strings.Join(sqlRows, "\n") {
		t.Errorf("Go:\n%s\nSQL:\n%s", strings.Join(goRows, "\n"), strings.Join(sqlRows, "\n"))
	}
}

// TestKeyKept: a load any of whose runs has rows of another load (or of
// none) is refused, naming those runs; other loads' other runs are fine.
func TestKeyKept(t *testing.T) {
	conn := diffConn(t)
	ctx := context.Background()
	exec := func(q string) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	exec("BEGIN TRANSACTION")
	defer conn.ExecContext(ctx, "ROLLBACK")
	exec("INSERT INTO wandb_history (run_id, seq, load_id) VALUES ('a', 0, 901), ('a', 1, 901), ('b', 0, 902), ('c', 0, 903)")
	for _, tc := range []struct {
		insert string
		id     int64
		want   string // the runs named, "" for none
	}{
		{"", 901, ""},
		{"", 902, ""},
		{"('a', 2, 902)", 902, "runs a have rows of another load too"},
		{"", 901, "runs a have rows of another load too"},
		{"('b', 1, NULL)", 902, "runs a, b have rows of another load too"},
		{"", 903, ""},
	} {
		if tc.insert != "" {
			exec("INSERT INTO wandb_history (run_id, seq, load_id) VALUES " + tc.insert)
		}
		err := keyKept(ctx, conn, "h.jsonl", tc.id)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("after %s, load %d: %v", tc.insert, tc.id, err)
		case tc.want != "" && (!errors.Is(err, ErrKeyShared) || !strings.Contains(err.Error(), "h.jsonl: "+tc.want)):
			t.Errorf("after %s, load %d: %v, want ErrKeyShared: %s", tc.insert, tc.id, err, tc.want)
		}
	}
}
