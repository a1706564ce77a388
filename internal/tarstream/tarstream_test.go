package tarstream

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// entry is one tar member to build.
type entry struct {
	name string
	body string
	typ  byte // 0 means tar.TypeReg
	link string
}

func reg(name, body string) entry { return entry{name: name, body: body} }

// tarOf builds a tar archive; end=false leaves out the two zero blocks.
func tarOf(t testing.TB, end bool, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Linkname: e.link, Mode: 0o644, Format: tar.FormatPAX}
		if typ == tar.TypeXGlobalHeader {
			h = &tar.Header{Name: e.name, Typeflag: typ, PAXRecords: map[string]string{"comment": "c"}}
		}
		if typ == tar.TypeReg || typ == '\x00' {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("header %q: %v", e.name, err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	if end {
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// gz compresses each part as its own gzip stream, concatenated.
func gz(t testing.TB, parts ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, p := range parts {
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(p); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func tgz(t testing.TB, entries ...entry) []byte { return gz(t, tarOf(t, true, entries...)) }

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// seen is what fn was given.
type seen struct {
	Path  string
	Chain []string
	Size  int64
	Body  string
}

func collect(root string, opts Options) ([]seen, error) {
	var got []seen
	err := Walk(context.Background(), root, opts, func(m Member, r io.Reader) error {
		b, err := io.ReadAll(r)
		got = append(got, seen{m.Path, m.Chain, m.Size, string(b)})
		return err
	})
	return got, err
}

func s(path, body string) seen {
	return seen{Path: path, Chain: strings.Split(path, "!/"), Size: int64(len(body)), Body: body}
}

func TestWalk(t *testing.T) {
	inner2 := tarOf(t, true, reg("x.jsonl", "{\"x\":1}\n"))
	inner := tgz(t, reg("step-1250/arc_easy-predictions.jsonl", "{\"a\":1}\n"), reg("step-1250/deeper.tar", string(inner2)))
	outer := []entry{
		{name: "c4/", typ: tar.TypeDir},
		reg("c4/4M/seed-2/step-1250.tar.gz", string(inner)),
		reg("c4/readme.txt", "hi"),
	}
	plain := tarOf(t, true, entry{name: "d/", typ: tar.TypeDir}, reg("d/a.jsonl", "a\n"), reg("d/b.jsonl", "bb\n"), reg("empty", ""))
	plainWant := []seen{s("d/a.jsonl", "a\n"), s("d/b.jsonl", "bb\n"), s("empty", "")}
	half := len(plain) / 2

	cases := []struct {
		name  string
		file  string // file name under the temp dir; "" means build a directory
		data  []byte
		files map[string][]byte // for a directory
		opts  Options
		want  []seen
	}{
		{name: "plain tar", file: "a.tar", data: plain, want: plainWant},
		{name: "tar.gz", file: "a.tar.gz", data: gz(t, plain), want: plainWant},
		{name: "gzip detected by magic, not name", file: "a.bin", data: gz(t, plain), want: plainWant},
		{name: "multi-stream gzip", file: "a.tgz", data: gz(t, plain[:half], plain[half:]), want: plainWant},
		{name: "tar without end blocks", file: "a.tar", data: tarOf(t, false, reg("a", "1")), want: []seen{s("a", "1")}},
		{name: "tar.gz without end blocks", file: "a.tgz", data: gz(t, tarOf(t, false, reg("a", "1"))), want: []seen{s("a", "1")}},
		{name: "old regular typeflag and pax global header", file: "a.tar", data: tarOf(t, true,
			entry{name: "pax_global_header", typ: tar.TypeXGlobalHeader}, entry{name: "r", body: "x", typ: '\x00'}),
			want: []seen{s("r", "x")}},
		{name: "zero padding after the end marker", file: "a.tgz", data: gz(t, append(tarOf(t, true, reg("a", "1")), make([]byte, 20000)...)),
			want: []seen{s("a", "1")}},
		{name: "nested off", file: "c4.tar.gz", data: tgz(t, outer...),
			want: []seen{s("c4/4M/seed-2/step-1250.tar.gz", string(inner)), s("c4/readme.txt", "hi")}},
		{name: "nested on, two levels", file: "c4.tar.gz", data: tgz(t, outer...), opts: Options{Nested: true},
			want: []seen{
				s("c4/4M/seed-2/step-1250.tar.gz!/step-1250/arc_easy-predictions.jsonl", "{\"a\":1}\n"),
				s("c4/4M/seed-2/step-1250.tar.gz!/step-1250/deeper.tar!/x.jsonl", "{\"x\":1}\n"),
				s("c4/readme.txt", "hi"),
			}},
		{name: "nested, MaxDepth just enough", file: "c4.tar.gz", data: tgz(t, outer...), opts: Options{Nested: true, MaxDepth: 2},
			want: []seen{
				s("c4/4M/seed-2/step-1250.tar.gz!/step-1250/arc_easy-predictions.jsonl", "{\"a\":1}\n"),
				s("c4/4M/seed-2/step-1250.tar.gz!/step-1250/deeper.tar!/x.jsonl", "{\"x\":1}\n"),
				s("c4/readme.txt", "hi"),
			}},
		{name: "directory", files: map[string][]byte{"b/x.jsonl": []byte("x"), "a.jsonl": []byte("aa"), "b/c/d.txt": nil, "n.tar.gz": tgz(t, reg("m", "m"))},
			want: []seen{s("a.jsonl", "aa"), s("b/c/d.txt", ""), s("b/x.jsonl", "x"), s("n.tar.gz", string(tgz(t, reg("m", "m"))))}},
		{name: "directory nested", files: map[string][]byte{"b/x.jsonl": []byte("x"), "a/n.tar.gz": tgz(t, reg("m", "m")), "c.tar": tarOf(t, true, reg("t", "tt"))},
			opts: Options{Nested: true},
			want: []seen{s("a/n.tar.gz!/m", "m"), s("b/x.jsonl", "x"), s("c.tar!/t", "tt")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			root := dir
			if c.file != "" {
				root = writeFile(t, dir, c.file, c.data)
			}
			for name, data := range c.files {
				writeFile(t, dir, name, data)
			}
			got, err := collect(root, c.opts)
			if err != nil {
				t.Fatalf("Walk: %v", err)
			}
			if !slices.EqualFunc(got, c.want, func(a, b seen) bool {
				return a.Path == b.Path && slices.Equal(a.Chain, b.Chain) && a.Size == b.Size && a.Body == b.Body
			}) {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// mustError checks that err is an *Error and returns it.
func mustError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	return e
}

func TestMaxDepth(t *testing.T) {
	l3 := tgz(t, reg("deep", "x"))
	l2 := tarOf(t, true, reg("l3.tgz", string(l3)))
	root := writeFile(t, t.TempDir(), "l1.tar.gz", tgz(t, reg("l2.tar", string(l2))))
	var calls int
	err := Walk(context.Background(), root, Options{Nested: true, MaxDepth: 1}, func(Member, io.Reader) error { calls++; return nil })
	e := mustError(t, err)
	if !errors.Is(err, ErrUnsafe) || e.Member != "l2.tar!/l3.tgz" || calls != 0 {
		t.Errorf("err %v, member %q, calls %d", err, e.Member, calls)
	}
	got, err := collect(root, Options{Nested: true, MaxDepth: 2})
	if err != nil || len(got) != 1 || got[0].Path != "l2.tar!/l3.tgz!/deep" {
		t.Errorf("MaxDepth 2: %v %v", got, err)
	}
}

func TestRefusals(t *testing.T) {
	ok := reg("ok.txt", "fine")
	after := reg("after.txt", "never")
	arch := func(bad ...entry) []byte { return tgz(t, append(append([]entry{ok}, bad...), after)...) }
	cases := []struct {
		name   string
		data   []byte            // archive; or
		files  map[string][]byte // directory
		link   string            // directory: symlink to create, pointing at ok.txt
		member string            // wanted Error.Member
	}{
		{name: "dotdot", data: arch(reg("../evil", "x")), member: "../evil"},
		{name: "dotdot inside", data: arch(reg("a/../../evil", "x")), member: "a/../../evil"},
		{name: "dotdot that cleans away", data: arch(reg("a/../b", "x")), member: "a/../b"},
		{name: "absolute", data: arch(reg("/etc/passwd", "x")), member: "/etc/passwd"},
		{name: "trailing dotdot", data: arch(reg("a/b/..", "x")), member: "a/b/.."},
		{name: "backslash dotdot", data: arch(reg(`a\..\..\evil`, "x")), member: `a\..\..\evil`},
		{name: "windows drive", data: arch(reg(`C:\evil`, "x")), member: `C:\evil`},
		{name: "UNC", data: arch(reg(`\\host\share\evil`, "x")), member: `\\host\share\evil`},
		{name: "dotdot directory", data: arch(entry{name: "../d/", typ: tar.TypeDir}), member: "../d/"},
		{name: "symlink", data: arch(entry{name: "lnk", typ: tar.TypeSymlink, link: "/etc/passwd"}), member: "lnk"},
		{name: "hard link", data: arch(entry{name: "hl", typ: tar.TypeLink, link: "ok.txt"}), member: "hl"},
		{name: "fifo", data: arch(entry{name: "fifo", typ: tar.TypeFifo}), member: "fifo"},
		{name: "char device", data: arch(entry{name: "dev", typ: tar.TypeChar}), member: "dev"},
		{name: "unknown typeflag", data: arch(entry{name: "odd", typ: 'Z'}), member: "odd"},
		{name: "symlink in nested tarball",
			data:   arch(reg("n.tar.gz", string(tgz(t, reg("in", "x"), entry{name: "lnk", typ: tar.TypeSymlink, link: "../../x"})))),
			member: "n.tar.gz!/lnk"},
		{name: "dotdot in nested plain tar",
			data:   arch(reg("n.tar", string(tarOf(t, true, reg("in", "x"), reg("../up", "x"))))),
			member: "n.tar!/../up"},
		{name: "symlink in directory", files: map[string][]byte{"a.txt": []byte("a"), "c.txt": []byte("c")}, link: "b-link", member: "b-link"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			root := dir
			if c.data != nil {
				root = writeFile(t, dir, "a.tar.gz", c.data)
			}
			for name, data := range c.files {
				writeFile(t, dir, name, data)
			}
			if c.link != "" {
				if err := os.Symlink("a.txt", filepath.Join(dir, c.link)); err != nil {
					t.Fatal(err)
				}
			}
			var names []string
			err := Walk(context.Background(), root, Options{Nested: true}, func(m Member, r io.Reader) error {
				names = append(names, m.Path)
				return nil
			})
			e := mustError(t, err)
			t.Log(err)
			if !errors.Is(err, ErrUnsafe) {
				t.Errorf("err %v does not wrap ErrUnsafe", err)
			}
			if e.Member != c.member || !strings.Contains(err.Error(), c.member) {
				t.Errorf("Member %q, want %q (%v)", e.Member, c.member, err)
			}
			want := []string{"ok.txt"}
			if strings.HasPrefix(c.member, "n.tar") {
				want = []string{"ok.txt", c.member[:strings.Index(c.member, "!/")+2] + "in"}
			} else if c.files != nil {
				want = []string{"a.txt"}
			}
			if !slices.Equal(names, want) {
				t.Errorf("fn saw %q, want %q", names, want)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	root := writeFile(t, t.TempDir(), "c4.tar", tarOf(t, true, reg("ok", "x"), reg("c4/../evil", "x")))
	err := Walk(context.Background(), root, Options{}, func(Member, io.Reader) error { return nil })
	want := root + ": member c4/../evil: unsafe name (a .. component) (byte 1536)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// text returns about n bytes (whole lines) of deterministic JSONL-like text.
func text(seed uint64, n int) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	words := []string{"the", "answer", "is", "arc_easy", "logprob", "choice", "model", "token", "seed", "step"}
	var b strings.Builder
	for b.Len() < n {
		fmt.Fprintf(&b, "{\"doc_id\": %d, \"pred\": \"%s %s\", \"logits\": [%.6f, %.6f], \"label\": %d}\n",
			rng.IntN(100000), words[rng.IntN(10)], words[rng.IntN(10)], rng.Float64(), rng.Float64(), rng.IntN(4))
	}
	out := b.String()[:n]
	return out[:strings.LastIndexByte(out, '\n')+1]
}

func TestCorruption(t *testing.T) {
	big := text(1, 300_000)
	good := tgz(t, reg("big.jsonl", big), reg("small.jsonl", "s"))
	plain := tarOf(t, true, reg("a", strings.Repeat("a", 1000)), reg("b", "b"))
	flip := func(data []byte, i int) []byte {
		d := bytes.Clone(data)
		d[i] ^= 0xff
		return d
	}
	// readAll: fn reads everything; readSome: 10 bytes; readNone: nothing.
	readAll := func(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }
	readSome := func(r io.Reader) error { _, err := io.ReadFull(r, make([]byte, 10)); return err }
	readNone := func(io.Reader) error { return nil }

	const any = "*"
	cases := []struct {
		name   string
		data   []byte
		read   func(io.Reader) error
		want   []error // all must match (errors.Is); nil means any *Error
		member string  // wanted Error.Member, or any
		atEnd  bool    // Offset must be len(data)
	}{
		{"gzip cut in header", good[:5], readAll, nil, "", false},
		{"gzip cut after header", good[:12], readAll, []error{ErrTruncated, io.ErrUnexpectedEOF}, any, true},
		{"gzip cut mid-deflate", good[:len(good)/2], readAll, []error{ErrTruncated, io.ErrUnexpectedEOF}, "big.jsonl", true},
		{"gzip cut mid-deflate, fn reads part", good[:len(good)/2], readSome, []error{ErrTruncated}, "big.jsonl", true},
		{"gzip cut mid-deflate, fn reads nothing", good[:len(good)/2], readNone, []error{ErrTruncated}, "big.jsonl", true},
		{"gzip cut before trailer", good[:len(good)-8], readAll, []error{ErrTruncated}, "", true},
		{"gzip cut in trailer", good[:len(good)-3], readNone, []error{ErrTruncated}, "", true},
		{"gzip bad CRC", flip(good, len(good)-6), readNone, []error{gzip.ErrChecksum}, "", true},
		{"gzip bad size", flip(good, len(good)-1), readAll, []error{gzip.ErrChecksum}, "", true},
		{"gzip bad header flags", flip(good, 3), readAll, nil, "", false},
		{"gzip bad deflate data", flip(good, len(good)/3), readSome, nil, any, false},
		{"garbage after tar end in gzip", gz(t, append(tarOf(t, true, reg("a", "1")), "garbage"...)), readAll, nil, "", false},
		{"garbage after gzip stream", append(bytes.Clone(good), "garbage after the gzip stream"...), readAll, []error{gzip.ErrHeader}, "", false},
		{"tar cut mid-body", plain[:512+500], readAll, []error{ErrTruncated, io.ErrUnexpectedEOF}, "a", true},
		{"tar cut mid-body, fn reads nothing", plain[:512+500], readNone, []error{ErrTruncated}, "a", true},
		{"tar cut mid-header", plain[:1536+100], readAll, []error{ErrTruncated}, "", true},
		{"tar bad header checksum", flip(plain, 1536+148), readAll, []error{tar.ErrHeader}, "", false},
		{"not an archive", []byte("hello, world\n"), readAll, nil, "", false},
		{"empty file", nil, readAll, nil, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := writeFile(t, t.TempDir(), "x.tar.gz", c.data)
			err := Walk(context.Background(), root, Options{}, func(m Member, r io.Reader) error { return c.read(r) })
			e := mustError(t, err)
			t.Log(err)
			for _, w := range c.want {
				if !errors.Is(err, w) {
					t.Errorf("%v does not wrap %v", err, w)
				}
			}
			if c.member != any && e.Member != c.member {
				t.Errorf("Member %q, want %q (%v)", e.Member, c.member, err)
			}
			if c.atEnd && e.Offset != int64(len(c.data)) {
				t.Errorf("Offset %d, want %d", e.Offset, len(c.data))
			}
			if e.Path != root {
				t.Errorf("Path %q", e.Path)
			}
		})
	}
}

func TestNestedTruncation(t *testing.T) {
	inner := tgz(t, reg("in.jsonl", text(2, 200_000)))
	root := writeFile(t, t.TempDir(), "o.tar", tarOf(t, true, reg("n.tar.gz", string(inner[:len(inner)/2]))))
	err := Walk(context.Background(), root, Options{Nested: true}, func(m Member, r io.Reader) error { return nil })
	e := mustError(t, err)
	if !errors.Is(err, ErrTruncated) || e.Member != "n.tar.gz!/in.jsonl" {
		t.Errorf("got %v (member %q)", err, e.Member)
	}
}

func TestFnError(t *testing.T) {
	sentinel := errors.New("stop here")
	dir := t.TempDir()
	archive := writeFile(t, dir, "a.tgz", tgz(t, reg("a", "1"), reg("b", "2")))
	writeFile(t, dir, "d/a", []byte("1"))
	writeFile(t, dir, "d/b", []byte("2"))
	for _, root := range []string{archive, filepath.Join(dir, "d")} {
		for _, want := range []error{sentinel, fs.SkipAll, fs.SkipDir} {
			var calls int
			err := Walk(context.Background(), root, Options{}, func(Member, io.Reader) error { calls++; return want })
			if err != want || calls != 1 {
				t.Errorf("%s: got %v after %d calls, want %v unchanged after 1", root, err, calls, want)
			}
		}
	}
}

func TestCancel(t *testing.T) {
	root := writeFile(t, t.TempDir(), "a.tgz", tgz(t, reg("a", "1"), reg("b", "2")))
	ctx, cancel := context.WithCancel(context.Background())
	var calls int
	err := Walk(ctx, root, Options{}, func(Member, io.Reader) error { calls++; cancel(); return nil })
	mustError(t, err)
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("got %v after %d calls", err, calls)
	}
}

// TestCancelMidMember: ctx is cancelled while fn reads a big member, and fn
// swallows the error it gets; Walk must still return it, promptly.
func TestCancelMidMember(t *testing.T) {
	root := writeFile(t, t.TempDir(), "a.tgz", tgz(t, reg("big", text(4, 12<<20)), reg("after", "x")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var readErr error
	var calls int
	done := make(chan error, 1)
	go func() {
		done <- Walk(ctx, root, Options{}, func(m Member, r io.Reader) error {
			calls++
			cancel()
			_, readErr = io.Copy(io.Discard, r)
			return nil // swallowed
		})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !errors.Is(readErr, context.Canceled) || calls != 1 {
			t.Errorf("Walk: %v; fn read: %v; calls %d", err, readErr, calls)
		}
		mustError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("Walk did not return after cancel")
	}
}

func TestProgress(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	noise := make([]byte, 13<<20) // incompressible, so the file is > 3 ticks
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	dir := t.TempDir()
	archive := writeFile(t, dir, "a.tgz", tgz(t, reg("noise", string(noise)), reg("b", "2")))
	writeFile(t, dir, "d/a", noise)
	writeFile(t, dir, "d/b", []byte("tail"))
	for _, root := range []string{archive, filepath.Join(dir, "d")} {
		var calls [][2]int64
		opts := Options{Nested: true, Progress: func(done, total int64) { calls = append(calls, [2]int64{done, total}) }}
		if _, err := collect(root, opts); err != nil {
			t.Fatal(err)
		}
		if len(calls) < 3 {
			t.Fatalf("%s: only %d calls: %v", root, len(calls), calls)
		}
		last := calls[len(calls)-1]
		if last[0] != last[1] || last[1] < int64(len(noise)) {
			t.Errorf("%s: last call %v", root, last)
		}
		for i := 1; i < len(calls)-1; i++ {
			if calls[i][0]-calls[i-1][0] < tickBytes {
				t.Errorf("%s: calls too close: %v", root, calls)
			}
		}
	}
}

// TestSwappedWhileWalking: a folder's file replaced after the folder was
// listed (here by fn, while it reads an earlier file) is refused when what
// Walk opened is not what the folder now holds, or is not a regular file.
func TestSwappedWhileWalking(t *testing.T) {
	const secret = "outside the root"
	cases := []struct {
		name string
		swap func(t *testing.T, p, outside string)
	}{
		{"by a symlink to a file outside", func(t *testing.T, p, outside string) {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, p); err != nil {
				t.Fatal(err)
			}
		}},
		{"by a folder", func(t *testing.T, p, _ string) {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "root")
			outside := writeFile(t, filepath.Dir(dir), "secret.txt", []byte(secret))
			writeFile(t, dir, "a.txt", []byte("a"))
			b := writeFile(t, dir, "b.txt", []byte("b"))
			writeFile(t, dir, "c.txt", []byte("c"))
			var got []seen
			err := Walk(context.Background(), dir, Options{}, func(m Member, r io.Reader) error {
				body, err := io.ReadAll(r)
				got = append(got, seen{m.Path, m.Chain, m.Size, string(body)})
				if m.Path == "a.txt" {
					c.swap(t, b, outside)
				}
				return err
			})
			if want := []seen{s("a.txt", "a")}; !slices.EqualFunc(got, want, func(a, b seen) bool {
				return a.Path == b.Path && a.Body == b.Body
			}) {
				t.Errorf("fn saw %+v, want %+v", got, want)
			}
			e := mustError(t, err)
			if !errors.Is(err, ErrUnsafe) || e.Member != "b.txt" {
				t.Errorf("Walk = %v (member %q), want ErrUnsafe on b.txt", err, e.Member)
			}
		})
	}
}

// TestRootSymlink: a root that is a symlink, to a folder or an archive, is
// followed (and the paths are relative to it); symlinks below it are not.
func TestRootSymlink(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "dump/a.jsonl", []byte("a"))
	writeFile(t, dir, "dump/sub/b.jsonl", []byte("bb"))
	writeFile(t, dir, "bad/a.jsonl", []byte("a"))
	writeFile(t, dir, "arch.tgz", tgz(t, reg("m.jsonl", "m")))
	for _, l := range []struct{ link, target string }{
		{"link", "dump"}, {"link2", "link"}, {"abs-link", filepath.Join(dir, "dump")},
		{"bad-link", "bad"}, {"bad/inner", "../dump/a.jsonl"}, {"arch-link", "arch.tgz"},
	} {
		if err := os.Symlink(l.target, filepath.Join(dir, l.link)); err != nil {
			t.Fatal(err)
		}
	}
	dumpWant := []seen{s("a.jsonl", "a"), s("sub/b.jsonl", "bb")}
	cases := []struct {
		root   string
		want   []seen
		member string // refused member, "" for success
	}{
		{root: "dump", want: dumpWant},
		{root: "link", want: dumpWant},
		{root: "link/", want: dumpWant},
		{root: "link2", want: dumpWant},
		{root: "abs-link", want: dumpWant},
		{root: "arch-link", want: []seen{s("m.jsonl", "m")}},
		{root: "bad-link", want: []seen{s("a.jsonl", "a")}, member: "inner"},
		{root: "bad-link/", want: []seen{s("a.jsonl", "a")}, member: "inner"},
	}
	for _, c := range cases {
		t.Run(c.root, func(t *testing.T) {
			root := filepath.Join(dir, c.root)
			if strings.HasSuffix(c.root, "/") {
				root += string(filepath.Separator)
			}
			got, err := collect(root, Options{})
			if c.member == "" && err != nil {
				t.Fatalf("Walk(%q): %v", root, err)
			}
			if c.member != "" {
				e := mustError(t, err)
				if !errors.Is(err, ErrUnsafe) || e.Member != c.member {
					t.Errorf("Walk(%q) = %v (member %q), want ErrUnsafe on %q", root, err, e.Member, c.member)
				}
			}
			if !slices.EqualFunc(got, c.want, func(a, b seen) bool {
				return a.Path == b.Path && slices.Equal(a.Chain, b.Chain) && a.Size == b.Size && a.Body == b.Body
			}) {
				t.Errorf("Walk(%q) saw %+v, want %+v", root, got, c.want)
			}
		})
	}
}

// TestMissingRoot: a root that does not exist, or a dangling symlink, is an
// *Error wrapping fs.ErrNotExist, at no offset.
func TestMissingRoot(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("nowhere", filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"missing", "missing.tar.gz", "dangling", "dangling/"} {
		root := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			root += string(filepath.Separator)
		}
		var calls int
		err := Walk(context.Background(), root, Options{}, func(Member, io.Reader) error { calls++; return nil })
		e := mustError(t, err)
		if !errors.Is(err, fs.ErrNotExist) || e.Path != root || e.Member != "" || e.Offset != -1 || calls != 0 {
			t.Errorf("Walk(%q) = %v (path %q, member %q, offset %d, %d calls); want ErrNotExist on the root, offset -1",
				root, err, e.Path, e.Member, e.Offset, calls)
		}
	}
}
