package tarstream

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// refusedName is the package doc's rule for member names, written apart
// from unsafeName: empty, absolute, a drive or UNC prefix, or a ".."
// component, with / and \ both separators.
func refusedName(name string) bool {
	if name == "" || name[0] == '/' || name[0] == '\\' {
		return true
	}
	if len(name) >= 2 && name[1] == ':' && strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", rune(name[0])) {
		return true
	}
	return slices.Contains(strings.Split(strings.ReplaceAll(name, `\`, "/"), "/"), "..")
}

func TestRefusedName(t *testing.T) {
	for _, c := range []struct {
		name string
		want bool
	}{
		{"", true}, {"/etc/passwd", true}, {`\x`, true}, {`\\host\share`, true}, {"C:x", true}, {"z:", true},
		{"..", true}, {"a/..", true}, {`a\..\b`, true}, {"a/../b", true},
		{"a", false}, {"a/b", false}, {"..a", false}, {"a..", false}, {"a/.../b", false}, {"1:x", false}, {"a/C:", false}, {".", false},
	} {
		if got, why := refusedName(c.name), unsafeName(c.name); got != c.want || (why != "") != c.want {
			t.Errorf("refusedName(%q) = %v, unsafeName = %q; want refused %v", c.name, got, why, c.want)
		}
	}
}

// checkMember fails t when Walk handed fn a member it must have refused.
func checkMember(t *testing.T, m Member) {
	t.Helper()
	if len(m.Chain) == 0 || m.Path != strings.Join(m.Chain, chainSep) {
		t.Fatalf("member %q has chain %q", m.Path, m.Chain)
	}
	for _, name := range m.Chain {
		if refusedName(name) {
			t.Fatalf("Walk handed fn member %q: its name %q must be refused", m.Path, name)
		}
	}
}

// checkError fails t unless err is an *Error about root whose offset lies
// within the size bytes of the input.
func checkError(t *testing.T, err error, root string, size int) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if e.Path != root || e.Offset < 0 || e.Offset > int64(size) {
		t.Fatalf("error %v: Path %q, Offset %d; want %q and an offset in [0, %d]", err, e.Path, e.Offset, root, size)
	}
	return e
}

// stdlibMembers reads an archive with archive/tar (through compress/gzip
// when it starts with the gzip magic): the regular members, with their
// bodies, and the names of any others but directories and global headers.
func stdlibMembers(data []byte) (regular []seen, other []string, err error) {
	var r io.Reader = bytes.NewReader(data)
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		z, err := gzip.NewReader(bufio.NewReader(r))
		if err != nil {
			return nil, nil, err
		}
		r = z
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return regular, other, nil
		}
		if err != nil {
			return nil, nil, err
		}
		switch hdr.Typeflag {
		case tar.TypeDir, tar.TypeXGlobalHeader:
			if refusedName(hdr.Name) {
				other = append(other, hdr.Name)
			}
		case tar.TypeReg, '\x00':
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, nil, err
			}
			regular = append(regular, seen{hdr.Name, []string{hdr.Name}, hdr.Size, string(b)})
		default:
			other = append(other, hdr.Name)
		}
	}
}

// headerNames is the name of every header archive/tar reads in a plain tar.
func headerNames(t *testing.T, data []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("archive/tar cannot read back what it wrote: %v", err)
		}
		names = append(names, hdr.Name)
	}
}

func sameSeen(a, b seen) bool {
	return a.Path == b.Path && slices.Equal(a.Chain, b.Chain) && a.Size == b.Size && a.Body == b.Body
}

// FuzzWalk: on arbitrary bytes, Walk never hands fn a member whose name it
// must refuse, and either succeeds or returns an *Error whose offset lies
// within the input. A flat walk that succeeds yields exactly the regular
// members archive/tar reads, with their bytes, and nothing archive/tar
// reads is a link, device or unsafe name.
func FuzzWalk(f *testing.F) {
	f.Add(tgz(f, reg("a.jsonl", "{}\n"), reg("b", "")))
	f.Add(tarOf(f, true, entry{name: "d/", typ: tar.TypeDir}, reg("d/x", "xyz")))
	f.Add(tgz(f, reg("n.tar.gz", string(tgz(f, reg("in", "1")))), reg("n2.tar", string(tarOf(f, true, reg("in2", "2"))))))
	f.Add(tgz(f, reg("ok", "1"), reg("../evil", "x")))
	f.Add(tgz(f, reg("n.tgz", string(tgz(f, reg("in", "1"), entry{name: "l", typ: tar.TypeSymlink, link: "/etc"})))))
	f.Add(gz(f, tarOf(f, true, reg("a", "1"))[:700]))
	f.Add([]byte("\x1f\x8b"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		root := filepath.Join(dir, "in.tar.gz")
		if err := os.WriteFile(root, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, nested := range []bool{false, true} {
			var got []seen
			err := Walk(context.Background(), root, Options{Nested: nested}, func(m Member, r io.Reader) error {
				checkMember(t, m)
				b, err := io.ReadAll(r)
				if err == nil && int64(len(b)) != m.Size {
					t.Fatalf("member %q: read %d bytes, Size %d", m.Path, len(b), m.Size)
				}
				got = append(got, seen{m.Path, m.Chain, m.Size, string(b)})
				return err
			})
			if err != nil {
				checkError(t, err, root, len(data))
				continue
			}
			if nested {
				continue
			}
			want, other, serr := stdlibMembers(data)
			if serr != nil {
				t.Fatalf("Walk succeeded, archive/tar fails: %v", serr)
			}
			if len(other) > 0 {
				t.Fatalf("Walk succeeded over members it must refuse: %q", other)
			}
			if !slices.EqualFunc(got, want, sameSeen) {
				t.Fatalf("Walk saw %+v\narchive/tar reads %+v", got, want)
			}
		}
	})
}

// memberKinds are the typeflags FuzzWalkMembers builds, chosen by a byte.
var memberKinds = []byte{tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeFifo, '\x00'}

// FuzzWalkMembers builds a valid archive from fuzzed member names ("\n"
// between them), kinds and contents (body split evenly between the
// members). Walk must yield exactly the regular members before the first
// one it must refuse, with their exact bytes, skip directories, and refuse
// that first one (an unsafe name, a link, a FIFO) with an *Error wrapping
// ErrUnsafe that names it.
func FuzzWalkMembers(f *testing.F) {
	f.Add("a.jsonl\nb/c.txt", []byte{0, 0}, []byte("hello, world"), true)
	f.Add("d/\nd/x\ny", []byte{1, 0, 5}, []byte("xyz"), false)
	f.Add("ok\n../evil\nafter", []byte{}, []byte("123456"), true)
	f.Add("ok\nlnk\nafter", []byte{0, 2}, []byte("123"), true)
	f.Add("ok\nhl", []byte{0, 3}, []byte("12"), false)
	f.Add("ok\nfifo", []byte{0, 4}, []byte("12"), true)
	f.Add(`a\..\b`, []byte{0}, []byte("x"), true)
	f.Add("/abs", []byte{1}, []byte(""), false)
	f.Add("C:x", []byte{0}, []byte("x"), true)
	f.Add("", []byte{0}, []byte("x"), true)
	f.Add("a/..b/c..\n"+strings.Repeat("long/", 40)+"name", []byte{0, 0}, []byte("two members"), true)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, names string, kinds, body []byte, compress bool) {
		list := strings.Split(names, "\n")
		if len(list) > 16 {
			list = list[:16]
		}
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		var want []seen
		var refused string // first member Walk must refuse
		stopped := false
		for i, name := range list {
			content := body[i*len(body)/len(list) : (i+1)*len(body)/len(list)]
			typ := byte(tar.TypeReg)
			if i < len(kinds) {
				typ = memberKinds[int(kinds[i])%len(memberKinds)]
			}
			// archive/tar writes an old regular ('\x00') named with a
			// trailing / as a directory, and any other as a regular file.
			regular := typ == tar.TypeReg || typ == '\x00' && !strings.HasSuffix(name, "/")
			hdr := &tar.Header{Name: name, Typeflag: typ, Mode: 0o644}
			switch {
			case regular:
				hdr.Size = int64(len(content))
			case typ == tar.TypeSymlink, typ == tar.TypeLink:
				hdr.Linkname = "target"
			}
			if err := tw.WriteHeader(hdr); err != nil {
				t.Skipf("archive/tar cannot write %q: %v", name, err)
			}
			if hdr.Size > 0 {
				if _, err := tw.Write(content); err != nil {
					t.Fatal(err)
				}
			}
			if stopped {
				continue
			}
			switch {
			case refusedName(name), typ == tar.TypeSymlink, typ == tar.TypeLink, typ == tar.TypeFifo:
				refused, stopped = name, true
			case regular:
				want = append(want, seen{name, []string{name}, int64(len(content)), string(content)})
			}
		}
		if err := tw.Close(); err != nil {
			t.Skipf("archive/tar cannot close: %v", err)
		}
		data := buf.Bytes()
		if compress {
			data = gz(t, data)
		}
		// The harness relies on archive/tar to carry names as written.
		if back := headerNames(t, buf.Bytes()); !slices.Equal(back, list) {
			t.Skipf("archive/tar reads back names %q, not %q", back, list)
		}
		root := filepath.Join(dir, "in.tar.gz")
		if err := os.WriteFile(root, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var got []seen
		err := Walk(context.Background(), root, Options{}, func(m Member, r io.Reader) error {
			checkMember(t, m)
			b, err := io.ReadAll(r)
			got = append(got, seen{m.Path, m.Chain, m.Size, string(b)})
			return err
		})
		if !slices.EqualFunc(got, want, sameSeen) {
			t.Errorf("Walk saw %+v\nwant %+v", got, want)
		}
		if !stopped {
			if err != nil {
				t.Fatalf("Walk: %v", err)
			}
			return
		}
		e := checkError(t, err, root, len(data))
		if !errors.Is(err, ErrUnsafe) || e.Member != refused {
			t.Fatalf("Walk = %v (member %q), want ErrUnsafe on %q", err, e.Member, refused)
		}
	})
}
