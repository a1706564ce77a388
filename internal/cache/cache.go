// Package cache keeps results that take seconds to recompute (migrations
// replayed into a scratch DuckDB, the schema's canonical state, a database
// file migrated to the committed version) in memory for the process and on
// disk across processes.
//
// An entry is never trusted blindly. Its key hashes everything the result was
// computed from together with the identity of the running program (so an
// entry written by another build of dschema, or another DuckDB, is never
// read); an entry is written to a temporary file and renamed into place; on
// reading, an entry whose format, key or checksum does not match is ignored
// (and removed), and the caller computes the result again.
//
// The disk cache lives in $DSCHEMA_CACHE_DIR, else in dschema/ under the
// user's cache directory (os.UserCacheDir). DSCHEMA_CACHE=off, or the CLI's
// --no-cache flag, turns it off; results are then still shared within one
// process.
package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Format is the version of the entry layout; it is part of every key.
const Format = "dschema-cache/1"

// The disk cache keeps at most MaxEntries files and MaxBytes bytes; the least
// recently used go first.
const (
	MaxEntries = 64
	MaxBytes   = 256 << 20
)

// Environment variables that configure the default cache.
const (
	EnvDir = "DSCHEMA_CACHE_DIR" // folder of the disk cache
	EnvOff = "DSCHEMA_CACHE"     // "off" (or "0", "false") turns the disk cache off
)

// Cache is a content-keyed store. The zero value and nil are usable: they
// keep nothing. A Cache with an empty Dir keeps results in memory only.
type Cache struct {
	Dir string // "" for memory only

	memo sync.Map // key -> any

	mu    sync.Mutex
	stats Stats
}

// Stats counts what a Cache did, for tests and diagnostics.
type Stats struct {
	MemoHits, DiskHits, Misses, Rejected, Writes int
}

// New returns a cache that keeps entries in dir ("" for memory only).
func New(dir string) *Cache { return &Cache{Dir: dir} }

// Stats returns the counts so far.
func (c *Cache) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *Cache) count(f func(*Stats)) {
	c.mu.Lock()
	f(&c.stats)
	c.mu.Unlock()
}

var (
	defaultsMu sync.Mutex
	defaults   = map[string]*Cache{}
)

// Default returns the process's cache for the folder the environment names
// (one shared instance per folder, so results are shared within the process).
func Default() *Cache {
	dir := ""
	switch strings.ToLower(os.Getenv(EnvOff)) {
	case "off", "0", "false", "no":
	default:
		dir = os.Getenv(EnvDir)
		if dir == "" {
			if base, err := os.UserCacheDir(); err == nil {
				dir = filepath.Join(base, "dschema")
			}
		}
	}
	return forDir(dir)
}

// MemoryOnly is the process's cache that never touches the disk (--no-cache).
func MemoryOnly() *Cache { return forDir("") }

// forDir returns the process's one Cache over dir.
func forDir(dir string) *Cache {
	defaultsMu.Lock()
	defer defaultsMu.Unlock()
	c, ok := defaults[dir]
	if !ok {
		c = New(dir)
		defaults[dir] = c
	}
	return c
}

type ctxKey struct{}

// NewContext returns ctx carrying c, which FromContext then returns.
func NewContext(ctx context.Context, c *Cache) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// FromContext returns the cache ctx carries, else Default().
func FromContext(ctx context.Context) *Cache {
	if c, ok := ctx.Value(ctxKey{}).(*Cache); ok {
		return c
	}
	return Default()
}

var (
	identityOnce sync.Once
	identity     string
)

// programIdentity names the running executable by the build ID the Go
// linker wrote into it (it changes with the code, the Go version and the
// DuckDB linked in, and not with where the file lies), else by path, size and
// modification time: a rebuilt dschema never reads the entries of the old
// one. "" when it cannot be told.
func programIdentity() string {
	identityOnce.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			return
		}
		if id := readBuildID(exe); id != "" {
			identity = "buildid\x00" + id
			return
		}
		fi, err := os.Stat(exe)
		if err != nil {
			return
		}
		identity = fmt.Sprintf("file\x00%s\x00%d\x00%d", exe, fi.Size(), fi.ModTime().UnixNano())
	})
	return identity
}

// readBuildID reads the Go build ID of an executable: from the ELF note the
// linker writes (external linking, as cgo needs), else from near the start of
// the file, where the linker puts it otherwise (as go tool buildid does).
func readBuildID(exe string) string {
	if f, err := elf.Open(exe); err == nil {
		defer f.Close()
		if sec := f.Section(".note.go.buildid"); sec != nil {
			if data, err := sec.Data(); err == nil && len(data) > 16 {
				namesz := f.ByteOrder.Uint32(data[0:4])
				descsz := f.ByteOrder.Uint32(data[4:8])
				off := 12 + (namesz+3)&^3
				if uint64(off)+uint64(descsz) <= uint64(len(data)) {
					return string(data[off : off+descsz])
				}
			}
		}
	}
	f, err := os.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, buf)
	return parseBuildID(buf[:n])
}

var (
	buildIDPrefix = []byte("\xff Go build ID: \"")
	buildIDSuffix = []byte("\"\n \xff")
)

func parseBuildID(data []byte) string {
	i := bytes.Index(data, buildIDPrefix)
	if i < 0 {
		return ""
	}
	rest := data[i+len(buildIDPrefix):]
	j := bytes.Index(rest, buildIDSuffix)
	if j <= 0 || j > 1024 {
		return ""
	}
	return string(rest[:j])
}

// Key hashes kind and parts (each length-prefixed) with the entry format and
// the program's identity.
func Key(kind string, parts ...[]byte) string {
	h := sha256.New()
	for _, p := range append([][]byte{[]byte(Format), []byte(programIdentity()), []byte(kind)}, parts...) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	return kind + "-" + hex.EncodeToString(h.Sum(nil))[:40]
}

func (c *Cache) disk() bool { return c != nil && c.Dir != "" && programIdentity() != "" }

func (c *Cache) path(key, ext string) string { return filepath.Join(c.Dir, key+ext) }

// entry is the on-disk form of a value.
type entry struct {
	Format  string          `json:"format"`
	Key     string          `json:"key"`
	SHA256  string          `json:"sha256"` // of Payload's bytes
	Payload json.RawMessage `json:"payload"`
}

// Get returns the value stored under key: from memory, else from disk
// (verified), else false. The value returned is shared: do not modify it.
func Get[T any](c *Cache, key string) (*T, bool) {
	if c == nil {
		return nil, false
	}
	if v, ok := c.memo.Load(key); ok {
		if t, ok := v.(*T); ok {
			c.count(func(s *Stats) { s.MemoHits++ })
			return t, true
		}
	}
	if !c.disk() {
		c.count(func(s *Stats) { s.Misses++ })
		return nil, false
	}
	data, err := os.ReadFile(c.path(key, ".json"))
	if err != nil {
		c.count(func(s *Stats) { s.Misses++ })
		return nil, false
	}
	v, err := decode[T](data, key)
	if err != nil {
		c.reject(key)
		return nil, false
	}
	c.touch(c.path(key, ".json"))
	c.memo.Store(key, v)
	c.count(func(s *Stats) { s.DiskHits++ })
	return v, true
}

func decode[T any](data []byte, key string) (*T, error) {
	var e entry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	if e.Format != Format || e.Key != key {
		return nil, errors.New("foreign entry")
	}
	sum := sha256.Sum256(e.Payload)
	if hex.EncodeToString(sum[:]) != e.SHA256 {
		return nil, errors.New("checksum mismatch")
	}
	dec := json.NewDecoder(bytes.NewReader(e.Payload))
	dec.DisallowUnknownFields()
	v := new(T)
	if err := dec.Decode(v); err != nil {
		return nil, err
	}
	return v, nil
}

// reject forgets a bad entry, in memory and on disk, so that it is rebuilt.
func (c *Cache) reject(key string) {
	c.count(func(s *Stats) { s.Rejected++; s.Misses++ })
	c.memo.Delete(key)
	os.Remove(c.path(key, ".json"))
	os.Remove(c.path(key, ".data"))
}

// Put stores v under key, in memory and (best effort: a cache that cannot be
// written only costs time) on disk.
func Put[T any](c *Cache, key string, v *T) {
	if c == nil {
		return
	}
	c.memo.Store(key, v)
	if !c.disk() {
		return
	}
	payload, err := json.Marshal(v)
	if err != nil {
		return
	}
	sum := sha256.Sum256(payload)
	data, err := json.Marshal(entry{Format: Format, Key: key, SHA256: hex.EncodeToString(sum[:]), Payload: payload})
	if err != nil {
		return
	}
	if _, err := c.writeAtomic(c.path(key, ".json"), bytes.NewReader(data)); err == nil {
		c.count(func(s *Stats) { s.Writes++ })
		c.prune()
	}
}

// fileManifest describes a stored file.
type fileManifest struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// GetFile copies the file stored under key to dst after checking its size
// and checksum; on any mismatch it removes the entry and dst and returns false.
func (c *Cache) GetFile(key, dst string) bool {
	if !c.disk() {
		return false
	}
	m, ok := Get[fileManifest](c, key)
	if !ok {
		return false
	}
	src, err := os.Open(c.path(key, ".data"))
	if err != nil {
		c.reject(key)
		return false
	}
	defer src.Close()
	out, err := os.Create(dst)
	if err != nil {
		return false
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), src)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil || n != m.Size || hex.EncodeToString(h.Sum(nil)) != m.SHA256 {
		os.Remove(dst)
		c.reject(key)
		return false
	}
	c.touch(c.path(key, ".data"))
	return true
}

// PutFile stores a copy of the file at src under key (disk only).
func (c *Cache) PutFile(key, src string) {
	if !c.disk() {
		return
	}
	f, err := os.Open(src)
	if err != nil {
		return
	}
	defer f.Close()
	h := sha256.New()
	n, err := c.writeAtomic(c.path(key, ".data"), io.TeeReader(f, h))
	if err != nil {
		return
	}
	// The manifest goes last: an entry without one is never read.
	Put(c, key, &fileManifest{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
}

// writeAtomic writes r to a temporary file in the cache folder, renames it
// to path and returns the bytes written.
func (c *Cache) writeAtomic(path string, r io.Reader) (int64, error) {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(c.Dir, ".tmp-*")
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(tmp, r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return n, err
}

func (c *Cache) touch(path string) {
	now := time.Now()
	os.Chtimes(path, now, now)
}

// prune removes the least recently used files beyond MaxEntries or
// MaxBytes, and temporary files an interrupted write left an hour ago or more.
func (c *Cache) prune() {
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return
	}
	type item struct {
		name string
		mod  time.Time
		size int64
	}
	var items []item
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.IsDir() {
			continue
		}
		if strings.HasPrefix(e.Name(), ".tmp-") {
			if time.Since(info.ModTime()) > time.Hour {
				os.Remove(filepath.Join(c.Dir, e.Name()))
			}
			continue
		}
		items = append(items, item{e.Name(), info.ModTime(), info.Size()})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].mod.After(items[j].mod) })
	var total int64
	for i, it := range items {
		total += it.size
		if i >= MaxEntries || total > MaxBytes {
			os.Remove(filepath.Join(c.Dir, it.name))
		}
	}
}
