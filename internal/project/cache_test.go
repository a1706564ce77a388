package project

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dschema/dschema/internal/cache"
	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/migrate"
)

// smallCheckout is a checkout of smallSchema with its migration and gen/.
func smallCheckout(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "schema", "lab.yaml"), smallSchema)
	if _, err := Gen(context.Background(), DefaultLayout(root), GenOptions{}); err != nil {
		t.Fatal(err)
	}
	return root
}

// checkWith runs Check with a new Cache over dir (nothing in memory, so a
// warm cache is read from disk) and returns the problems as text.
func checkWith(t *testing.T, dir, root string) (string, cache.Stats) {
	t.Helper()
	c := cache.New(dir)
	ps, err := Check(cache.NewContext(context.Background(), c), DefaultLayout(root), CheckOptions{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	return strings.Join(got, "\n"), c.Stats()
}

// TestDriftIsFoundWithAWarmCache: every drift check fails where it must,
// whether the cache is cold, warm from the clean checkout, or warm from an
// earlier check of the drifted one.
func TestDriftIsFoundWithAWarmCache(t *testing.T) {
	for _, tt := range []struct {
		name  string
		drift func(t *testing.T, root string)
		want  string
	}{
		{"unregenerated schema edit", func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, "schema", "lab.yaml"), strings.Replace(smallSchema, `"Loss."`, `"Training loss."`, 1))
		}, `schema/lab.yaml:9: table "runs": column "loss": description differs (migrations "Loss.", schema "Training loss.") (fix: go generate ./...)`},
		{"stale gen file", func(t *testing.T, root string) {
			p := filepath.Join(root, "gen", "runs.go")
			b, _ := os.ReadFile(p)
			writeFile(t, p, strings.Replace(string(b), "Loss.", "Loss!", 1))
		}, `gen/runs.go: differs from what the schema and migrations generate`},
		{"edited applied migration", func(t *testing.T, root string) {
			p := filepath.Join(root, "migrations", "00001_init.sql")
			b, _ := os.ReadFile(p)
			writeFile(t, p, strings.Replace(string(b), "'Loss.'", "'Training loss.'", 1))
		}, `migrations/00001_init.sql: `},
		{"deleted sum file", func(t *testing.T, root string) {
			os.Remove(filepath.Join(root, "migrations", "dschema.sum"))
		}, `migrations/dschema.sum: missing`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			root := smallCheckout(t)
			if got, _ := checkWith(t, dir, root); got != "" {
				t.Fatalf("clean checkout: %s", got)
			}
			if got, st := checkWith(t, dir, root); got != "" || st.DiskHits != 2 || st.Misses != 0 {
				t.Fatalf("clean checkout, warm cache: %q, stats %+v, want no problem and 2 disk hits (replay, canonical)", got, st)
			}
			tt.drift(t, root)
			for _, pass := range []string{"cache warm from the clean checkout", "cache warm from the drifted checkout"} {
				got, _ := checkWith(t, dir, root)
				if !strings.Contains(got, tt.want) {
					t.Errorf("%s: check = %q, want %q", pass, got, tt.want)
				}
			}
			if got, _ := checkWith(t, "", root); !strings.Contains(got, tt.want) {
				t.Errorf("no disk cache: check = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestTamperedCacheGivesTheTrueAnswer rewrites the cache entries so that
// they would hide a drift: another key's entry in place of the drifted
// schema's, an edited payload, a truncated file. Check still reports it.
func TestTamperedCacheGivesTheTrueAnswer(t *testing.T) {
	want := `table "runs": column "loss": description differs (migrations "Loss.", schema "Training loss.")`
	for _, tt := range []struct {
		name   string
		tamper func(t *testing.T, dir string, clean, drifted map[string][]byte)
	}{
		{"the clean schema's entry under the drifted schema's key", func(t *testing.T, dir string, clean, drifted map[string][]byte) {
			for name := range drifted {
				for cleanName, b := range clean {
					if strings.HasPrefix(name, "canonical-") && strings.HasPrefix(cleanName, "canonical-") {
						writeFile(t, filepath.Join(dir, name), string(b))
					}
				}
			}
		}},
		{"the drifted entry edited to say the clean description", func(t *testing.T, dir string, _, drifted map[string][]byte) {
			for name, b := range drifted {
				writeFile(t, filepath.Join(dir, name), strings.ReplaceAll(string(b), "Training loss.", "Loss."))
			}
		}},
		{"the replay entry edited to say the drifted description", func(t *testing.T, dir string, clean, _ map[string][]byte) {
			for name, b := range clean {
				if strings.HasPrefix(name, "replay-") {
					writeFile(t, filepath.Join(dir, name), strings.ReplaceAll(string(b), `"Loss."`, `"Training loss."`))
				}
			}
		}},
		{"every entry truncated", func(t *testing.T, dir string, clean, drifted map[string][]byte) {
			for _, m := range []map[string][]byte{clean, drifted} {
				for name, b := range m {
					writeFile(t, filepath.Join(dir, name), string(b[:len(b)/3]))
				}
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			root := smallCheckout(t)
			checkWith(t, dir, root)
			clean := readDir(t, dir)
			writeFile(t, filepath.Join(root, "schema", "lab.yaml"), strings.Replace(smallSchema, `"Loss."`, `"Training loss."`, 1))
			if got, _ := checkWith(t, dir, root); !strings.Contains(got, want) {
				t.Fatalf("before tampering: check = %q", got)
			}
			drifted := readDir(t, dir)
			for name := range clean {
				delete(drifted, name)
			}
			if len(clean) != 2 || len(drifted) != 1 {
				t.Fatalf("cache holds %d clean and %d drifted entries, want 2 and 1", len(clean), len(drifted))
			}
			tt.tamper(t, dir, clean, drifted)
			got, st := checkWith(t, dir, root)
			if !strings.Contains(got, want) {
				t.Errorf("after tampering: check = %q, want %q", got, want)
			}
			if st.Rejected == 0 {
				t.Errorf("stats = %+v, want the tampered entry rejected", st)
			}
		})
	}
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// TestMigratedFileUsesOnlyAVerifiedCopy: a cached database is used only when
// it is exactly what the migrations make, even when its cache entry is
// consistent (a forged copy with a row in it, or an extra table).
func TestMigratedFileUsesOnlyAVerifiedCopy(t *testing.T) {
	root := smallCheckout(t)
	files, err := migrate.ReadFiles(os.DirFS(filepath.Join(root, "migrations")))
	if err != nil {
		t.Fatal(err)
	}
	key := migrate.ReplayKey(files) + "-db"
	make := func(t *testing.T, dir string) (cached bool, path string) {
		t.Helper()
		path = filepath.Join(t.TempDir(), "lab.duckdb")
		rs, cached, err := MigratedFile(cache.NewContext(context.Background(), cache.New(dir)), files, path)
		if err != nil {
			t.Fatal(err)
		}
		if !cached && len(rs) != 1 {
			t.Errorf("applied %v, want 00001", rs)
		}
		return cached, path
	}
	forge := func(sql string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			_, path := make(t, dir)
			db, err := dbfile.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(sql); err != nil {
				t.Fatal(err)
			}
			db.Close()
			cache.New(dir).PutFile(key, path)
		}
	}
	for _, tt := range []struct {
		name   string
		tamper func(t *testing.T, dir string)
	}{
		{"a row in a table", forge(`INSERT INTO runs (run_id, loss) VALUES ('r1', 0.5)`)},
		{"an extra table", forge(`CREATE TABLE extra (x INT)`)},
		{"a changed comment", forge(`COMMENT ON COLUMN runs.loss IS 'Not the loss.'`)},
		{"a macro", forge(`CREATE MACRO loss_of(x) AS 1`)},
		{"a migration record removed", forge(`DELETE FROM dschema_migrations WHERE version_id = 1`)},
		{"a byte changed", func(t *testing.T, dir string) {
			edit := filepath.Join(dir, key+".data")
			b, err := os.ReadFile(edit)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0xff
			writeFile(t, edit, string(b))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if cached, _ := make(t, dir); cached {
				t.Fatal("an empty cache gave a copy")
			}
			if cached, _ := make(t, dir); !cached {
				t.Fatal("the untouched cache gave no copy")
			}
			tt.tamper(t, dir)
			cached, path := make(t, dir)
			if cached {
				t.Fatal("the tampered copy was used")
			}
			db, err := dbfile.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var n int
			if err := db.QueryRow(`SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM duckdb_tables() WHERE table_name = 'extra')`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("the database made after tampering holds %d forged rows or tables", n)
			}
			// The entry was rebuilt from the real migrations.
			if cached, _ := make(t, dir); !cached {
				t.Error("the rebuilt cache gave no copy")
			}
		})
	}
	if _, _, err := MigratedFile(context.Background(), files, filepath.Join(root, "schema", "lab.yaml")); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("MigratedFile over an existing file: %v", err)
	}
}

// TestGenProvesOnTheCachedDatabase: with a warm cache, Gen's proof starts
// from the cached database of the committed migrations, and what it writes
// passes check.
func TestGenProvesOnTheCachedDatabase(t *testing.T) {
	dir := t.TempDir()
	clean := smallCheckout(t)
	for i, desc := range []string{"Training loss.", "Validation loss."} {
		root := copyTree(t, clean, "schema", "migrations", "gen")
		writeFile(t, filepath.Join(root, "schema", "lab.yaml"), strings.Replace(smallSchema, `"Loss."`, `"`+desc+`"`, 1))
		c := cache.New(dir)
		res, err := Gen(cache.NewContext(context.Background(), c), DefaultLayout(root), GenOptions{})
		if err != nil || res.Migration != filepath.Join("migrations", "00002_comment_on_runs_loss.sql") {
			t.Fatalf("Gen = %+v, %v", res, err)
		}
		// The first Gen replays and migrates; the second reads both from
		// disk (the replay and the database's manifest) and its canonical
		// state, of another schema, is new.
		if st := c.Stats(); i == 1 && (st.DiskHits != 2 || st.Rejected != 0) {
			t.Errorf("second Gen: stats = %+v, want 2 disk hits", st)
		}
		if ps, _ := checkWith(t, dir, root); ps != "" {
			t.Errorf("check after Gen: %s", ps)
		}
	}
}

// TestMigratedFileFailureLeavesNothing: the new database is migrated beside
// its path and moved there only when every migration applied, so a failing
// migration, or an interrupt, leaves no file at the path and no scratch
// folder beside it.
func TestMigratedFileFailureLeavesNothing(t *testing.T) {
	root := smallCheckout(t)
	files, err := migrate.ReadFiles(os.DirFS(filepath.Join(root, "migrations")))
	if err != nil {
		t.Fatal(err)
	}
	bad := migrate.File{Name: "00002_bad.sql", Version: 2, Data: []byte("-- +goose Up\nALTER TABLE nowhere ADD COLUMN x INT;\n-- +goose Down\n")}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name  string
		ctx   context.Context
		files []migrate.File
		want  string
	}{
		{"a failing migration", context.Background(), append(files[:len(files):len(files)], bad), "nowhere"},
		{"an interrupt", cancelled, files, "context canceled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "lab.duckdb")
			ctx := cache.NewContext(tt.ctx, cache.New(""))
			if _, _, err := MigratedFile(ctx, tt.files, path); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("MigratedFile = %v, want an error naming %q", err, tt.want)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				t.Errorf("left behind: %s", e.Name())
			}
		})
	}
	// The same call with the good files makes the database.
	path := filepath.Join(t.TempDir(), "lab.duckdb")
	if rs, _, err := MigratedFile(cache.NewContext(context.Background(), cache.New("")), files, path); err != nil || len(rs) != 1 {
		t.Fatalf("MigratedFile = %v, %v", rs, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Error(err)
	}
}
