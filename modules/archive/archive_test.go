package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// mkTree builds a sample tree below dir and returns it.
func mkTree(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "etc", "empty"), 0o755))
	must(os.Mkdir(filepath.Join(dir, "private"), 0o700))
	must(os.WriteFile(filepath.Join(dir, "etc", "conf"), []byte("a=1\n"), 0o640))
	must(os.WriteFile(filepath.Join(dir, "run.sh"), []byte("#!/bin/sh\n"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "private", "key"), bytes.Repeat([]byte("k"), 70000), 0o600))
	must(os.Link(filepath.Join(dir, "etc", "conf"), filepath.Join(dir, "private", "conf.hard")))
	must(os.Symlink("../etc/conf", filepath.Join(dir, "private", "conf.link")))
	must(os.Symlink("/etc/localtime", filepath.Join(dir, "abs.link")))
	must(os.WriteFile(filepath.Join(dir, "suid"), []byte("x"), 0o755))
	must(os.Chmod(filepath.Join(dir, "suid"), 0o4755|os.ModeSetuid))
	must(os.Chmod(filepath.Join(dir, "etc", "empty"), 0o1777|os.ModeSticky))
	old := time.Unix(1_600_000_000, 0)
	must(os.Chtimes(filepath.Join(dir, "run.sh"), old, old))
	must(os.Chtimes(filepath.Join(dir, "etc", "empty"), old, old))
	if os.Geteuid() == 0 {
		must(os.Lchown(filepath.Join(dir, "private", "key"), 1234, 4321))
		must(os.Lchown(filepath.Join(dir, "private", "conf.link"), 55, 66))
	}
	return dir
}

func archiveOf(t *testing.T, dir string, o CreateOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Create(&buf, dir, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	src := mkTree(t)
	var warned []string
	data := archiveOf(t, src, CreateOptions{AbsoluteLinks: true, Warn: func(f string, a ...any) {
		warned = append(warned, f)
	}})
	if len(warned) != 0 {
		t.Errorf("warnings: %v", warned)
	}
	o := Options{AbsoluteLinks: true, Owners: os.Geteuid() == 0}
	cst, err := Check(bytes.NewReader(data), o)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	if err := os.Mkdir(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	xst, err := Extract(bytes.NewReader(data), dst, o)
	if err != nil {
		t.Fatal(err)
	}
	if cst != xst || cst.Entries != 11 || cst.Bytes != 4+10+70000+1 {
		t.Errorf("stats check %+v extract %+v", cst, xst)
	}
	type want struct {
		mode os.FileMode
		uid  int
	}
	for name, w := range map[string]want{
		".":                 {os.ModeDir | 0o755, 0},
		"etc/empty":         {os.ModeDir | os.ModeSticky | 0o777, 0},
		"private":           {os.ModeDir | 0o700, 0},
		"etc/conf":          {0o640, 0},
		"run.sh":            {0o755, 0},
		"suid":              {0o755, 0}, // setuid dropped
		"private/key":       {0o600, 1234},
		"private/conf.link": {os.ModeSymlink | 0o777, 55},
	} {
		fi, err := os.Lstat(filepath.Join(dst, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != w.mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode(), w.mode)
		}
		if uid := int(fi.Sys().(*syscall.Stat_t).Uid); os.Geteuid() == 0 && uid != w.uid {
			t.Errorf("%s: uid %d, want %d", name, uid, w.uid)
		}
	}
	for name, mt := range map[string]int64{"run.sh": 1_600_000_000, "etc/empty": 1_600_000_000} {
		fi, _ := os.Lstat(filepath.Join(dst, name))
		if fi.ModTime().Unix() != mt {
			t.Errorf("%s: mtime %v", name, fi.ModTime())
		}
	}
	a, _ := os.Stat(filepath.Join(dst, "etc", "conf"))
	b, _ := os.Stat(filepath.Join(dst, "private", "conf.hard"))
	if !os.SameFile(a, b) {
		t.Error("hard link not kept")
	}
	if l, _ := os.Readlink(filepath.Join(dst, "abs.link")); l != "/etc/localtime" {
		t.Errorf("abs.link -> %q", l)
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "private", "key")); len(got) != 70000 {
		t.Errorf("key: %d bytes", len(got))
	}
}

func TestCreateSkipsWhatRestoreRefuses(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	os.Mkdir(src, 0o755)
	os.Symlink("../../outside", filepath.Join(src, "up"))
	os.Symlink("/abs", filepath.Join(src, "abs"))
	if err := syscall.Mkfifo(filepath.Join(src, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	var warned []string
	data := archiveOf(t, src, CreateOptions{Warn: func(f string, a ...any) {
		warned = append(warned, strings.Fields(f)[0]+" "+a[0].(string))
	}})
	if got := strings.Join(warned, ","); got != "skipping abs,skipping fifo,skipping up" {
		t.Errorf("warnings %q", got)
	}
	if _, err := Check(bytes.NewReader(data), Options{}); err != nil {
		t.Fatal(err)
	}
}

// tarEntry is one header (and data) of a hand-made archive.
type tarEntry struct {
	hdr  tar.Header
	data string
}

func hostile(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.data))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if e.data != "" {
			tw.Write([]byte(e.data))
		}
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func reg(name, data string) tarEntry {
	return tarEntry{tar.Header{Typeflag: tar.TypeReg, Name: name}, data}
}
func sym(name, target string) tarEntry {
	return tarEntry{tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target}, ""}
}

func TestHostileArchives(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	os.Mkdir(outside, 0o755)
	os.WriteFile(filepath.Join(outside, "victim"), []byte("intact"), 0o644)
	good := hostile(t, reg("./ok", "fine"))
	bigZeros := strings.Repeat("\x00", 2<<20)
	cases := []struct {
		name string
		data []byte
		o    Options
		want string
	}{
		{"absolute", hostile(t, reg(outside+"/victim", "pwned")), Options{}, "absolute name"},
		{"dotdot", hostile(t, reg("../outside/victim", "pwned")), Options{}, "'..'"},
		{"dotdot-inner", hostile(t, reg("a/../../outside/victim", "pwned")), Options{}, "'..'"},
		{"symlink-out", hostile(t, sym("l", "../outside")), Options{}, "leaves the tree"},
		{"symlink-abs", hostile(t, sym("l", outside)), Options{}, "absolute path"},
		{"symlink-then-write", hostile(t, sym("l", outside), reg("l/victim", "pwned")), Options{AbsoluteLinks: true}, "is not a directory"},
		{"symlink-dot-then-write", hostile(t, sym("l", "."), reg("l/x", "pwned")), Options{}, "is not a directory"},
		{"symlink-chain", hostile(t, sym("d/l", "."), sym("d/m", "l/../..")), Options{}, "'..' after a name"},
		{"hardlink-out", hostile(t, tarEntry{tar.Header{Typeflag: tar.TypeLink, Name: "h", Linkname: outside + "/victim"}, ""}), Options{}, "hard link"},
		{"hardlink-up", hostile(t, tarEntry{tar.Header{Typeflag: tar.TypeLink, Name: "h", Linkname: "../outside/victim"}, ""}), Options{}, "hard link"},
		{"hardlink-later", hostile(t, tarEntry{tar.Header{Typeflag: tar.TypeLink, Name: "h", Linkname: "f"}, ""}, reg("f", "x")), Options{}, "hard link"},
		{"hardlink-to-symlink", hostile(t, sym("s", "f"), tarEntry{tar.Header{Typeflag: tar.TypeLink, Name: "h", Linkname: "s"}, ""}), Options{}, "hard link"},
		{"device", hostile(t, tarEntry{tar.Header{Typeflag: tar.TypeChar, Name: "null", Devmajor: 1, Devminor: 3}, ""}), Options{Whiteouts: true}, "device node"},
		{"whiteout-not-allowed", hostile(t, tarEntry{tar.Header{Typeflag: tar.TypeChar, Name: "wh"}, ""}), Options{}, "device node"},
		{"block", hostile(t, tarEntry{tar.Header{Typeflag: tar.TypeBlock, Name: "sda", Devmajor: 8}, ""}), Options{}, "device node"},
		{"fifo", hostile(t, tarEntry{tar.Header{Typeflag: tar.TypeFifo, Name: "p"}, ""}), Options{}, "FIFO"},
		{"duplicate", hostile(t, reg("a", "1"), reg("./a", "2")), Options{}, "duplicate"},
		{"dir-after-file", hostile(t, reg("a", "1"), tarEntry{tar.Header{Typeflag: tar.TypeDir, Name: "a/"}, ""}), Options{}, "duplicate"},
		{"root-not-dir", hostile(t, reg(".", "1")), Options{}, "root must be a directory"},
		{"truncated", good[:len(good)-6], Options{}, "corrupt archive"},
		{"not-gzip", []byte("plain text, not an archive"), Options{}, "not a gzip stream"},
		{"bomb", hostile(t, reg("zeros", bigZeros)), Options{MaxBytes: 1 << 20}, "size limit"},
		{"bomb-entries", hostile(t, reg("a", ""), reg("b", ""), reg("c", "")), Options{MaxBytes: 2 * EntryOverhead}, "size limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, cerr := Check(bytes.NewReader(tc.data), tc.o)
			dst := filepath.Join(base, "staging-"+tc.name)
			os.Mkdir(dst, 0o700)
			t.Cleanup(func() { os.RemoveAll(dst) })
			_, xerr := Extract(bytes.NewReader(tc.data), dst, tc.o)
			for _, err := range []error{cerr, xerr} {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want %q", err, tc.want)
				}
			}
			if got, _ := os.ReadFile(filepath.Join(outside, "victim")); string(got) != "intact" {
				t.Fatalf("outside file changed: %q", got)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 1 {
				t.Fatalf("outside dir changed: %v", ents)
			}
			if ents, _ := os.ReadDir(base); len(ents) != 2 {
				t.Fatalf("written next to the staging dir: %v", ents)
			}
		})
	}
	if _, err := Check(bytes.NewReader(good), Options{}); err != nil {
		t.Errorf("good archive: %v", err)
	}
}

func TestRefusalsAreErrRefused(t *testing.T) {
	_, err := Check(bytes.NewReader(hostile(t, reg("/x", ""))), Options{})
	if !errors.Is(err, ErrRefused) {
		t.Errorf("%v is not ErrRefused", err)
	}
	_, err = Check(bytes.NewReader(hostile(t, reg("x", "12345"))), Options{MaxBytes: 10})
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrRefused) {
		t.Errorf("%v is not ErrTooLarge", err)
	}
}

func TestWhiteoutRoundTrip(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: mknod of an overlayfs whiteout")
	}
	src := filepath.Join(t.TempDir(), "src")
	os.Mkdir(src, 0o755)
	if err := syscall.Mknod(filepath.Join(src, "gone"), syscall.S_IFCHR|0o000, 0); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(src, "opaque"), 0o755)
	if err := unix.Setxattr(filepath.Join(src, "opaque"), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		t.Skipf("no trusted xattrs here: %v", err)
	}
	data := archiveOf(t, src, CreateOptions{Whiteouts: true})
	dst := filepath.Join(t.TempDir(), "dst")
	os.Mkdir(dst, 0o700)
	if _, err := Extract(bytes.NewReader(data), dst, Options{Whiteouts: true, Owners: true}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(dst, "gone"))
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 || fi.Sys().(*syscall.Stat_t).Rdev != 0 {
		t.Fatalf("whiteout: %v %v", fi, err)
	}
	buf := make([]byte, 4)
	if n, err := unix.Getxattr(filepath.Join(dst, "opaque"), "trusted.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("opaque mark not restored: %q %v", buf[:n], err)
	}
	if _, err := Check(bytes.NewReader(data), Options{}); err == nil {
		t.Error("a whiteout passed without Whiteouts")
	}
}
