package migrate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/pressly/goose/v3/database"

	"github.com/dschema/dschema/internal/cache"
	"github.com/dschema/dschema/internal/dbfile"
	"github.com/dschema/dschema/internal/duckdbtest"
)

const (
	m1 = "-- +goose Up\nCREATE TABLE a (id BIGINT PRIMARY KEY, v VARCHAR);\n\n-- +goose Down\nDROP TABLE a;\n"
	m2 = "-- +goose Up\nALTER TABLE a ADD COLUMN w DOUBLE;\n\n-- +goose Down\nALTER TABLE a DROP COLUMN w;\n"
	m3 = "-- +goose Up\nCREATE TABLE b (x INTEGER);\n\n-- +goose Down\nDROP TABLE b;\n"
)

func testFS() fstest.MapFS {
	files := []File{{1, "00001_a.sql", []byte(m1)}, {2, "00002_w.sql", []byte(m2)}, {3, "00003_b.sql", []byte(m3)}}
	fsys := fstest.MapFS{}
	for _, f := range files {
		fsys[f.Name] = &fstest.MapFile{Data: f.Data}
	}
	fsys[SumFile] = &fstest.MapFile{Data: Sum(files)}
	return fsys
}

// TestStoreConformance exercises every database.Store method the way goose uses them.
func TestStoreConformance(t *testing.T) {
	ctx := context.Background()
	db := duckdbtest.Open(t)
	s := NewStore([]File{{1, "00001_a.sql", []byte(m1)}}, "v-test")
	var _ database.Store = s
	if s.Tablename() != "dschema_migrations" {
		t.Errorf("Tablename() = %q", s.Tablename())
	}
	if _, err := s.GetLatestVersion(ctx, db); err == nil {
		t.Errorf("GetLatestVersion before CreateVersionTable = nil error")
	}
	if err := s.CreateVersionTable(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetLatestVersion(ctx, db); !errors.Is(err, database.ErrVersionNotFound) {
		t.Errorf("GetLatestVersion on empty table error = %v, want ErrVersionNotFound", err)
	}
	for _, v := range []int64{0, 1, 2} {
		if err := s.Insert(ctx, db, database.InsertRequest{Version: v}); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := s.GetLatestVersion(ctx, db); err != nil || v != 2 {
		t.Errorf("GetLatestVersion() = %d, %v, want 2", v, err)
	}
	list, err := s.ListMigrations(ctx, db)
	if err != nil || len(list) != 3 || list[0].Version != 2 || !list[0].IsApplied {
		t.Errorf("ListMigrations() = %+v, %v, want newest first", list, err)
	}
	if r, err := s.GetMigration(ctx, db, 1); err != nil || !r.IsApplied || r.Timestamp.IsZero() {
		t.Errorf("GetMigration(1) = %+v, %v", r, err)
	}
	if _, err := s.GetMigration(ctx, db, 9); !errors.Is(err, database.ErrVersionNotFound) {
		t.Errorf("GetMigration(9) error = %v, want ErrVersionNotFound", err)
	}
	if err := s.Delete(ctx, db, 2); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.GetLatestVersion(ctx, db); v != 1 {
		t.Errorf("after Delete(2) latest = %d, want 1", v)
	}
	applied, err := ListApplied(ctx, db)
	if err != nil || len(applied) != 1 {
		t.Fatalf("ListApplied() = %+v, %v", applied, err)
	}
	if a := applied[0]; a.FileName != "00001_a.sql" || a.ToolVersion != "v-test" || a.Checksum != (File{Data: []byte(m1)}).Checksum() {
		t.Errorf("recorded %+v, want file name, tool version and checksum", a)
	}
}

func TestUpDownStatus(t *testing.T) {
	ctx := context.Background()
	db, path := duckdbtest.OpenFile(t)
	m, err := New(db, path, testFS(), "migrations")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := m.Up(ctx)
	if err != nil || len(rs) != 3 {
		t.Fatalf("Up() = %v, %v, want 3 applied", rs, err)
	}
	if cur, _ := m.Current(ctx); cur != 3 {
		t.Errorf("Current() = %d, want 3", cur)
	}
	if _, err := m.RequireNewest(ctx); err != nil {
		t.Errorf("RequireNewest() = %v", err)
	}
	if _, err := m.DownTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	_, err = m.RequireNewest(ctx)
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Have != 1 || ve.Newest != 3 || !strings.Contains(err.Error(), "run dschema migrate up --db "+path) {
		t.Errorf("RequireNewest() at version 1 = %v", err)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, s := range st {
		states = append(states, map[bool]string{true: "applied", false: "pending"}[s.Applied])
	}
	if got := strings.Join(states, ","); got != "applied,pending,pending" {
		t.Errorf("Status() = %s", got)
	}
	if p, _ := m.Pending(ctx); len(p) != 2 || !strings.Contains(UpSQL(p[0]), "ADD COLUMN w") {
		t.Errorf("Pending() = %v", p)
	}
}

func TestTampering(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		mutate func(fstest.MapFS)
		want   string
	}{
		{"edited migration", func(f fstest.MapFS) {
			f["00002_w.sql"] = &fstest.MapFile{Data: []byte(strings.Replace(m2, "DOUBLE", "BIGINT", 1))}
		}, "migrations/00002_w.sql: edited after dschema.sum was written"},
		{"reordered migrations", func(f fstest.MapFS) {
			a, b := f["00002_w.sql"], f["00003_b.sql"]
			delete(f, "00002_w.sql")
			delete(f, "00003_b.sql")
			f["00002_b.sql"], f["00003_w.sql"] = b, a
		}, "migrations/00002_b.sql: dschema.sum expects 00002_w.sql at this position: migrations were renamed, reordered or inserted"},
		{"deleted sum file", func(f fstest.MapFS) { delete(f, SumFile) },
			"migrations/dschema.sum: missing: the migrations cannot be verified"},
		{"same version twice", func(f fstest.MapFS) { f["00003_c.sql"] = &fstest.MapFile{Data: []byte(m3)} },
			"migrations 00003_b.sql and 00003_c.sql have the same version 3"},
		{"unrecorded migration", func(f fstest.MapFS) { f["00004_d.sql"] = &fstest.MapFile{Data: []byte(m3)} },
			"migrations/00004_d.sql: not recorded in dschema.sum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := testFS()
			tt.mutate(fsys)
			_, err := New(duckdbtest.Open(t), "x.duckdb", fsys, "migrations")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}

	// An applied migration edited and re-hashed (sum file regenerated) is
	// still caught by the checksum recorded in the database.
	t.Run("edited after apply", func(t *testing.T) {
		db := duckdbtest.Open(t)
		m, err := New(db, "lab.duckdb", testFS(), "migrations")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		fsys := testFS()
		edited := []byte(strings.Replace(m2, "DOUBLE", "BIGINT", 1))
		fsys["00002_w.sql"] = &fstest.MapFile{Data: edited}
		fsys[SumFile] = &fstest.MapFile{Data: Sum([]File{{1, "00001_a.sql", []byte(m1)}, {2, "00002_w.sql", edited}, {3, "00003_b.sql", []byte(m3)}})}
		m2x, err := New(db, "lab.duckdb", fsys, "migrations")
		if err != nil {
			t.Fatal(err)
		}
		_, err = m2x.Up(ctx)
		if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "migration 00002_w.sql was changed after it was applied to lab.duckdb") {
			t.Errorf("Up() error = %v, want ErrTampered naming 00002_w.sql", err)
		}
	})

	t.Run("newer database", func(t *testing.T) {
		db := duckdbtest.Open(t)
		m, _ := New(db, "lab.duckdb", testFS(), "migrations")
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		fsys := fstest.MapFS{"00001_a.sql": {Data: []byte(m1)}}
		fsys[SumFile] = &fstest.MapFile{Data: Sum([]File{{1, "00001_a.sql", []byte(m1)}})}
		old, err := New(db, "lab.duckdb", fsys, "migrations")
		if err != nil {
			t.Fatal(err)
		}
		_, err = old.Up(ctx)
		if !errors.Is(err, ErrAhead) || err.Error() != "database lab.duckdb is at schema version 3, newer than this dschema knows (1): use a newer dschema" {
			t.Errorf("Up() error = %v, want ErrAhead", err)
		}
	})
}

func TestFailedMigrationLeavesPreviousVersion(t *testing.T) {
	ctx := context.Background()
	db := duckdbtest.Open(t)
	bad := "-- +goose Up\nCREATE TABLE c (x INTEGER);\nINSERT INTO nowhere VALUES (1);\n\n-- +goose Down\nDROP TABLE c;\n"
	files := []File{{1, "00001_a.sql", []byte(m1)}, {2, "00002_bad.sql", []byte(bad)}}
	m, err := NewFromFiles(db, "lab.duckdb", files)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Up(ctx)
	if err == nil || !strings.Contains(err.Error(), "migration 00002_bad.sql failed on lab.duckdb") {
		t.Fatalf("Up() error = %v", err)
	}
	if cur, _ := m.Current(ctx); cur != 1 {
		t.Errorf("Current() = %d after the failed migration, want 1", cur)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'c'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("table c exists after its migration failed: the migration was not atomic")
	}
}

func TestOpenInMemory(t *testing.T) {
	db, err := dbfile.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

// TestReplayKeepsEveryPrefix: one replay of the newest version leaves the
// State of each shorter prefix in the cache, each equal to a replay of that
// prefix alone, so checking a database at each of its versions replays once.
func TestReplayKeepsEveryPrefix(t *testing.T) {
	files := []File{{1, "00001_a.sql", []byte(m1)}, {2, "00002_w.sql", []byte(m2)}, {3, "00003_b.sql", []byte(m3)}}
	c := cache.New("")
	ctx := cache.NewContext(context.Background(), c)
	if _, err := Replay(ctx, files, -1); err != nil {
		t.Fatal(err)
	}
	misses := c.Stats().Misses
	for _, v := range []int64{3, 2, 1} {
		got, err := Replay(ctx, files, v)
		if err != nil {
			t.Fatal(err)
		}
		// The same prefix replayed alone, in a cache of its own.
		want, err := Replay(cache.NewContext(context.Background(), cache.New("")), files[:v], -1)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("Replay(%d) after a replay of all differs from a replay of the prefix alone (-want +got):\n%s", v, d)
		}
	}
	if st := c.Stats(); st.Misses != misses {
		t.Errorf("replays of versions 3, 2, 1 after the newest missed the cache %d times, want 0 (%+v)", st.Misses-misses, st)
	}
	// Version 0 is the empty database.
	if st, err := Replay(ctx, files, 0); err != nil || len(st.Tables) != 0 {
		t.Errorf("Replay(0) = %+v, %v, want no tables", st, err)
	}
}

// TestDownLossesSparesRestoredColumns: a promoted column whose Down moves
// its values back into the map (the planner's marker line says so) is no
// loss; a column dropped without that line, or named by a marker of a
// migration that is not reverted, still is.
func TestDownLossesSparesRestoredColumns(t *testing.T) {
	ctx := context.Background()
	base := "-- +goose Up\nCREATE TABLE h (id INTEGER, extra MAP(VARCHAR, DOUBLE));\nINSERT INTO h VALUES (1, MAP {'a''b': 1.5});\n\n-- +goose Down\nDROP TABLE h;\n"
	promote := "-- +goose Up\nALTER TABLE h ADD COLUMN a_b DOUBLE;\nUPDATE h SET a_b = extra['a''b'], extra = NULL;\n\n-- +goose Down\n" +
		"-- dschema: restores h.a_b\nUPDATE h SET extra = map_concat(coalesce(extra, CAST(MAP {} AS MAP(VARCHAR, DOUBLE))), MAP {'a''b': a_b}) WHERE a_b IS NOT NULL;\nALTER TABLE h DROP COLUMN a_b;\n"
	plain := "-- +goose Up\nALTER TABLE h ADD COLUMN note VARCHAR;\nUPDATE h SET note = 'kept';\n\n-- +goose Down\n-- dschema: restores h.other\nALTER TABLE h DROP COLUMN note;\n"
	for _, tt := range []struct {
		name  string
		files []File
		want  []Loss
	}{
		{"a promotion's Down", []File{{1, "00001_h.sql", []byte(base)}, {2, "00002_promote.sql", []byte(promote)}}, nil},
		{"a drop whose marker names another column", []File{{1, "00001_h.sql", []byte(base)}, {2, "00002_note.sql", []byte(plain)}},
			[]Loss{{Table: "h", Column: "note", Rows: 1}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := duckdbtest.Open(t)
			m, err := NewFromFiles(db, "lab.duckdb", tt.files)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Up(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := m.DownLosses(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("DownLosses(1) (-want +got):\n%s", d)
			}
			// Reverting everything drops h, which holds a row: a loss
			// whatever the later markers say.
			all, err := m.DownLosses(ctx, 0)
			if err != nil || len(all) != 1 || all[0] != (Loss{Table: "h", Rows: 1}) {
				t.Errorf("DownLosses(0) = %v, %v, want table h (1 rows)", all, err)
			}
		})
	}
	if got := RestoredColumns(File{Data: []byte(promote)}); len(got) != 1 || got[0] != "h.a_b" {
		t.Errorf("RestoredColumns = %q, want [h.a_b]", got)
	}
	// A marker in the Up section does not count.
	if got := RestoredColumns(File{Data: []byte(strings.Replace(promote, "-- +goose Up\n", "-- +goose Up\n-- dschema: restores h.id\n", 1))}); len(got) != 1 {
		t.Errorf("RestoredColumns counts a marker of the Up section: %q", got)
	}
}
