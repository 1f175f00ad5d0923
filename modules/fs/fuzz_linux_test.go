package fs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzResolveInRoot: whatever the name, a resolution that succeeds ends
// inside the root, and the kernel's resolver (openat2) and the userland
// walk agree on the object or both fail.
func FuzzResolveInRoot(f *testing.F) {
	for _, s := range []string{"", ".", "/", "a/b", "../..", "abs/x", "up/../etc", "srvlink/../../..",
		"loop", "dangle", "pw", "/absetc//./passwd", "srv/www/../../up/host", strings.Repeat("up/", 50)} {
		f.Add(s)
	}
	base := f.TempDir()
	root := filepath.Join(base, "root")
	for _, d := range []string{"etc", "srv/www", "host", "a/b"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("x"), 0o644)
	for name, target := range map[string]string{
		"abs": base, "absetc": "/etc", "up": "../../..", "loop": "loop", "dangle": "/no/where",
		"srvlink": "srv/www", "pw": "/etc/passwd", "a/b/back": "../../..", "a/ring": "/a/ring2", "a/ring2": "ring",
	} {
		os.Symlink(target, filepath.Join(root, name))
	}
	r, err := OpenRoot(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { r.Close() })
	f.Fuzz(func(t *testing.T, rel string) {
		if strings.ContainsRune(rel, 0) || len(rel) > 4096 {
			return
		}
		rel = Clean(rel)
		kfd, kerr := resolve(r.Fd(), rel, dirOpenFlags)
		wfd, werr := walk(r.Fd(), rel, dirOpenFlags)
		if (kerr == nil) != (werr == nil) {
			t.Fatalf("%q: openat2 err %v, walk err %v", rel, kerr, werr)
		}
		if kerr != nil {
			return
		}
		kf, wf := os.NewFile(uintptr(kfd), "k"), os.NewFile(uintptr(wfd), "w")
		defer kf.Close()
		defer wf.Close()
		ks, _ := kf.Stat()
		ws, _ := wf.Stat()
		if !os.SameFile(ks, ws) {
			t.Fatalf("%q: openat2 and walk resolved to different objects", rel)
		}
		real, err := RealPath(kf)
		if err != nil {
			t.Fatal(err)
		}
		if real != root && !strings.HasPrefix(real, root+"/") {
			t.Fatalf("%q resolved outside the root: %s", rel, real)
		}
	})
}
