package fs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

type entry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func writeTar(t *testing.T, dir string, gz bool, ents []entry) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Size: int64(len(e.body))}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	data := buf.Bytes()
	name := "a.tar"
	if gz {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(data)
		w.Close()
		data, name = z.Bytes(), "a.tar.gz"
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUntar(t *testing.T) {
	bothResolvers(t, func(t *testing.T) {
		root, host := tree(t)
		r := openRoot(t, root)
		src := writeTar(t, host, true, []entry{
			{name: "pkg-1.0/", typ: tar.TypeDir, mode: 0o750},
			{name: "pkg-1.0/bin/tool", typ: tar.TypeReg, body: "#!/bin/sh\n", mode: 0o4755},
			{name: "pkg-1.0/lib/l", typ: tar.TypeSymlink, link: "../bin/tool"},
			{name: "pkg-1.0/hard", typ: tar.TypeLink, link: "pkg-1.0/bin/tool"},
			{name: "top", typ: tar.TypeReg, body: "stripped away"},
		})
		n, err := r.Untar(src, "/opt", 1)
		if err != nil || n != 3 { // tool, l, hard: "pkg-1.0/" and "top" strip to nothing
			t.Fatalf("untar = %d, %v", n, err)
		}
		if got := readString(t, filepath.Join(root, "opt/bin/tool")); got != "#!/bin/sh\n" {
			t.Fatalf("content %q", got)
		}
		if fi, _ := os.Stat(filepath.Join(root, "opt/bin/tool")); fi.Mode()&os.ModeSetuid != 0 || fi.Mode().Perm() != 0o755 {
			t.Fatalf("mode %v (setuid must be dropped)", fi.Mode())
		}
		if tg, _ := os.Readlink(filepath.Join(root, "opt/lib/l")); tg != "../bin/tool" {
			t.Fatalf("link %q", tg)
		}
		a, _ := os.Stat(filepath.Join(root, "opt/hard"))
		b, _ := os.Stat(filepath.Join(root, "opt/bin/tool"))
		if !os.SameFile(a, b) {
			t.Fatal("hard link not made")
		}
		if _, err := os.Stat(filepath.Join(root, "opt/top")); !os.IsNotExist(err) {
			t.Fatal("entry with too few components was extracted")
		}
	})
}

func TestUntarRefusesEscapes(t *testing.T) {
	bothResolvers(t, func(t *testing.T) {
		root, host := tree(t)
		r := openRoot(t, root)
		bad := map[string][]entry{
			"dotdot":   {{name: "../../host/etc/passwd", typ: tar.TypeReg, body: "pwned"}},
			"absolute": {{name: filepath.Join(host, "etc/passwd"), typ: tar.TypeReg, body: "pwned"}},
			"linkup":   {{name: "a/l", typ: tar.TypeSymlink, link: "../../../../host"}},
			"device":   {{name: "null", typ: tar.TypeChar}},
			"fifo":     {{name: "fifo", typ: tar.TypeFifo}},
			"hardout":  {{name: "h", typ: tar.TypeLink, link: "../etc/passwd"}},
		}
		for name, ents := range bad {
			src := writeTar(t, t.TempDir(), false, ents)
			if _, err := r.Untar(src, "/opt", 0); err == nil {
				t.Errorf("%s: extraction succeeded", name)
			}
		}
		// A link planted by the archive (or already in the cell) that
		// points at the host, then a file written through it: lands in
		// the cell.
		src := writeTar(t, t.TempDir(), false, []entry{
			{name: "l", typ: tar.TypeSymlink, link: filepath.Join(host, "etc")},
			{name: "l/passwd", typ: tar.TypeReg, body: "pwned"},
		})
		os.MkdirAll(filepath.Join(root, host, "etc"), 0o755)
		if _, err := r.Untar(src, "/", 0); err != nil {
			t.Fatalf("untar through an inside link: %v", err)
		}
		if got := readString(t, filepath.Join(host, "etc/passwd")); got != "host-passwd\n" {
			t.Fatalf("host passwd is now %q", got)
		}
		if got := readString(t, filepath.Join(root, host, "etc/passwd")); got != "pwned" {
			t.Fatalf("file should land inside the root, got %q", got)
		}
	})
}

func TestUntarXZ(t *testing.T) {
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("needs xz on the host")
	}
	root, host := tree(t)
	r := openRoot(t, root)
	src := writeTar(t, host, false, []entry{{name: "x/y", typ: tar.TypeReg, body: "z"}})
	if out, err := exec.Command("xz", "-k", src).CombinedOutput(); err != nil {
		t.Fatalf("xz: %v %s", err, out)
	}
	if _, err := r.Untar(src+".xz", "/d", 0); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, filepath.Join(root, "d/x/y")); got != "z" {
		t.Fatalf("content %q", got)
	}
	os.WriteFile(src+".bad.xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0, 1, 2, 3}, 0o644)
	if _, err := r.Untar(src+".bad.xz", "/d", 0); err == nil || !strings.Contains(err.Error(), "untar") {
		t.Fatalf("corrupt xz: %v", err)
	}
}
