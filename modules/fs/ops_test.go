package fs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func openRoot(t *testing.T, dir string) *Root {
	t.Helper()
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func readString(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteFileAtomicAndIdempotent(t *testing.T) {
	bothResolvers(t, func(t *testing.T) {
		root, _ := tree(t)
		r := openRoot(t, root)
		ch, err := r.WriteFile("/var/www/index.html", []byte("hello"), 0o640)
		if err != nil || !ch {
			t.Fatalf("first write = %v, %v", ch, err)
		}
		p := filepath.Join(root, "var/www/index.html")
		if got := readString(t, p); got != "hello" {
			t.Fatalf("content %q", got)
		}
		fi, _ := os.Stat(p)
		if fi.Mode().Perm() != 0o640 {
			t.Fatalf("mode %v, want 0640", fi.Mode())
		}
		if d, _ := os.Stat(filepath.Join(root, "var/www")); d.Mode().Perm() != 0o755 {
			t.Fatalf("parent mode %v", d.Mode())
		}
		if ch, err := r.WriteFile("/var/www/index.html", []byte("hello"), 0o600); err != nil || ch {
			t.Fatalf("same content: changed=%v err=%v", ch, err)
		}
		os.Chmod(p, 0o604)
		if ch, err := r.WriteFile("/var/www/index.html", []byte("bye"), 0o600); err != nil || !ch {
			t.Fatalf("new content: changed=%v err=%v", ch, err)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o604 {
			t.Fatalf("existing mode not kept: %v", fi.Mode())
		}
		ents, _ := os.ReadDir(filepath.Join(root, "var/www"))
		if len(ents) != 1 {
			t.Fatalf("temporary files left: %v", ents)
		}
		if _, err := r.WriteFile("/etc", []byte("x"), 0o644); !errors.Is(err, syscall.EISDIR) {
			t.Fatalf("write over a directory = %v", err)
		}
	})
}

// TestWritesNeverLeaveRoot plants links to the host and checks that no
// write operation reaches the host file.
func TestWritesNeverLeaveRoot(t *testing.T) {
	bothResolvers(t, func(t *testing.T) {
		root, host := tree(t)
		r := openRoot(t, root)
		hostPw := filepath.Join(host, "etc/passwd")
		os.Symlink(filepath.Join(host, "etc"), filepath.Join(root, "hostetc"))
		os.Symlink("../../host/etc", filepath.Join(root, "etc/rel"))
		hostFile := filepath.Join(host, "etc/newfile")
		ops := map[string]func() error{
			"write via abs link": func() error { _, err := r.WriteFile("/hostetc/passwd", []byte("pwned"), 0o644); return err },
			"write via rel link": func() error { _, err := r.WriteFile("/etc/rel/passwd", []byte("pwned"), 0o644); return err },
			"write via ..":       func() error { _, err := r.WriteFile("/../host/etc/passwd", []byte("pwned"), 0o644); return err },
			"write final link":   func() error { _, err := r.WriteFile("/pw", []byte("pwned"), 0o644); return err },
			"line via link":      func() error { _, err := r.AppendLine("/hostetc/passwd", "pwned"); return err },
			"line final link":    func() error { _, err := r.AppendLine("/pw", "pwned"); return err },
			"symlink via link":   func() error { _, err := r.Symlink("/x", "/hostetc/newfile"); return err },
			"copy via link": func() error {
				_, err := r.CopyFromHost(filepath.Join(root, "etc/passwd"), "/etc/rel/newfile")
				return err
			},
			"mkdir via link":   func() error { f, err := r.MkdirAll("/hostetc/newfile", 0o755); f.Close(); return err },
			"chmod final link": func() error { return r.Chmod("/pw", 0o777) },
			"chown final link": func() error { return r.Chown("/pw", os.Getuid(), os.Getgid()) },
			"remove via link":  func() error { _, err := r.Remove("/hostetc/passwd"); return err },
			"write via dotdot rel": func() error {
				_, err := r.WriteFile("/etc/rel/../../../host/etc/passwd", []byte("pwned"), 0o644)
				return err
			},
		}
		before, _ := os.Stat(hostPw)
		for name, op := range ops {
			op() // failing or landing inside are both fine; the host must not change
			if got := readString(t, hostPw); got != "host-passwd\n" {
				t.Fatalf("%s: host passwd is now %q", name, got)
			}
			if _, err := os.Lstat(hostFile); !os.IsNotExist(err) {
				t.Fatalf("%s: created %s on the host", name, hostFile)
			}
			if fi, _ := os.Stat(hostPw); fi.Mode() != before.Mode() {
				t.Fatalf("%s: host passwd mode changed to %v", name, fi.Mode())
			}
		}
		// The final-component link was replaced by a file inside the root.
		if fi, err := os.Lstat(filepath.Join(root, "pw")); err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("/pw should now be a regular file in the root: %v %v", fi, err)
		}
	})
}

func TestAppendLine(t *testing.T) {
	bothResolvers(t, func(t *testing.T) {
		root, _ := tree(t)
		r := openRoot(t, root)
		p := filepath.Join(root, "etc/rc.conf")
		os.WriteFile(p, []byte("a=1\n  sshd=YES  \nlast=x"), 0o644)
		if ch, err := r.AppendLine("/etc/rc.conf", "sshd=YES"); err != nil || ch {
			t.Fatalf("trimmed equal line: changed=%v err=%v", ch, err)
		}
		if ch, err := r.AppendLine("/absetc/rc.conf", "nginx=YES"); err != nil || !ch {
			t.Fatalf("append: changed=%v err=%v", ch, err)
		}
		if got := readString(t, p); got != "a=1\n  sshd=YES  \nlast=x\nnginx=YES\n" {
			t.Fatalf("content %q", got)
		}
		if ch, _ := r.AppendLine("/etc/rc.conf", "nginx=YES"); ch {
			t.Fatal("second append changed the file")
		}
		if ch, err := r.AppendLine("/new/dir/file", "x"); err != nil || !ch {
			t.Fatalf("new file: %v %v", ch, err)
		}
		if got := readString(t, filepath.Join(root, "new/dir/file")); got != "x\n" {
			t.Fatalf("new file content %q", got)
		}
		if err := syscall.Mkfifo(filepath.Join(root, "etc/fifo"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := r.AppendLine("/etc/fifo", "x"); !errors.Is(err, errNotRegular) {
			t.Fatalf("line on a FIFO = %v, want not a regular file", err)
		}
	})
}

func TestSymlinkRemoveStat(t *testing.T) {
	bothResolvers(t, func(t *testing.T) {
		root, _ := tree(t)
		r := openRoot(t, root)
		os.WriteFile(filepath.Join(root, "etc/old"), []byte("x"), 0o644)
		if ch, err := r.Symlink("/srv/www", "/etc/old"); err != nil || !ch {
			t.Fatalf("replace file by link: %v %v", ch, err)
		}
		if tg, _ := os.Readlink(filepath.Join(root, "etc/old")); tg != "/srv/www" {
			t.Fatalf("target %q", tg)
		}
		if ch, _ := r.Symlink("/srv/www", "/etc/old"); ch {
			t.Fatal("same link reported a change")
		}
		os.Mkdir(filepath.Join(root, "emptydir"), 0o755)
		if _, err := r.Symlink("x", "/emptydir"); err != nil {
			t.Fatalf("replace empty dir: %v", err)
		}
		in, err := r.Lstat("/etc/old")
		if err != nil || in.Type != "link" || in.Target != "/srv/www" {
			t.Fatalf("lstat %+v %v", in, err)
		}
		in, err = r.Stat("/etc/old")
		if err != nil || in.Type != "dir" {
			t.Fatalf("stat through link %+v %v", in, err)
		}
		if rm, err := r.Remove("/etc/old"); err != nil || !rm {
			t.Fatalf("remove %v %v", rm, err)
		}
		if _, err := os.Stat(filepath.Join(root, "srv/www")); err != nil {
			t.Fatal("remove followed the link")
		}
		if rm, err := r.Remove("/etc/old"); err != nil || rm {
			t.Fatalf("remove missing %v %v", rm, err)
		}
		if err := r.Chmod("/srvlink", 0o700); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(filepath.Join(root, "srv/www")); fi.Mode().Perm() != 0o700 {
			t.Fatalf("chmod through an inside link: %v", fi.Mode())
		}
		if err := r.Chown("/srvlink", -1, -1); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCopyFromHost(t *testing.T) {
	root, host := tree(t)
	r := openRoot(t, root)
	src := filepath.Join(host, "src.txt")
	os.WriteFile(src, []byte("data"), 0o600)
	if ch, err := r.CopyFromHost(src, "/opt/app/conf"); err != nil || !ch {
		t.Fatalf("copy %v %v", ch, err)
	}
	p := filepath.Join(root, "opt/app/conf")
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Fatalf("new copy mode %v, want 0644", fi.Mode())
	}
	if ch, _ := r.CopyFromHost(src, "/opt/app/conf"); ch {
		t.Fatal("same copy changed")
	}
	if _, err := r.CopyFromHost(filepath.Join(host, "missing"), "/x"); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("missing source %v", err)
	}
	if _, err := r.CopyFromHost(host, "/x"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("directory source %v", err)
	}
}

func TestEscapes(t *testing.T) {
	cases := []struct {
		dir, target string
		want        bool
	}{
		{"/", "etc", false}, {"/", "..", true}, {"/a/b", "../../x", false},
		{"/a/b", "../../../x", true}, {"/a", "/etc/passwd", false}, {"/a", "b/../../..", true},
	}
	for _, c := range cases {
		if got := escapes(c.dir, c.target); got != c.want {
			t.Errorf("escapes(%q, %q) = %v", c.dir, c.target, got)
		}
	}
}
