package runtime_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The action kinds on a real cell: pkg (a package tool shipped in a
// read-only volume on the cell's PATH), exec, dir, line, symlink, copy,
// untar, file, patch (the cell's patch(1)), template (tokens, from_env,
// the {{{{ escape), script (args, env, cwd, timeout, ignore_exit).
const actionsDSL = `volume("it-tools", {})
cell("it-act", {
  autostart = true,
  supervise = { cmd = "exec sleep 1000" },
  mounts = { volume("it-tools", { target = "/usr/local/sbin", mode = "ro" }) },
})
apply("it-act", {
  pkg("foo", "bar-{{ cell_name }}"),
  dir("/srv/d", { mode = "0750", owner = "nobody", group = "nogroup" }),
  file("/srv/d/f.txt", "hello {{ cell_name }} {{{{ lit }}\n", { mode = "0640" }),
  line("/etc/hosts", "127.0.0.1 it-act"),
  line("/etc/hosts", "127.0.0.1 it-act"),
  symlink("/srv/d", "/var/www"),
  copy("assets/motd", "/etc/motd", { mode = "0600" }),
  untar("assets/site.tar.gz", "/srv/site", { strip = 1 }),
  file("/srv/p/greet.txt", "hello\nworld\n"),
  patch("/srv/p", [[
--- a/greet.txt
+++ b/greet.txt
@@ -1,2 +1,2 @@
-hello
+hello patched
 world
]], { strip = 1 }),
  template("assets/app.conf.in", "/etc/app.conf", { mode = "0644", tokens = { user = "www", key = from_env("IT_APP_KEY") } }),
  exec("echo {{ cell_name }} > /srv/exec.out; readlink /proc/self/ns/pid > /srv/exec.ns"),
  script("assets/setup.sh", { args = { "a b", "{{ cell_name }}" }, env = { FOO = "it's" }, cwd = "/srv/d", timeout = 10 }),
  script("assets/fail.sh", { ignore_exit = true }),
})
`

// pkgAdd is the package tool of the test: it records its arguments,
// PKG_PATH and the PID namespace it runs in.
const pkgAdd = `#!/bin/sh
echo "PKG_PATH=$PKG_PATH args=$*" > /tmp/pkg.log
readlink /proc/self/ns/pid > /tmp/pkg.ns
`

func siteTarball(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []struct{ name, body string }{
		{"site-1.0/", ""},
		{"site-1.0/index.html", "site\n"},
		{"site-1.0/sub/", ""},
		{"site-1.0/sub/a.txt", "a\n"},
	} {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}
		if strings.HasSuffix(f.name, "/") {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f.body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

// TestIntegrationActionsRoot runs every built-in action kind through
// `cellman apply` on a real cell and reads the results inside the cell
// (cell shell) and in its overlay.
func TestIntegrationActionsRoot(t *testing.T) {
	e := newIT(t)
	t.Setenv("IT_APP_KEY", "k1")
	t.Setenv("PKG_PATH", "http://pkg.example/All")
	e.dsl("10-act.lua", actionsDSL)
	e.dsl("assets/motd", "welcome {{ not rendered }}\n")
	e.dsl("assets/app.conf.in", "user={{ user }} key={{ key }} cell={{ cell_name }} lit={{{{ x }}\n")
	e.dsl("assets/site.tar.gz", string(siteTarball(t)))
	e.dsl("assets/setup.sh", "echo \"$1|$2|$FOO|$(pwd)\" > script.out\nreadlink /proc/self/ns/pid > /srv/script.ns\n")
	e.dsl("assets/fail.sh", "echo failing >&2\nexit 7\n")
	tools := e.p.Volume("it-tools")
	if err := os.MkdirAll(tools, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tools, "pkg_add"), []byte(pkgAdd), 0o755); err != nil {
		t.Fatal(err)
	}

	e.run(2, "apply", "--dry-run", "it-act")
	_, stderr := e.run(0, "apply", "it-act")
	if !strings.Contains(stderr, "cellman: warn: command failed but ignore_exit=true (status=1792)\n") {
		t.Fatalf("no ignore_exit warning (exit 7 is raw status 1792):\n%s", stderr)
	}
	e.run(0, "apply", "--dry-run", "it-act")

	got := e.shell("it-act", "sh", "-c", `cat /tmp/pkg.log
stat -c '%a %u %g' /srv/d
cat /srv/d/f.txt; stat -c %a /srv/d/f.txt
grep -c '^127.0.0.1 it-act$' /etc/hosts
readlink /var/www
cat /etc/motd; stat -c %a /etc/motd
cat /srv/site/index.html /srv/site/sub/a.txt
cat /srv/p/greet.txt
cat /etc/app.conf
cat /srv/exec.out
cat /srv/d/script.out
`)
	want := `PKG_PATH=http://pkg.example/All args=foo bar-it-act
750 65534 65534
hello it-act {{ lit }}
640
1
/srv/d
welcome {{ not rendered }}
600
site
a
hello patched
world
user=www key=k1 cell=it-act lit={{ x }}
it-act
a b|it-act|it's|/srv/d
`
	if got != want {
		t.Fatalf("results inside the cell:\n%s\nwant:\n%s", got, want)
	}

	// The package tool, exec and script ran inside the cell (another PID
	// namespace) and wrote into its overlay, not the base or the host.
	host := pidNS(t)
	for _, f := range []string{"tmp/pkg.ns", "srv/exec.ns", "srv/script.ns"} {
		ns := strings.TrimSpace(e.upper("it-act", f))
		if !strings.HasPrefix(ns, "pid:[") || ns == host {
			t.Errorf("%s: PID namespace %q (host %q)", f, ns, host)
		}
	}
	if e.upper("it-act", "etc/motd") != "welcome {{ not rendered }}\n" {
		t.Error("etc/motd is not in the overlay")
	}

	// The read-only volume and the host's /usr stay read-only, for the
	// cell's processes and for actions.
	code, _, stderr := e.cellman("cell", "shell", "it-act", "sh", "-c", "echo x > /usr/local/sbin/pkg_add || echo x > /usr/bin/it-act-x")
	if code == 0 || !strings.Contains(stderr, "Read-only file system") {
		t.Fatalf("writes to read-only mounts from the cell: exit %d, %s", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(tools, "pkg_add")); string(b) != pkgAdd {
		t.Fatal("the read-only volume was written")
	}
	e.dsl("10-act.lua", strings.Replace(actionsDSL, "pkg(\"foo\", \"bar-{{ cell_name }}\"),", "file(\"/usr/local/sbin/pkg_add\", \"x\"),", 1))
	_, stderr = e.run(1, "apply", "--silent", "it-act")
	if stderr != "cellman: apply it-act action 1 (file): write /usr/local/sbin/pkg_add: read-only file system\n" {
		t.Fatalf("file action on a read-only volume: %q", stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(tools, "pkg_add")); string(b) != pkgAdd {
		t.Fatal("an action wrote to the read-only volume")
	}
}

// TestIntegrationActionErrorsRoot: a cell without the package tool, a
// script over its timeout (its processes killed in the cell).
func TestIntegrationActionErrorsRoot(t *testing.T) {
	e := newIT(t)
	e.dsl("10-err.lua", `cell("it-nopkg", { autostart = true, supervise = { cmd = "exec sleep 1000" } })
apply("it-nopkg", { pkg("foo") })
`)
	_, stderr := e.run(1, "apply", "--silent", "it-nopkg")
	if stderr != "cellman: apply it-nopkg action 1 (pkg): pkg: pkg_add not found in cell it-nopkg\n" {
		t.Fatalf("stderr %q", stderr)
	}

	e.dsl("slow.sh", "echo started > /tmp/slow.out\nsleep 30\necho finished >> /tmp/slow.out\n")
	e.dsl("10-err.lua", `cell("it-nopkg", { autostart = true, supervise = { cmd = "exec sleep 1000" } })
apply("it-nopkg", { script("slow.sh", { timeout = 1 }) })
`)
	_, stderr = e.run(1, "apply", "--silent", "it-nopkg")
	if stderr != "cellman: apply it-nopkg action 1 (script): command timed out after 1 seconds\n" {
		t.Fatalf("stderr %q", stderr)
	}
	if ps := e.shell("it-nopkg", "ps", "-e", "-o", "args="); strings.Contains(ps, "sleep 30") {
		t.Fatalf("the timed-out script still runs in the cell:\n%s", ps)
	}
	if out := e.upper("it-nopkg", "tmp/slow.out"); out != "started\n" {
		t.Fatalf("slow.out %q", out)
	}
}
