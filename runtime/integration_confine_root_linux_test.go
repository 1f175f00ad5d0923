package runtime_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cells/runtime"
)

// hostSnapshot describes every entry under dir (type, mode, link target,
// content), to prove that nothing an action did reached it.
func hostSnapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v", path, fi.Mode())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(path)
			fmt.Fprintf(&b, " -> %s", l)
		case fi.Mode().IsRegular():
			c, _ := os.ReadFile(path)
			fmt.Fprintf(&b, " %q", c)
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// hostileTar is a tar archive with a symbolic link "evil" to dir and the
// file "evil/pwned" written through it, or (hard) a hard link "hl" to the
// file canary of dir.
func hostileTar(t *testing.T, dir string, hard bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdrs := []*tar.Header{
		{Name: "evil", Typeflag: tar.TypeSymlink, Linkname: dir, Mode: 0o777},
		{Name: "evil/pwned", Typeflag: tar.TypeReg, Mode: 0o644, Size: 6},
	}
	if hard {
		hdrs = []*tar.Header{{Name: "hl", Typeflag: tar.TypeLink, Linkname: dir + "/canary", Mode: 0o644}}
	}
	for _, h := range hdrs {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte("pwned\n"))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestIntegrationConfinementRoot: links planted inside a running cell
// (absolute, relative through .., to a directory and to a file) point at
// a host directory outside the prefix. file, dir, copy, symlink, template,
// line, untar and patch actions aimed through them, and targets climbing
// with .., either fail with a clear error or land inside the cell; so do
// hostile archives (a link out then a file through it, a hard link to a
// host file) and a mount target through such a link. The host directory never
// changes and never gets a mount.
func TestIntegrationConfinementRoot(t *testing.T) {
	e := newIT(t)
	hostDir := t.TempDir() // outside the prefix
	if err := os.WriteFile(filepath.Join(hostDir, "canary"), []byte("host data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hostDir2 := t.TempDir()
	before, before2 := hostSnapshot(t, hostDir), hostSnapshot(t, hostDir2)
	untouched := func(what string) {
		t.Helper()
		if got := hostSnapshot(t, hostDir); got != before {
			t.Fatalf("%s changed the host directory:\n%s\nwas:\n%s", what, got, before)
		}
		if got := hostSnapshot(t, hostDir2); got != before2 {
			t.Fatalf("%s changed the host directory:\n%s\nwas:\n%s", what, got, before2)
		}
		if m := mountsUnder(t, hostDir); len(m) != 0 {
			t.Fatalf("%s mounted on the host directory: %q", what, m)
		}
		if m := mountsUnder(t, hostDir2); len(m) != 0 {
			t.Fatalf("%s mounted on the host directory: %q", what, m)
		}
	}

	e.dsl("src.txt", "src {{ cell_name }}\n")
	e.dsl("site.tar.gz", string(siteTarball(t)))
	const decl = `cell("it-conf", { autostart = true, supervise = { cmd = "exec sleep 1000" } })` + "\n"
	e.dsl("10-conf.lua", decl)
	e.run(0, "apply", "--silent", "--all")
	up := strings.Repeat("../", 16)
	e.shell("it-conf", "ln", "-s", hostDir, "/tmp/evil")
	e.shell("it-conf", "ln", "-s", up+hostDir[1:], "/etc/up")
	e.shell("it-conf", "ln", "-s", hostDir+"/canary", "/tmp/canary-link")
	e.shell("it-conf", "ln", "-s", hostDir2, "/tmp/evil2")

	apply := func(actions ...string) (int, string) {
		t.Helper()
		e.dsl("10-conf.lua", decl+`apply("it-conf", { `+strings.Join(actions, ", ")+` })`+"\n")
		code, _, stderr := e.cellman("apply", "--silent", "it-conf")
		untouched(strings.Join(actions, ", "))
		return code, stderr
	}

	// The host paths do not exist inside the cell: every action fails.
	src := filepath.Join(e.p.DSLDir, "site.tar.gz")
	// patch(1) runs inside the cell (the message is GNU patch's).
	for _, c := range []struct{ action, err string }{
		{`file("/tmp/evil/canary", "pwned\n")`, "(file): write /tmp/evil/canary: no such file or directory"},
		{`file("/etc/up/new", "pwned\n")`, "(file): write /etc/up/new: no such file or directory"},
		{`dir("/tmp/evil/newdir")`, "(dir): mkdir /tmp/evil/newdir: no such file or directory"},
		{`dir("/etc/up/newdir")`, "(dir): mkdir /etc/up/newdir: no such file or directory"},
		{`copy("src.txt", "/etc/up/canary")`, "(copy): write /etc/up/canary: no such file or directory"},
		{`symlink("/x", "/tmp/evil/newlink")`, "(symlink): symlink /tmp/evil/newlink: no such file or directory"},
		{`template("src.txt", "/tmp/evil/canary")`, "(template): write /tmp/evil/canary: no such file or directory"},
		{`line("/tmp/evil/canary", "pwned")`, "(line): line /tmp/evil/canary: no such file or directory"},
		{`line("/tmp/canary-link", "pwned")`, "(line): line /tmp/canary-link: file exists"},
		{`untar("site.tar.gz", "/tmp/evil/t")`, "(untar): untar " + src + ": mkdir /tmp/evil/t: no such file or directory"},
		{`patch("/tmp/evil", "--- canary\n+++ canary\n@@ -1 +1 @@\n-host data\n+pwned\n")`, "(patch): command failed with exit status 2: patch: **** Can't change to directory /tmp/evil : No such file or directory"},
	} {
		code, stderr := apply(c.action)
		if want := "cellman: apply it-conf action 1 " + c.err + "\n"; code != 1 || stderr != want {
			t.Errorf("%s: exit %d, stderr %q, want %q", c.action, code, stderr, want)
		}
	}

	// Hostile archives: a link to the host directory then a file through
	// it; a hard link to the host's canary.
	e.dsl("through.tar", string(hostileTar(t, hostDir, false)))
	e.dsl("hardlink.tar", string(hostileTar(t, hostDir, true)))
	for _, c := range []struct{ action, err string }{
		{`untar("through.tar", "/x")`, "(untar): untar " + filepath.Join(e.p.DSLDir, "through.tar") + ": write /x/evil/pwned: no such file or directory"},
		{`untar("hardlink.tar", "/x")`, "(untar): untar " + filepath.Join(e.p.DSLDir, "hardlink.tar") + ": entry hl: hard link target " + hostDir + "/canary is outside the archive"},
	} {
		code, stderr := apply(c.action)
		if want := "cellman: apply it-conf action 1 " + c.err + "\n"; code != 1 || stderr != want {
			t.Errorf("%s: exit %d, stderr %q, want %q", c.action, code, stderr, want)
		}
	}

	// A link to a host file is replaced inside the cell by file, copy and
	// template, never written through.
	l := runtime.Layout(e.p, "it-conf")
	for _, a := range []string{
		`file("/tmp/canary-link", "pwned\n")`,
		`copy("src.txt", "/tmp/canary-link")`,
		`template("src.txt", "/tmp/canary-link")`,
	} {
		e.shell("it-conf", "ln", "-sfn", hostDir+"/canary", "/tmp/canary-link")
		if code, stderr := apply(a); code != 0 {
			t.Fatalf("%s: exit %d: %s", a, code, stderr)
		}
		if fi, err := os.Lstat(filepath.Join(l.Upper, "tmp/canary-link")); err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("%s: the link was not replaced by a file in the cell: %v %v", a, fi, err)
		}
	}

	// .. stops at the cell's root: the targets land inside the cell, and
	// from then on the planted links resolve inside it too.
	dotdot := "/" + up + hostDir[1:]
	if code, stderr := apply(
		fmt.Sprintf(`file(%q, "inside\n")`, dotdot+"/canary"),
		fmt.Sprintf(`dir(%q)`, dotdot+"/newdir"),
		`copy("src.txt", "/tmp/evil/copied")`,
		`symlink("/x", "/etc/up/newlink")`,
		`template("src.txt", "/tmp/evil/tmpl")`,
		`line("/etc/up/canary", "line")`,
		`untar("site.tar.gz", "/tmp/evil/site", { strip = 1 })`,
	); code != 0 {
		t.Fatalf("actions through .. and links resolving inside the cell: exit %d: %s", code, stderr)
	}
	in := filepath.Join(l.Upper, hostDir)
	for path, want := range map[string]string{
		"canary":          "inside\nline\n",
		"copied":          "src {{ cell_name }}\n",
		"tmpl":            "src it-conf\n",
		"site/index.html": "site\n",
	} {
		if b, err := os.ReadFile(filepath.Join(in, path)); err != nil || string(b) != want {
			t.Errorf("in the cell %s: %q, %v (want %q)", path, b, err, want)
		}
	}
	if fi, err := os.Stat(filepath.Join(in, "newdir")); err != nil || !fi.IsDir() {
		t.Errorf("in the cell newdir: %v", err)
	}
	if l, err := os.Readlink(filepath.Join(in, "newlink")); err != nil || l != "/x" {
		t.Errorf("in the cell newlink: %q, %v", l, err)
	}

	// Mount targets are resolved inside the root at mount time: through a
	// link to a path missing in the cell the start fails, through one
	// resolving inside the cell the volume is mounted there.
	e.dsl("05-vol.lua", `volume("it-vol", {})`+"\n")
	e.dsl("10-conf.lua", `cell("it-conf", { autostart = true, supervise = { cmd = "exec sleep 1000" },
  mounts = { volume("it-vol", { target = "/tmp/evil2", mode = "rw" }) } })
`)
	_, stderr := e.run(1, "apply", "--silent", "--all")
	if want := fmt.Sprintf("cellman: mount target /tmp/evil2: resolve in root %s/tmp/evil2: no such file or directory\n", l.Root); stderr != want {
		t.Errorf("mount through a link to the host: stderr %q, want %q", stderr, want)
	}
	untouched("mount through a link to the host")
	e.dsl("10-conf.lua", `cell("it-conf", { autostart = true, supervise = { cmd = "exec sleep 1000" },
  mounts = { volume("it-vol", { target = "/tmp/evil", mode = "rw" }) } })
`)
	e.run(0, "apply", "--silent", "--all")
	untouched("mount through a link resolving inside the cell")
	if m := mountsUnder(t, l.Root+hostDir); len(m) != 1 {
		t.Fatalf("volume mounts inside the cell at %s: %q", hostDir, m)
	}
	e.shell("it-conf", "sh", "-c", "echo vol > /tmp/evil/v")
	if b, err := os.ReadFile(filepath.Join(e.p.Volume("it-vol"), "v")); err != nil || string(b) != "vol\n" {
		t.Fatalf("write through the mounted volume: %q, %v", b, err)
	}
	untouched("a write to the mounted volume")
}
