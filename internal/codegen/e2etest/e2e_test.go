package e2etest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/dschema/dschema/internal/appender"
	"github.com/dschema/dschema/internal/dbschema"
	"github.com/dschema/dschema/internal/duckdbtest"
	"github.com/dschema/dschema/internal/schema"
)

// setup creates the e2e tables in a fresh in-memory database and returns one connection.
func setup(t *testing.T) *sql.Conn {
	t.Helper()
	ctx := context.Background()
	db := duckdbtest.Open(t)
	s, err := schema.Load(os.DirFS("../testdata/e2e"), ".", "e2e")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range s.Tables {
		for _, stmt := range dbschema.CreateStatements(dbschema.FromSchemaTable(st)) {
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func withDriver(t *testing.T, conn *sql.Conn, f func(driver.Conn) error) error {
	t.Helper()
	return conn.Raw(func(dc any) error { return f(dc.(driver.Conn)) })
}

func ptr[T any](v T) *T { return &v }

func mustDecimal(t *testing.T, s string, w, sc uint8) duckdb.Decimal {
	t.Helper()
	d, err := appender.ParseDecimal(s, w, sc)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The three silent corruptions of the raw appender (DUCKDB-FACTS.md), each
// now exact or a clear error.
func TestCorruptionPathsAreExact(t *testing.T) {
	conn := setup(t)
	ctx := context.Background()
	err := withDriver(t, conn, func(dc driver.Conn) error {
		a, err := NewLedgerAppender(dc)
		if err != nil {
			return err
		}
		// 1.25 into DECIMAL(10,2): exact through ParseDecimal.
		small, err := appender.Narrow[int8](44)
		if err != nil {
			return err
		}
		count, err := appender.FromFloat[int32](3)
		if err != nil {
			return err
		}
		if err := a.Append(&Ledger{ID: 1, Amount: mustDecimal(t, "1.25", 10, 2), Small: &small, Count: &count}); err != nil {
			return err
		}
		return a.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	var amount string
	var small int8
	var count int32
	if err := conn.QueryRowContext(ctx, "SELECT amount::VARCHAR, small, count FROM ledger WHERE id = 1").Scan(&amount, &small, &count); err != nil {
		t.Fatal(err)
	}
	if amount != "1.25" || small != 44 || count != 3 {
		t.Errorf("stored (%s, %d, %d), want (1.25, 44, 3)", amount, small, count)
	}

	// The conversions that used to corrupt are now errors.
	if _, err := appender.Narrow[int8](300); err == nil || !strings.Contains(err.Error(), "300 does not fit int8") {
		t.Errorf("Narrow[int8](300) error = %v, want does not fit", err)
	}
	if _, err := appender.FromFloat[int32](3.7); err == nil || !strings.Contains(err.Error(), "3.7 is not an integer") {
		t.Errorf("FromFloat[int32](3.7) error = %v, want not an integer", err)
	}
	if _, err := appender.ParseDecimal("1.255", 10, 2); err == nil {
		t.Errorf("ParseDecimal(1.255, 10, 2) = nil error, want more than 2 fraction digits")
	}
	// A decimal of the wrong scale is refused by the generated appender, naming table, row and column.
	err = withDriver(t, conn, func(dc driver.Conn) error {
		a, err := NewLedgerAppender(dc)
		if err != nil {
			return err
		}
		defer a.Close()
		return a.Append(&Ledger{ID: 2, Amount: duckdb.Decimal{Width: 10, Scale: 3, Value: big.NewInt(1250)}})
	})
	if err == nil || !strings.Contains(err.Error(), "append row 1 to ledger: column amount: DECIMAL(10,2) value has scale 3") {
		t.Errorf("wrong-scale decimal error = %v", err)
	}
	err = withDriver(t, conn, func(dc driver.Conn) error {
		a, err := NewLedgerAppender(dc)
		if err != nil {
			return err
		}
		defer a.Close()
		return a.Append(&Ledger{ID: 3, Amount: mustDecimal(t, "1", 10, 2), Price: &duckdb.Decimal{Width: 18, Scale: 4, Value: new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)}})
	})
	if err == nil || !strings.Contains(err.Error(), "does not fit DECIMAL(18,4)") {
		t.Errorf("overflowing decimal error = %v", err)
	}
}

// TestCorruptionPathsDoNotCompile proves that the assignments the raw
// appender would corrupt do not compile against the generated types.
func TestCorruptionPathsDoNotCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	src := `package main

import "github.com/dschema/dschema/internal/codegen/e2etest"

func main() {
	var big int64 = 300
	var f = 3.7
	_ = e2etest.Ledger{Amount: 1.25}
	_ = e2etest.Ledger{Small: &big}
	_ = e2etest.Ledger{Count: &f}
}
`
	dir := t.TempDir()
	mainFile := filepath.Join(dir, "main.go")
	if err := os.WriteFile(mainFile, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("../../..")
	target := filepath.Join(root, "internal/codegen/e2etest/compilefail/main.go")
	overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {target: mainFile}})
	ov := filepath.Join(dir, "overlay.json")
	os.WriteFile(ov, overlay, 0o644)
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "bin"), "-overlay", ov, "./internal/codegen/e2etest/compilefail")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the program compiled; want type errors:\n%s", out)
	}
	for _, want := range []string{
		"cannot use 1.25 (untyped float constant) as duckdb.Decimal value",
		"cannot use &big (value of type *int64) as *int8 value in struct literal",
		"cannot use &f (value of type *float64) as *int32 value in struct literal",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("compiler output lacks %q:\n%s", want, out)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	conn := setup(t)
	ctx := context.Background()
	at := time.Date(2025, 8, 19, 5, 36, 1, 0, time.UTC)
	huge, _ := new(big.Int).SetString("170141183460469231731687303715884105727", 10)
	rows := []*Sample{
		{Name: "full", Score: ptr(0.5), Flag: true, SeenAt: &at, Tags: []string{"b", "a"}, Metrics: map[string]float64{"z": 1, "a": 2},
			Doc: json.RawMessage(`{"k": [1, "x", null]}`), Choices: []SampleChoices{{Label: "yes", Logit: -1.5, Tokens: []int64{1, 2}}}, Big: huge},
		{Name: "nulls"}, // every nullable column NULL, flag false
		{Name: "empty", Tags: []string{}, Metrics: map[string]float64{}, Choices: []SampleChoices{}},
	}
	err := withDriver(t, conn, func(dc driver.Conn) error {
		a, err := NewSampleAppender(dc)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := a.Append(r); err != nil {
				return err
			}
		}
		if a.Rows() != 3 {
			t.Errorf("Rows() = %d, want 3", a.Rows())
		}
		return a.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, query, want string
	}{
		{"full", `SELECT concat_ws('|', score, flag, strftime(seen_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S'), tags::VARCHAR, metrics::VARCHAR, doc::VARCHAR, choices::VARCHAR, big) FROM samples WHERE name = 'full'`,
			`0.5|true|2025-08-19 05:36:01|[b, a]|{a=2.0, z=1.0}|{"k":[1,"x",null]}|[{'label': yes, 'logit': -1.5, 'tokens': [1, 2]}]|170141183460469231731687303715884105727`},
		{"nulls", `SELECT concat_ws('|', score IS NULL, flag, seen_at IS NULL, tags IS NULL, metrics IS NULL, doc IS NULL, choices IS NULL, big IS NULL) FROM samples WHERE name = 'nulls'`,
			`true|false|true|true|true|true|true|true`},
		{"empty", `SELECT concat_ws('|', len(tags), cardinality(metrics), len(choices)) FROM samples WHERE name = 'empty'`, `0|0|0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if err := conn.QueryRowContext(ctx, tt.query).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRollbackAndFlushErrors(t *testing.T) {
	conn := setup(t)
	ctx := context.Background()
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	err := withDriver(t, conn, func(dc driver.Conn) error {
		a, err := NewLedgerAppender(dc)
		if err != nil {
			return err
		}
		for i := int64(1); i <= 3; i++ {
			if err := a.Append(&Ledger{ID: i, Amount: mustDecimal(t, "2.50", 10, 2)}); err != nil {
				return err
			}
		}
		return a.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM ledger").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("after ROLLBACK ledger has %d rows, want 0", n)
	}
	// A duplicate key surfaces at Close, and the error names the table.
	err = withDriver(t, conn, func(dc driver.Conn) error {
		a, err := NewLedgerAppender(dc)
		if err != nil {
			return err
		}
		for range 2 {
			if err := a.Append(&Ledger{ID: 7, Amount: mustDecimal(t, "1", 10, 2)}); err != nil {
				return err
			}
		}
		return a.Close()
	})
	if err == nil || !strings.Contains(err.Error(), "close appender on ledger") {
		t.Errorf("duplicate key error = %v, want it to name the ledger table", err)
	}
}

// TestStagedAppenderIsExact: a table whose nested columns hold numbers,
// booleans and text is appended through JSON text and DuckDB's casts
// (appender.NewStaged); every value comes back exactly, the edges of each
// type included, and nil stays NULL where the column allows it.
func TestStagedAppenderIsExact(t *testing.T) {
	conn := setup(t)
	ctx := context.Background()
	floats := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 5e-324, math.MaxFloat64, -math.MaxFloat64, 0.1, 1.0 / 3, 123456789.123456789, 1e21, 2.5e-5}
	text := "q\"uote \\ back\x01ctl\nnew\ttab é 日本 🙂 </script>"
	rows := []*Answer{
		{ID: 1, Label: ptr(text), Ok: true,
			Metrics: map[string]float64{"nan": floats[0], "inf": floats[1], "-inf": floats[2], "zero": floats[3], text: 1},
			Counts:  map[string]int64{"min": math.MinInt64, "max": math.MaxInt64},
			Points:  floats,
			Choices: []AnswerChoices{
				{Label: text, Logit: 0.1, Tokens: []int64{math.MinInt64, 0, math.MaxInt64}, Greedy: true, Small: -128, Part: AnswerChoicesPart{X: math.MaxUint64, F: 0.1}},
				{Label: "", Logit: math.NaN(), Tokens: []int64{}, Small: 127},
				{Label: "nil tokens", Tokens: nil},
			},
			Best: &AnswerBest{Label: "b", Logit: math.Copysign(0, -1)},
			Doc:  json.RawMessage(`{"a": NaN, "b": [1, 2]}`)},
		{ID: 2}, // every nullable nil: NULL; Counts (NOT NULL) nil: an empty map
		{ID: 3, Metrics: map[string]float64{}, Points: []float64{}, Choices: []AnswerChoices{}},
	}
	err := withDriver(t, conn, func(dc driver.Conn) error {
		a, err := NewAnswerAppender(dc)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := a.Append(r); err != nil {
				return err
			}
		}
		return a.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range floats {
		var got float64
		if err := conn.QueryRowContext(ctx, "SELECT points[?] FROM answers WHERE id = 1", i+1).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if math.Float64bits(got) != math.Float64bits(f) && !(math.IsNaN(got) && math.IsNaN(f)) {
			t.Errorf("points[%d] = %v (%x), want %v (%x)", i+1, got, math.Float64bits(got), f, math.Float64bits(f))
		}
	}
	for _, c := range []struct{ q, want string }{
		{"SELECT label = ? FROM answers WHERE id = 1", "true"},
		{"SELECT ok FROM answers WHERE id = 1", "true"},
		{"SELECT list_contains(map_keys(metrics), ?)::VARCHAR || ' ' || list_sort(list_filter(map_keys(metrics), k -> len(k) < 5))::VARCHAR FROM answers WHERE id = 1", "true [-inf, inf, nan, zero]"},
		{"SELECT metrics['nan']::VARCHAR || ' ' || metrics['inf'] || ' ' || metrics['-inf'] || ' ' || (1/metrics['zero'])::VARCHAR FROM answers WHERE id = 1", "nan inf -inf -inf"},
		{"SELECT counts['min']::VARCHAR || ' ' || counts['max'] FROM answers WHERE id = 1", "-9223372036854775808 9223372036854775807"},
		{"SELECT choices[1].label = ? FROM answers WHERE id = 1", "true"},
		{"SELECT choices[1].tokens::VARCHAR || ' ' || choices[1].greedy || ' ' || choices[1].small || ' ' || choices[1].part.x || ' ' || (choices[1].part.f = 0.1::FLOAT) || ' ' || (choices[1].logit = 0.1) FROM answers WHERE id = 1",
			"[-9223372036854775808, 0, 9223372036854775807] true -128 18446744073709551615 true true"},
		{"SELECT isnan(choices[2].logit)::VARCHAR || ' ' || choices[2].tokens::VARCHAR || ' ' || choices[2].small || ' ' || (choices[3].tokens IS NULL) FROM answers WHERE id = 1", "true [] 127 true"},
		{"SELECT best.label || ' ' || best.logit FROM answers WHERE id = 1", "b -0.0"},
		{"SELECT doc::VARCHAR FROM answers WHERE id = 1", `{"a": NaN, "b": [1, 2]}`},
		{"SELECT (label IS NULL)::VARCHAR || (metrics IS NULL) || (points IS NULL) || (choices IS NULL) || (best IS NULL) || (doc IS NULL) || ' ' || cardinality(counts) || ' ' || ok FROM answers WHERE id = 2", "truetruetruetruetruetrue 0 false"},
		{"SELECT cardinality(metrics)::VARCHAR || len(points) || len(choices) FROM answers WHERE id = 3", "000"},
	} {
		var got string
		args := []any{}
		if strings.Contains(c.q, "?") {
			args = append(args, text)
		}
		if err := conn.QueryRowContext(ctx, c.q, args...).Scan(&got); err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		if got != c.want {
			t.Errorf("%s = %q, want %q", c.q, got, c.want)
		}
	}
}
