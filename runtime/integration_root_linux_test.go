package runtime_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"cells/bin/cellman/cellman"
	"cells/kernel"
	"cells/runtime"
	"cells/runtime/paths"
	"cells/runtime/supervise"
)

// Root integration tests (issue 5): the operator's command line, run
// in-process against a scratch CELLMAN_PREFIX with the real Linux driver.
// Cell names start with "it-" so they never collide with other tests'
// cells (supervise finds monitors by title).

// itEnv is one bootstrapped scratch prefix driven through cellman.
type itEnv struct {
	t *testing.T
	p paths.Paths
}

// newIT returns a bootstrapped prefix for real cells, or skips the test
// when this host cannot run them. When the test ends, also on failure,
// `cellman cell stop --all` runs and the prefix is checked for leftovers:
// kernel cells, supervise monitors and mounts (each one found is an error
// and is removed by force).
func newIT(t *testing.T) *itEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: real cells with the Linux driver (namespaces, mounts, cgroups)")
	}
	if _, err := exec.LookPath("busybox"); err != nil {
		t.Skip("needs busybox (apt-get install busybox)")
	}
	p := runtime.RootPrefixForTest(t)
	d, err := kernel.Open(kernel.Options{StateDir: p.KernelState()})
	if err != nil {
		t.Skipf("needs the Linux cell driver: %v", err)
	}
	d.Close()
	e := &itEnv{t: t, p: p}
	// Registered after rootPrefix's cleanup, so it runs first, while the
	// prefix still exists.
	t.Cleanup(e.teardown)
	return e
}

func (e *itEnv) teardown() {
	t := e.t
	if code, _, stderr := e.cellman("cell", "stop", "--all"); code != 0 {
		t.Errorf("cleanup: cellman cell stop --all: exit %d: %s", code, stderr)
	}
	if d, err := kernel.Open(kernel.Options{StateDir: e.p.KernelState()}); err == nil {
		cells, _ := d.List()
		for _, c := range cells {
			if runtime.Managed(e.p, c) || strings.HasPrefix(c.Root, e.p.Prefix+"/") {
				t.Errorf("cleanup: kernel cell %s (id %d) left after stop --all", c.Name, c.ID)
				supervise.StopMonitor(c.Name, 7*time.Second)
				err := d.Destroy(c.ID)
				for i := 0; i < 20 && errors.Is(err, kernel.ErrBusy); i++ {
					time.Sleep(100 * time.Millisecond)
					err = d.Destroy(c.ID)
				}
				if errors.Is(err, kernel.ErrNotExist) {
					killOrphanHolder(t, e.p, c.ID)
				}
			}
		}
		d.Close()
	}
	dirs, _ := os.ReadDir(e.p.CellsDir)
	for _, de := range dirs {
		if pids, _ := supervise.FindMonitors(de.Name()); len(pids) != 0 {
			t.Errorf("cleanup: monitors of %s left after stop --all: %v", de.Name(), pids)
			supervise.StopMonitor(de.Name(), 7*time.Second)
		}
	}
	if left := mountsUnder(t, e.p.Prefix); len(left) != 0 {
		t.Errorf("cleanup: mounts left after stop --all: %q", left)
		for _, de := range dirs {
			runtime.UnmountCell(e.p.CellRoot(de.Name()), t.Logf)
		}
	}
}

// cellman runs the command line in-process, as an operator would:
// cellman <args...>; it returns the exit status, stdout and stderr.
func (e *itEnv) cellman(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := cellman.Main(append([]string{"cellman"}, args...), strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// run runs cellman and fails the test unless it exits with want.
func (e *itEnv) run(want int, args ...string) (string, string) {
	e.t.Helper()
	code, stdout, stderr := e.cellman(args...)
	if code != want {
		e.t.Fatalf("cellman %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, stdout, stderr)
	}
	return stdout, stderr
}

// shell runs argv in the cell (`cellman cell shell <cell> argv...`) and
// returns its stdout; it fails the test when the command fails.
func (e *itEnv) shell(cell string, argv ...string) string {
	e.t.Helper()
	stdout, _ := e.run(0, append([]string{"cell", "shell", cell}, argv...)...)
	return stdout
}

// dsl writes a file of the DSL directory (relative name, parents made).
func (e *itEnv) dsl(name, content string) {
	e.t.Helper()
	path := filepath.Join(e.p.DSLDir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// upper reads a file of the cell's overlay upper directory: a write inside
// the cell landed there, not in the base or on the host.
func (e *itEnv) upper(cell, path string) string {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(runtime.Layout(e.p, cell).Upper, path))
	if err != nil {
		e.t.Fatalf("overlay of %s: %v", cell, err)
	}
	return string(b)
}

// running returns the names of the kernel cells of this prefix, sorted.
func (e *itEnv) running() []string {
	e.t.Helper()
	d, err := kernel.Open(kernel.Options{StateDir: e.p.KernelState()})
	if err != nil {
		e.t.Fatal(err)
	}
	defer d.Close()
	cells, err := d.List()
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, c := range cells {
		if runtime.Managed(e.p, c) {
			names = append(names, c.Name)
		}
	}
	sort.Strings(names)
	return names
}

// mountsUnder lists the mount points at or below dir, one entry per
// mount (stacked mounts on one point count twice), from mountinfo.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := strings.ReplaceAll(fields[4], `\040`, " ")
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out
}

// pidNS is the PID namespace of this (host) process, to tell a command
// that ran inside a cell from one that ran on the host.
func pidNS(t *testing.T) string {
	t.Helper()
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %q, %v", url, resp.StatusCode, body, err)
	}
	return string(body)
}

// webDSL is the Get Started walkthrough of cellman(8) on a free port: a
// volume, a cell serving it with busybox httpd (the port reserved for the
// cell), and the page as an apply action.
func webDSL(port int, page string) string {
	return fmt.Sprintf(`volume("it-www", { mode = "0755" })
cell("it-web", {
  autostart = true,
  create = { profile = "medium", reserved_ports = "%[1]d" },
  supervise = { cmd = "exec busybox httpd -f -p 127.0.0.1:%[1]d -h /var/www/it-web" },
  mounts = { volume("it-www", { target = "/var/www/it-web", mode = "rw" }) },
  healthcheck = "busybox wget -q -O /dev/null http://127.0.0.1:%[1]d/",
})
apply("it-web", {
  dir("/var/www/it-web", { mode = "0755" }),
  file("/var/www/it-web/index.html", %[2]q, { mode = "0644" }),
})
`, port, page)
}

const itPage = "<html><body>Hello from {{ cell_name }}</body></html>\n"

// startWeb declares the walkthrough and converges it: dry run exit 2,
// apply exit 0, dry run exit 0. It returns the port the cell serves on.
func (e *itEnv) startWeb() int {
	e.t.Helper()
	port := freeLoopbackPort(e.t)
	e.dsl("10-web.lua", webDSL(port, itPage))
	stdout, _ := e.run(2, "apply", "--dry-run", "--all")
	if !regexp.MustCompile(`\| it-web +\| YES +\| PENDING +\|`).MatchString(stdout) {
		e.t.Fatalf("dry run report does not show it-web changing:\n%s", stdout)
	}
	e.run(0, "apply", "--all")
	e.run(0, "apply", "--dry-run", "--all")
	return port
}

// TestIntegrationWalkthroughRoot: the Get Started walkthrough through the
// command line, the page fetched over HTTP from the cell, and `cell shell
// ps` showing the cell's processes only.
func TestIntegrationWalkthroughRoot(t *testing.T) {
	e := newIT(t)
	port := e.startWeb()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	if body := httpGet(t, url); body != "<html><body>Hello from it-web</body></html>\n" {
		t.Fatalf("page %q", body)
	}
	if got := e.running(); strings.Join(got, ",") != "it-web" {
		t.Fatalf("running cells %q", got)
	}

	// `ps` exactly as the walkthrough runs it, then every process of the
	// cell's PID namespace: the holder (PID 1), the httpd, ps itself;
	// none of the host's.
	out := e.shell("it-web", "ps")
	if !strings.Contains(out, " 1 ? ") || !strings.Contains(out, "cells-init") || !strings.Contains(out, "busybox") {
		t.Fatalf("cell shell ps:\n%s", out)
	}
	out = e.shell("it-web", "ps", "-e", "-o", "pid=,comm=")
	var comms []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("ps line %q", line)
		}
		if f[1] == "cells-init" && f[0] != "1" {
			t.Fatalf("the holder is not PID 1:\n%s", out)
		}
		comms = append(comms, f[1])
	}
	sort.Strings(comms)
	if strings.Join(comms, " ") != "busybox cells-init ps" {
		t.Fatalf("processes seen in the cell: %q\n%s", comms, out)
	}

	// The reserved port belongs to the cell: a host process may not bind
	// it, even on another loopback address where nothing listens.
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.2:%d", port)); err == nil {
		l.Close()
		t.Fatalf("the host bound the cell's reserved port %d", port)
	} else if !errors.Is(err, syscall.EPERM) {
		t.Fatalf("binding the reserved port %d: %v (want operation not permitted)", port, err)
	}

	// Stop leaves nothing: no cell, no mount, the port free again.
	e.run(0, "cell", "stop", "it-web")
	if got := e.running(); len(got) != 0 {
		t.Fatalf("running after stop: %q", got)
	}
	if m := mountsUnder(t, e.p.Prefix); len(m) != 0 {
		t.Fatalf("mounts after stop: %q", m)
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.2:%d", port))
	if err != nil {
		t.Fatalf("the reserved port %d is still denied after stop: %v", port, err)
	}
	l.Close()
}

// TestIntegrationDriftRoot: drift is the declared state against the
// recorded one. An edit inside the cell is not drift (dry run 0) and
// apply --force restores the page; an edit of the declared content is
// (dry run 2), and apply serves the new page.
func TestIntegrationDriftRoot(t *testing.T) {
	e := newIT(t)
	port := e.startWeb()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)

	e.shell("it-web", "sh", "-c", "echo defaced > /var/www/it-web/index.html")
	if body := httpGet(t, url); body != "defaced\n" {
		t.Fatalf("page after the in-cell edit %q", body)
	}
	e.run(0, "apply", "--dry-run", "--all")
	e.run(0, "apply", "--force", "--all")
	if body := httpGet(t, url); body != "<html><body>Hello from it-web</body></html>\n" {
		t.Fatalf("page after apply --force %q", body)
	}

	e.dsl("10-web.lua", webDSL(port, "<p>edited {{ cell_name }}</p>\n"))
	stdout, _ := e.run(2, "apply", "--dry-run", "--all")
	if !regexp.MustCompile(`\| it-web +\| YES +\| PENDING +\| NO +\| NO +\| NO +\| YES +\| YES +\| YES +\|`).MatchString(stdout) {
		t.Fatalf("dry run after the edit does not show pending actions:\n%s", stdout)
	}
	e.run(0, "apply", "--all")
	e.run(0, "apply", "--dry-run", "--all")
	if body := httpGet(t, url); body != "<p>edited it-web</p>\n" {
		t.Fatalf("page after the declared edit %q", body)
	}
}
