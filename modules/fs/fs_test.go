package fs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// tree builds a fake cell root and a "host" directory beside it; the links
// inside the root all aim at the host or above the root.
func tree(t *testing.T) (root, host string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "root")
	host = filepath.Join(base, "host")
	for _, d := range []string{root + "/etc", root + "/srv/www", host + "/etc"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, root+"/etc/passwd", "cell-passwd\n")
	write(t, host+"/etc/passwd", "host-passwd\n")
	links := map[string]string{
		"abs":     host,                 // absolute: must restart at the root
		"absetc":  "/etc",               // the cell's /etc, not the host's
		"up":      "../../../../../..",  // clamped at the root
		"uphost":  "../host",            // above the root: clamped
		"loop":    "loop",               // ELOOP
		"dangle":  "/nowhere/at/all",    // dangling
		"srvlink": "srv/www",            // inside, relative
		"pw":      host + "/etc/passwd", // a file link pointing out
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	return root, host
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// bothResolvers runs f with the kernel resolver (where there is one) and
// with the userland walk.
func bothResolvers(t *testing.T, f func(t *testing.T)) {
	t.Run("native", f)
	t.Run("walk", func(t *testing.T) {
		old := forceWalk
		forceWalk = true
		t.Cleanup(func() { forceWalk = old })
		f(t)
	})
}

func sameAs(t *testing.T, f *os.File, want string) {
	t.Helper()
	got, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	w, err := os.Stat(want)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(got, w) {
		t.Fatalf("%s resolved to a different object than %s", f.Name(), want)
	}
}

func TestOpenDirStaysInRoot(t *testing.T) {
	bothResolvers(t, func(t *testing.T) {
		root, host := tree(t)
		os.MkdirAll(filepath.Join(root, host), 0o755) // the host path, mirrored inside
		r, err := OpenRoot(root)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		cases := map[string]string{
			".":            root,
			"/":            root,
			"etc":          root + "/etc",
			"/srv/www":     root + "/srv/www",
			"srvlink":      root + "/srv/www",
			"absetc":       root + "/etc",
			"up":           root,
			"up/etc":       root + "/etc",
			"uphost":       root, // ../host from the root is the root's "host" - absent
			"abs":          filepath.Join(root, host),
			"srv/../../..": root,
		}
		for rel, want := range cases {
			if rel == "uphost" {
				continue
			}
			f, err := r.OpenDir(rel)
			if err != nil {
				t.Fatalf("OpenDir(%q): %v", rel, err)
			}
			sameAs(t, f, want)
			f.Close()
		}
		if _, err := r.OpenDir("uphost"); !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("OpenDir(uphost) = %v, want ENOENT (../host clamped at the root)", err)
		}
		if _, err := r.OpenDir("loop"); !errors.Is(err, syscall.ELOOP) {
			t.Fatalf("OpenDir(loop) = %v, want ELOOP", err)
		}
		if _, err := r.OpenDir("dangle"); !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("OpenDir(dangle) = %v, want ENOENT", err)
		}
		if _, err := r.OpenDir("etc/passwd"); !errors.Is(err, syscall.ENOTDIR) {
			t.Fatalf("OpenDir(etc/passwd) = %v, want ENOTDIR", err)
		}
	})
}

func TestMkdirAllNeverCreatesOutside(t *testing.T) {
	bothResolvers(t, func(t *testing.T) {
		root, host := tree(t)
		r, err := OpenRoot(root)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		// "abs" names the host directory by its absolute path, which
		// inside the root is <root><host>: absent, so the link dangles
		// and nothing is created anywhere.
		if _, err := r.MkdirAll("/abs/new", 0o755); !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("MkdirAll through a dangling link = %v, want ENOENT", err)
		}
		if _, err := os.Stat(filepath.Join(host, "new")); !os.IsNotExist(err) {
			t.Fatalf("host directory was written to: %v", err)
		}
		os.MkdirAll(filepath.Join(root, host), 0o755)
		f, err := r.MkdirAll("/abs/new/deeper", 0o755)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sameAs(t, f, filepath.Join(root, host, "new/deeper"))
		if _, err := os.Stat(filepath.Join(host, "new")); !os.IsNotExist(err) {
			t.Fatalf("host directory was written to: %v", err)
		}
		if _, err := r.MkdirAll("uphost/x", 0o755); !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("MkdirAll(uphost/x) = %v, want ENOENT (../host is <root>/host, absent)", err)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(root), "host/x")); !os.IsNotExist(err) {
			t.Fatalf("../host/x escaped the root: %v", err)
		}
		os.Mkdir(filepath.Join(root, "host"), 0o755)
		g, err := r.MkdirAll("uphost/x", 0o755)
		if err != nil {
			t.Fatal(err)
		}
		g.Close()
		if _, err := os.Stat(filepath.Join(root, "host/x")); err != nil {
			t.Fatalf("../host/x should land in the root: %v", err)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(root), "host/x")); !os.IsNotExist(err) {
			t.Fatalf("../host/x escaped the root: %v", err)
		}
		if _, err := r.MkdirAll("etc/passwd/x", 0o755); !errors.Is(err, syscall.ENOTDIR) {
			t.Fatalf("MkdirAll through a file = %v, want ENOTDIR", err)
		}
		if _, err := r.MkdirAll("dangle/x", 0o755); err == nil {
			t.Fatal("MkdirAll through a dangling link succeeded")
		}
	})
}

func TestReadFileStaysInRoot(t *testing.T) {
	bothResolvers(t, func(t *testing.T) {
		root, _ := tree(t)
		r, err := OpenRoot(root)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for _, rel := range []string{"etc/passwd", "/absetc/passwd", "up/up/etc/passwd"} {
			b, err := r.ReadFile(rel, 1<<20)
			if err != nil || string(b) != "cell-passwd\n" {
				t.Fatalf("ReadFile(%q) = %q, %v; want the cell's passwd", rel, b, err)
			}
		}
		if b, err := r.ReadFile("pw", 1<<20); err == nil {
			t.Fatalf("ReadFile(pw) read %q through a link to the host", b)
		}
		if _, err := r.ReadFile("etc/passwd", 3); err == nil || !strings.Contains(err.Error(), "larger than 3 bytes") {
			t.Fatalf("size cap: %v", err)
		}
		if err := syscall.Mkfifo(filepath.Join(root, "etc/fifo"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ReadFile("etc/fifo", 10); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("fifo: %v", err)
		}
		if _, err := r.ReadFile("etc", 10); err == nil {
			t.Fatal("ReadFile of a directory succeeded")
		}
	})
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{"/": ".", "": ".", "/a/b": "a/b", "a/../../b": "b", "/../x/": "x"} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}
