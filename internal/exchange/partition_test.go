package exchange

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// awkward are partition values a path could mangle: '/', '=', '%', spaces,
// unicode, a leading zero a reader could take for a number, the empty
// string, Hive's own NULL spelling, and NULL.
var awkward = []*string{
	ptr("a/b=c"), ptr("100%"), ptr("é x"), ptr("00123"), ptr(""), ptr(HiveNull),
	ptr("core_9mcqa:rc::olmes:full"), ptr(".."), nil,
}

func ptr(s string) *string { return &s }

func show(v *string) string {
	if v == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *v)
}

// TestPartitionValues: each awkward value gets a folder of its own; the
// files hold the value itself (import reads them with hive_partitioning
// off); DuckDB's hive_partitioning reads every value back from the folder
// names, NULL included; the manifest records each value.
func TestPartitionValues(t *testing.T) {
	dir := t.TempDir()
	a, b, out := filepath.Join(dir, "a.duckdb"), filepath.Join(dir, "b.duckdb"), filepath.Join(dir, "out")
	ddl := "CREATE TABLE p(k VARCHAR, i INTEGER, PRIMARY KEY (i))"
	var vals []string
	for i, v := range awkward {
		lit := "NULL"
		if v != nil {
			lit = "'" + strings.ReplaceAll(*v, "'", "''") + "'"
		}
		vals = append(vals, fmt.Sprintf("(%s, %d), (%s, %d)", lit, 2*i, lit, 2*i+1))
	}
	scratchDB(t, a, ddl, "INSERT INTO p VALUES "+strings.Join(vals, ", "))
	m := roundTrip(t, a, b, out, Options{PartitionBy: map[string]string{"p": "k"}}, ddl)
	sameDatabases(t, a, b)

	if len(m.Files) != len(awkward) {
		t.Fatalf("%d files, want one per value (%d)", len(m.Files), len(awkward))
	}
	got := map[string]string{}
	for _, f := range m.Files {
		got[show(f.Partition["k"])] = f.Path
		if f.Rows != 2 {
			t.Errorf("%s: %d rows, want 2", f.Path, f.Rows)
		}
	}
	want := map[string]string{
		`"a/b=c"`: "p/k=a%2Fb%3Dc/part-0.parquet", `"100%"`: "p/k=100%25/part-0.parquet",
		`"é x"`: "p/k=%C3%A9%20x/part-0.parquet", `"00123"`: "p/k=00123/part-0.parquet",
		`""`: "p/k=/part-0.parquet", `"__HIVE_DEFAULT_PARTITION__"`: "p/k=%5F_HIVE_DEFAULT_PARTITION__/part-0.parquet",
		`"core_9mcqa:rc::olmes:full"`: "p/k=core_9mcqa%3Arc%3A%3Aolmes%3Afull/part-0.parquet",
		`".."`:                        "p/k=../part-0.parquet", "NULL": "p/k=__HIVE_DEFAULT_PARTITION__/part-0.parquet",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("partition folders (-want +got):\n%s", d)
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	glob := filepath.Join(out, "p", "*", "*.parquet")
	for _, hive := range []bool{true, false} {
		rows := queryStrings(t, db, fmt.Sprintf(`SELECT concat_ws(' ', i, coalesce(format('"{}"', k), 'NULL'), typeof(k)) FROM read_parquet(?, hive_partitioning = %t) ORDER BY i`, hive), glob)
		var wantRows []string
		for i, v := range awkward {
			for j := range 2 {
				s := show(v)
				if v != nil {
					s = `"` + *v + `"`
				}
				wantRows = append(wantRows, fmt.Sprintf("%d %s VARCHAR", 2*i+j, s))
			}
		}
		if d := cmp.Diff(wantRows, rows); d != "" {
			t.Errorf("read_parquet(hive_partitioning = %t) (-want +got):\n%s", hive, d)
		}
	}
}

// TestSplitLargePartition: with a small MaxFileBytes a partition is split
// into several files, each closed at the first row group that takes it
// past the bound (so every file but its last row group is under it); the
// rows come back all and in order.
func TestSplitLargePartition(t *testing.T) {
	dir := t.TempDir()
	a, b, out := filepath.Join(dir, "a.duckdb"), filepath.Join(dir, "b.duckdb"), filepath.Join(dir, "out")
	ddl := "CREATE TABLE big(k VARCHAR, i BIGINT, s VARCHAR, PRIMARY KEY (k, i))"
	scratchDB(t, a, ddl, `INSERT INTO big SELECT CASE WHEN i < 40000 THEN 'large' ELSE 'small' END, i, md5(i::VARCHAR) || md5((i * 7)::VARCHAR) FROM range(40100) r(i)`)
	const bound = 200_000
	m := roundTrip(t, a, b, out, Options{MaxFileBytes: bound, RowGroupRows: 2048, PartitionBy: map[string]string{"big": "k"}}, ddl)
	sameDatabases(t, a, b)

	byPart := map[string][]FileEntry{}
	for _, f := range m.Files {
		byPart[*f.Partition["k"]] = append(byPart[*f.Partition["k"]], f)
	}
	if n := len(byPart["large"]); n < 3 {
		t.Errorf("large partition in %d files, want it split (at least 3)", n)
	}
	if n := len(byPart["small"]); n != 1 {
		t.Errorf("small partition in %d files, want 1", n)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var total int64
	for _, f := range m.Files {
		total += f.Rows
		path := filepath.Join(out, filepath.FromSlash(f.Path))
		var groups int
		var beforeLast, rows int64
		err := db.QueryRow(`SELECT count(*), coalesce(sum(bytes) - arg_max(bytes, row_group_id), 0), sum(n) FROM (
			SELECT row_group_id, any_value(row_group_compressed_bytes) AS bytes, any_value(row_group_num_rows) AS n FROM parquet_metadata(?) GROUP BY ALL)`, path).Scan(&groups, &beforeLast, &rows)
		if err != nil {
			t.Fatal(err)
		}
		if beforeLast >= bound {
			t.Errorf("%s: %d bytes before its last row group, bound %d", f.Path, beforeLast, bound)
		}
		if f.Bytes > bound+bound/2 {
			t.Errorf("%s: %d bytes, more than the bound %d plus a row group", f.Path, f.Bytes, bound)
		}
		if rows != f.Rows {
			t.Errorf("%s: row groups hold %d rows, manifest %d", f.Path, rows, f.Rows)
		}
	}
	if total != 40100 {
		t.Errorf("files hold %d rows, want 40100", total)
	}
	// Row order: primary key order inside each partition, file after file.
	paths := []string{}
	for _, f := range byPart["large"] {
		paths = append(paths, f.Path)
	}
	sort.Slice(paths, func(i, j int) bool {
		return len(paths[i]) < len(paths[j]) || len(paths[i]) == len(paths[j]) && paths[i] < paths[j]
	})
	prev := int64(-1)
	for _, p := range paths {
		var lo, hi int64
		if err := db.QueryRow(`SELECT min(i), max(i) FROM read_parquet(?)`, filepath.Join(out, filepath.FromSlash(p))).Scan(&lo, &hi); err != nil {
			t.Fatal(err)
		}
		if lo != prev+1 {
			t.Errorf("%s starts at %d, want %d", p, lo, prev+1)
		}
		prev = hi
	}
}

// TestLongPartitionValues: a value whose folder name, encoded, would pass
// MaxDirBytes gets a folder named by its hash, under the limit; one at the
// limit keeps its own; two long values with a common prefix get two
// folders; a value that looks like a hashed name is escaped; and every
// value round-trips exactly through the files' own column.
func TestLongPartitionValues(t *testing.T) {
	hashed := func(v string) string {
		sum := sha256.Sum256([]byte(v))
		return "k=__hash_" + hex.EncodeToString(sum[:])[:16]
	}
	long := strings.Repeat("x", 300)
	cases := []struct {
		v, dir string
	}{
		{strings.Repeat("a", MaxDirBytes-2), "k=" + strings.Repeat("a", MaxDirBytes-2)},  // "k=" + 198: at the limit
		{strings.Repeat("b", MaxDirBytes-1), hashed(strings.Repeat("b", MaxDirBytes-1))}, // one byte over
		{strings.Repeat("é", 33), "k=" + strings.Repeat("%C3%A9", 33)},                   // 2 + 33×6 = 200
		{strings.Repeat("é", 34), hashed(strings.Repeat("é", 34))},                       // 206
		{strings.Repeat("é", 90), "k=__hash_8177f085cf3aa12c"},                           // 542: the review's run id
		{strings.Repeat(":", 85), "k=__hash_92aeba98d9a0d512"},                           // 257
		{strings.Repeat("=", 66), "k=" + strings.Repeat("%3D", 66)},                      // 200
		{long + "1", hashed(long + "1")},
		{long + "2", hashed(long + "2")},
		{"__hash_0123456789abcdef", "k=%5F_hash_0123456789abcdef"}, // not taken for a hashed name
		{strings.Repeat("ü", 5000), hashed(strings.Repeat("ü", 5000))},
	}
	if hashed(long+"1") == hashed(long+"2") {
		t.Fatalf("the two long values share a folder")
	}
	dir := t.TempDir()
	a, b, out := filepath.Join(dir, "a.duckdb"), filepath.Join(dir, "b.duckdb"), filepath.Join(dir, "out")
	ddl := "CREATE TABLE p(k VARCHAR, i INTEGER, PRIMARY KEY (i))"
	var vals []string
	for i, c := range cases {
		vals = append(vals, fmt.Sprintf("('%s', %d)", c.v, i))
	}
	scratchDB(t, a, ddl, "INSERT INTO p VALUES "+strings.Join(vals, ", "))
	m := roundTrip(t, a, b, out, Options{PartitionBy: map[string]string{"p": "k"}}, ddl)
	sameDatabases(t, a, b)

	got, want := map[string]string{}, map[string]string{}
	for _, c := range cases {
		want[c.v] = "p/" + c.dir + "/part-0.parquet"
	}
	for _, f := range m.Files {
		if f.Partition["k"] == nil {
			t.Fatalf("%s: no partition value in the manifest", f.Path)
		}
		got[*f.Partition["k"]] = f.Path
		if n := len(strings.Split(f.Path, "/")[1]); n > MaxDirBytes {
			t.Errorf("%s: a folder name of %d bytes, above %d", f.Path, n, MaxDirBytes)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("partition folders by value (-want +got):\n%s", d)
	}

	// Read on their own, the files give every value exactly; DuckDB's
	// hive_partitioning gives the folder's name, the hash, where there is one.
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	glob := filepath.Join(out, "p", "*", "*.parquet")
	// Without the option DuckDB sees the key=value folders and reads them
	// as with it on.
	for _, opt := range []string{", hive_partitioning = false", ", hive_partitioning = true", ""} {
		rows := queryStrings(t, db, fmt.Sprintf(`SELECT k FROM read_parquet(?%s) ORDER BY i`, opt), glob)
		var wantRows []string
		for _, c := range cases {
			v := c.v
			if !strings.Contains(opt, "false") && strings.HasPrefix(c.dir, "k=__hash_") {
				v = strings.TrimPrefix(c.dir, "k=")
			}
			wantRows = append(wantRows, v)
		}
		if d := cmp.Diff(wantRows, rows); d != "" {
			t.Errorf("read_parquet(glob%s) (-want +got):\n%s", opt, d)
		}
	}
}
