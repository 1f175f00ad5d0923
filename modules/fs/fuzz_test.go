package fs

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzResolveStaysInRoot plants symlinks with fuzzed targets inside a root
// and resolves fuzzed paths through both resolvers: whatever opens must be
// an object inside the root (checked by device and inode against a walk of
// the tree), never the host directory beside it.
func FuzzResolveStaysInRoot(f *testing.F) {
	for _, s := range [][3]string{
		{"a/b", "..", "a/b/../../.."},
		{"l", "/", "l/../../etc"},
		{"x", "../../host", "x/passwd"},
		{"d/l", "../../../host/etc", "d/l/passwd"},
		{"l", "l", "l/l/l"},
		{"s", "/s/s", "s"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, linkAt, target, p string) {
		if len(linkAt) > 64 || len(target) > 128 || len(p) > 256 || strings.ContainsRune(linkAt+target+p, 0) {
			return
		}
		base := t.TempDir()
		root, host := filepath.Join(base, "root"), filepath.Join(base, "host")
		for _, d := range []string{root + "/etc", root + "/a/b", host + "/etc"} {
			os.MkdirAll(d, 0o755)
		}
		os.WriteFile(host+"/etc/passwd", []byte("host"), 0o644)
		os.Symlink(host, root+"/hostlink")
		if rel := Clean(linkAt); rel != "." {
			os.MkdirAll(filepath.Join(root, filepath.Dir(rel)), 0o755)
			os.Symlink(target, filepath.Join(root, rel))
		}
		inside := map[[2]uint64]bool{}
		filepath.Walk(root, func(q string, fi os.FileInfo, err error) error {
			var st unix.Stat_t
			if err == nil && unix.Lstat(q, &st) == nil {
				inside[[2]uint64{uint64(st.Dev), uint64(st.Ino)}] = true
			}
			return nil
		})
		r, err := OpenRoot(root)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for _, walkOnly := range []bool{false, true} {
			forceWalk = walkOnly
			fd, err := resolve(r.Fd(), Clean(p), pathOpenFlags)
			forceWalk = false
			if err != nil {
				continue
			}
			var st unix.Stat_t
			unix.Fstat(fd, &st)
			unix.Close(fd)
			if !inside[[2]uint64{uint64(st.Dev), uint64(st.Ino)}] {
				t.Fatalf("walk=%v: %q (link %q -> %q) resolved outside the root", walkOnly, p, linkAt, target)
			}
		}
	})
}

// FuzzUntarStaysInRoot extracts fuzzed archives (a link entry, then a file
// or hard link entry whose names and targets are fuzzed) and checks that
// nothing outside the root was created or changed.
func FuzzUntarStaysInRoot(f *testing.F) {
	f.Add("l", "../host", "l/passwd", "", uint8(0), uint8(0))
	f.Add("a/l", "/", "a/l/etc/x", "", uint8(1), uint8(1))
	f.Add("l", "../../host/etc/passwd", "h", "l", uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, linkName, linkTarget, name, hardTarget string, kind, strip uint8) {
		if len(linkName)+len(linkTarget)+len(name)+len(hardTarget) > 256 {
			return
		}
		base := t.TempDir()
		root, host := filepath.Join(base, "root"), filepath.Join(base, "host")
		os.MkdirAll(root+"/etc", 0o755)
		os.MkdirAll(host+"/etc", 0o755)
		os.WriteFile(host+"/etc/passwd", []byte("host"), 0o644)
		second := entry{name: name, typ: tar.TypeReg, body: "pwned"}
		if kind%2 == 1 {
			second = entry{name: name, typ: tar.TypeLink, link: hardTarget}
		}
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, e := range []entry{{name: linkName, typ: tar.TypeSymlink, link: linkTarget}, second} {
			h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, Size: int64(len(e.body))}
			if e.typ != tar.TypeReg {
				h.Size = 0
			}
			if tw.WriteHeader(h) != nil {
				return
			}
			tw.Write([]byte(e.body))
		}
		tw.Close()
		src := filepath.Join(base, "a.tar")
		os.WriteFile(src, buf.Bytes(), 0o644)
		r, err := OpenRoot(root)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		r.Untar(src, "/", int(strip%3))
		if b, _ := os.ReadFile(host + "/etc/passwd"); string(b) != "host" {
			t.Fatalf("host file changed to %q", b)
		}
		ents, _ := os.ReadDir(base)
		for _, e := range ents {
			if n := e.Name(); n != "root" && n != "host" && n != "a.tar" {
				t.Fatalf("created %s beside the root", n)
			}
		}
		hents, _ := os.ReadDir(host)
		if len(hents) != 1 {
			t.Fatalf("host dir changed: %v", hents)
		}
		hetc, _ := os.ReadDir(host + "/etc")
		if len(hetc) != 1 {
			t.Fatalf("host etc changed: %v", hetc)
		}
	})
}
