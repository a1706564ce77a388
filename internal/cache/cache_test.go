package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type value struct {
	Name  string
	Items []string
}

// fresh returns a new Cache over dir: nothing in memory, so reads go to disk.
func fresh(dir string) *Cache { return New(dir) }

func TestRoundTripThroughDisk(t *testing.T) {
	dir := t.TempDir()
	key := Key("test", []byte("a"), []byte("b"))
	want := &value{Name: "x", Items: []string{"1", "2"}}
	c := fresh(dir)
	if _, ok := Get[value](c, key); ok {
		t.Fatal("Get on an empty cache found something")
	}
	Put(c, key, want)
	if got, ok := Get[value](c, key); !ok || got != want {
		t.Errorf("Get from memory = %v, %v; want the value put", got, ok)
	}
	c2 := fresh(dir)
	got, ok := Get[value](c2, key)
	if !ok || got.Name != "x" || strings.Join(got.Items, ",") != "1,2" {
		t.Fatalf("Get from disk = %+v, %v", got, ok)
	}
	if s := c2.Stats(); s.DiskHits != 1 || s.Rejected != 0 {
		t.Errorf("stats = %+v, want one disk hit", s)
	}
	// Memory only: nothing reaches the disk.
	m := fresh("")
	Put(m, Key("test", []byte("mem")), want)
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the disk holds %d entries, want 1", len(entries))
	}
	var nilCache *Cache
	Put(nilCache, key, want)
	if _, ok := Get[value](nilCache, key); ok {
		t.Error("a nil cache returned a value")
	}
}

func TestKeysDiffer(t *testing.T) {
	base := Key("replay", []byte("ab"), []byte("c"))
	for name, k := range map[string]string{
		"other kind":       Key("canonical", []byte("ab"), []byte("c")),
		"moved boundary":   Key("replay", []byte("a"), []byte("bc")),
		"one part more":    Key("replay", []byte("ab"), []byte("c"), nil),
		"other content":    Key("replay", []byte("ab"), []byte("d")),
		"concatenated":     Key("replay", []byte("abc")),
		"no parts at all":  Key("replay"),
		"empty first part": Key("replay", nil, []byte("ab"), []byte("c")),
	} {
		if k == base {
			t.Errorf("%s: same key %s", name, k)
		}
	}
	if again := Key("replay", []byte("ab"), []byte("c")); again != base {
		t.Errorf("Key is not deterministic: %s then %s", base, again)
	}
}

// TestTamperedEntriesAreIgnored edits, truncates, replaces and moves
// entries: each is ignored, removed and counted, never returned.
func TestTamperedEntriesAreIgnored(t *testing.T) {
	keyA, keyB := Key("test", []byte("A")), Key("test", []byte("B"))
	for _, tt := range []struct {
		name   string
		tamper func(t *testing.T, dir string)
	}{
		{"payload edited", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, keyA+".json"), func(b []byte) []byte { return bytes.Replace(b, []byte(`"A-name"`), []byte(`"evil"`), 1) })
		}},
		{"truncated", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, keyA+".json"), func(b []byte) []byte { return b[:len(b)/2] })
		}},
		{"emptied", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, keyA+".json"), func([]byte) []byte { return nil })
		}},
		{"another key's entry in its place", func(t *testing.T, dir string) {
			b, err := os.ReadFile(filepath.Join(dir, keyB+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, keyA+".json"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"other format", func(t *testing.T, dir string) {
			edit(t, filepath.Join(dir, keyA+".json"), func(b []byte) []byte { return bytes.Replace(b, []byte(Format), []byte("dschema-cache/0"), 1) })
		}},
		{"unknown field in the payload", func(t *testing.T, dir string) {
			// Consistent checksum, but not the shape of the value.
			c := fresh(dir)
			Put(c, keyA, &struct{ Name, Extra string }{"A-name", "x"})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := fresh(dir)
			Put(c, keyA, &value{Name: "A-name"})
			Put(c, keyB, &value{Name: "B-name"})
			tt.tamper(t, dir)
			c2 := fresh(dir)
			if got, ok := Get[value](c2, keyA); ok {
				t.Fatalf("a tampered entry was returned: %+v", got)
			}
			if s := c2.Stats(); s.Rejected != 1 {
				t.Errorf("stats = %+v, want one rejected entry", s)
			}
			if _, err := os.Stat(filepath.Join(dir, keyA+".json")); err == nil {
				t.Error("the rejected entry is still on disk")
			}
			if got, ok := Get[value](c2, keyB); !ok || got.Name != "B-name" {
				t.Errorf("the untouched entry = %+v, %v", got, ok)
			}
			// Put again: the entry is rebuilt and read back.
			Put(c2, keyA, &value{Name: "A-name"})
			if got, ok := Get[value](fresh(dir), keyA); !ok || got.Name != "A-name" {
				t.Errorf("rebuilt entry = %+v, %v", got, ok)
			}
		})
	}
}

func edit(t *testing.T, path string, f func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, f(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(t.TempDir(), "src.bin")
	content := bytes.Repeat([]byte("duckdb "), 10000)
	if err := os.WriteFile(src, content, 0o644); err != nil {
		t.Fatal(err)
	}
	key := Key("file", []byte("x"))
	c := fresh(dir)
	c.PutFile(key, src)
	dst := filepath.Join(t.TempDir(), "dst.bin")
	if !fresh(dir).GetFile(key, dst) {
		t.Fatal("GetFile found nothing")
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, content) {
		t.Fatalf("GetFile copied %d bytes, want the %d stored", len(got), len(content))
	}
	for _, tt := range []struct {
		name   string
		tamper func([]byte) []byte
	}{
		{"one byte changed", func(b []byte) []byte { b = bytes.Clone(b); b[100] ^= 1; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }},
		{"grown", func(b []byte) []byte { return append(bytes.Clone(b), 0) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fresh(dir).PutFile(key, src)
			edit(t, filepath.Join(dir, key+".data"), tt.tamper)
			dst := filepath.Join(t.TempDir(), "dst.bin")
			c := fresh(dir)
			if c.GetFile(key, dst) {
				t.Fatal("GetFile returned a tampered file")
			}
			if _, err := os.Stat(dst); err == nil {
				t.Error("the tampered copy was left at the destination")
			}
			if s := c.Stats(); s.Rejected != 1 {
				t.Errorf("stats = %+v, want one rejected entry", s)
			}
		})
	}
	t.Run("data file missing", func(t *testing.T) {
		fresh(dir).PutFile(key, src)
		if err := os.Remove(filepath.Join(dir, key+".data")); err != nil {
			t.Fatal(err)
		}
		c := fresh(dir)
		if c.GetFile(key, filepath.Join(t.TempDir(), "dst.bin")) {
			t.Fatal("GetFile returned a file it does not hold")
		}
		if s := c.Stats(); s.Rejected != 1 {
			t.Errorf("stats = %+v, want one rejected entry", s)
		}
		if _, err := os.Stat(filepath.Join(dir, key+".json")); err == nil {
			t.Error("the manifest of the missing file is still on disk")
		}
	})
	if fresh("").GetFile(key, dst) {
		t.Error("a memory-only cache returned a file")
	}
}

func TestPruneKeepsTheNewest(t *testing.T) {
	dir := t.TempDir()
	c := fresh(dir)
	old := time.Now().Add(-time.Hour)
	for i := range MaxEntries {
		Put(c, Key("test", []byte(fmt.Sprint(i))), &value{Name: fmt.Sprint(i)})
		// Entry i was last used i minutes after the oldest.
		p := c.path(Key("test", []byte(fmt.Sprint(i))), ".json")
		os.Chtimes(p, old.Add(time.Duration(i)*time.Minute), old.Add(time.Duration(i)*time.Minute))
	}
	stale := filepath.Join(dir, ".tmp-stale")
	os.WriteFile(stale, []byte("x"), 0o644)
	os.Chtimes(stale, old, old)
	Put(c, Key("test", []byte("new")), &value{Name: "new"})
	entries, _ := os.ReadDir(dir)
	if len(entries) != MaxEntries {
		t.Errorf("%d files after pruning, want %d", len(entries), MaxEntries)
	}
	for _, tt := range []struct {
		key  string
		kept bool
	}{
		{Key("test", []byte("0")), false},
		{Key("test", []byte("1")), true},
		{Key("test", []byte(fmt.Sprint(MaxEntries-1))), true},
		{Key("test", []byte("new")), true},
	} {
		if _, err := os.Stat(c.path(tt.key, ".json")); (err == nil) != tt.kept {
			t.Errorf("%s kept = %v, want %v", tt.key, err == nil, tt.kept)
		}
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("a stale temporary file was kept")
	}
}

func TestDefaultFollowsTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvDir, dir)
	t.Setenv(EnvOff, "")
	if c := Default(); c.Dir != dir || c != Default() {
		t.Errorf("Default() = %q (shared %v), want %q, one instance", c.Dir, c == Default(), dir)
	}
	for _, off := range []string{"off", "OFF", "0", "false", "no"} {
		t.Setenv(EnvOff, off)
		if c := Default(); c.Dir != "" {
			t.Errorf("%s=%s: Default().Dir = %q, want memory only", EnvOff, off, c.Dir)
		}
	}
	t.Setenv(EnvOff, "on")
	if c := Default(); c.Dir != dir {
		t.Errorf("%s=on: Default().Dir = %q", EnvOff, c.Dir)
	}
	ctx := NewContext(context.Background(), MemoryOnly())
	if c := FromContext(ctx); c.Dir != "" {
		t.Errorf("FromContext(memory only) = %q", c.Dir)
	}
	if c := FromContext(context.Background()); c.Dir != dir {
		t.Errorf("FromContext(background) = %q, want the default %q", c.Dir, dir)
	}
}

func TestParseBuildID(t *testing.T) {
	for _, tt := range []struct {
		name, data, want string
	}{
		{"found", "junk\xff Go build ID: \"abc/def\"\n \xffmore", "abc/def"},
		{"no prefix", "junk Go build ID: \"abc\"\n \xff", ""},
		{"no suffix", "\xff Go build ID: \"abc", ""},
		{"empty id", "\xff Go build ID: \"\"\n \xff", ""},
		{"1024 bytes", "\xff Go build ID: \"" + strings.Repeat("a", 1024) + "\"\n \xff", strings.Repeat("a", 1024)},
		{"1025 bytes", "\xff Go build ID: \"" + strings.Repeat("a", 1025) + "\"\n \xff", ""},
	} {
		if got := parseBuildID([]byte(tt.data)); got != tt.want {
			t.Errorf("%s: parseBuildID = %q, want %q", tt.name, got, tt.want)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if id := readBuildID(exe); strings.Count(id, "/") < 1 {
		t.Errorf("readBuildID(test binary) = %q, want a Go build ID", id)
	}
	if !strings.HasPrefix(programIdentity(), "buildid\x00") {
		t.Errorf("programIdentity() = %q, want the build ID", programIdentity())
	}
}

// withIdentity makes the program's identity id for the test.
func withIdentity(t *testing.T, id string) {
	t.Helper()
	programIdentity() // run the Once first, so it cannot overwrite id
	old := identity
	identity = id
	t.Cleanup(func() { identity = old })
}

// TestKeyIsTheDocumentedHash: a key is kind, "-" and the first 40 hex
// digits of the sha256 of the length-prefixed format, program identity,
// kind and parts.
func TestKeyIsTheDocumentedHash(t *testing.T) {
	withIdentity(t, "buildid\x00abc/def")
	h := sha256.New()
	for _, p := range []string{Format, "buildid\x00abc/def", "replay", "ab", "", "c"} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	want := "replay-" + hex.EncodeToString(h.Sum(nil))[:40]
	if got := Key("replay", []byte("ab"), nil, []byte("c")); got != want {
		t.Errorf("Key(replay, ab, nil, c) = %s, want %s", got, want)
	}
}

// TestOtherBuildsDoNotShareEntries: another build of dschema (another
// build ID) computes other keys and never reads this build's entries; a
// program that cannot tell its identity keeps nothing on disk.
func TestOtherBuildsDoNotShareEntries(t *testing.T) {
	dir := t.TempDir()
	withIdentity(t, "buildid\x00one")
	keyOne := Key("test", []byte("x"))
	Put(fresh(dir), keyOne, &value{Name: "built by one"})

	withIdentity(t, "buildid\x00two")
	keyTwo := Key("test", []byte("x"))
	if keyTwo == keyOne {
		t.Fatalf("Key(test, x) = %s under both build IDs", keyOne)
	}
	if got, ok := Get[value](fresh(dir), keyTwo); ok {
		t.Errorf("build two read build one's entry: %+v", got)
	}

	withIdentity(t, "")
	c := fresh(dir)
	if c.disk() {
		t.Error("disk() = true for a program with no identity")
	}
	keyNone := Key("test", []byte("none"))
	Put(c, keyNone, &value{Name: "no identity"})
	if _, err := os.Stat(c.path(keyNone, ".json")); err == nil {
		t.Error("a program with no identity wrote to the disk cache")
	}
	if got, ok := Get[value](fresh(dir), keyOne); ok {
		t.Errorf("a program with no identity read the disk cache: %+v", got)
	}

	withIdentity(t, "buildid\x00one")
	if got, ok := Get[value](fresh(dir), keyOne); !ok || got.Name != "built by one" {
		t.Errorf("build one's own entry = %+v, %v", got, ok)
	}
}
