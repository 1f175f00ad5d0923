package fs

import (
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
