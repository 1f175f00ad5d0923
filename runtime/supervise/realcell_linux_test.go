//go:build linux

package supervise

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cells/kernel"
	"cells/runtime/paths"
)

// realCellRoot builds a tiny cell root: busybox with its libraries and a
// few applets, /etc/passwd and /etc/group.
func realCellRoot(t *testing.T, dir string) string {
	t.Helper()
	root := filepath.Join(dir, "root")
	for _, d := range []string{"bin", "etc", "tmp", "proc", "dev"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile := func(src, dst string) {
		b, err := os.ReadFile(src)
		if err == nil {
			os.MkdirAll(filepath.Dir(dst), 0o755)
			err = os.WriteFile(dst, b, 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	copyFile("/bin/busybox", filepath.Join(root, "bin/busybox"))
	if out, err := exec.Command("ldd", "/bin/busybox").Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if strings.HasPrefix(f, "/") {
				copyFile(f, filepath.Join(root, f))
			}
		}
	}
	for _, a := range []string{"sh", "sleep", "id", "ls", "setsid", "echo", "cat"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nnogroup:x:65534:\nusers:x:100:\n"), 0o644)
	return root
}

// With the real Linux driver: the service runs in the cell with the cell's
// rlimits and the dropped credentials, has only 0-2 open, and on SIGTERM
// the whole cell membership goes, including a daemon that double-forked
// out of the service's session (it stays in the cell's PID namespace), so
// the cell can be destroyed at once.
func TestSuperviseRealCell(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the real Linux driver uses namespaces and cgroups")
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs /bin/busybox for the in-cell commands (apt-get install busybox)")
	}
	dir := t.TempDir()
	prefix := filepath.Join(dir, "prefix")
	t.Setenv("CELLMAN_PREFIX", prefix)
	t.Setenv("CELLS_DRIVER", "")
	root := realCellRoot(t, dir)
	d, err := kernel.Open(kernel.Options{StateDir: paths.New(prefix, "").KernelState()})
	if err != nil {
		t.Skipf("needs the Linux driver: %v", err)
	}
	id, err := d.Create(kernel.CreateSpec{Name: "real", Root: root, Rlimits: kernel.Rlimits{
		Nofile: kernel.Rlimit{Set: true, Value: 123},
		Core:   kernel.Rlimit{Set: true, Value: 1 << 20},
		AS:     kernel.Rlimit{Set: true, Value: 1 << 30},
	}})
	if err != nil {
		d.Close()
		t.Skipf("cannot create a real cell here: %v", err)
	}
	f := &fixture{t: t, dir: dir, name: "real", id: id,
		sock: filepath.Join(dir, "log.sock"), logFile: filepath.Join(dir, "syslog.out")}
	f.env = append(os.Environ(), "CELLMAN_PREFIX="+prefix, "CELLS_DRIVER=", "CELLS_SYSLOG_SOCKET="+f.sock)
	t.Cleanup(func() {
		d.Destroy(id) // normally done below; after a failure, best effort
		d.Close()
	})
	t.Cleanup(f.cleanup)
	f.startSyslog()

	script := `echo "n=$(ulimit -n) c=$(ulimit -c) v=$(ulimit -v)"; echo "id=$(id -u) $(id -g) $(id -G)"; setsid sh -c 'sleep 3005 &'; exec sleep 3006`
	pid := f.mustSupervise(nil, "-U", "65534", "-G", "65534", "-g", "65534,100", "real", "/bin/sh", "-c", script)
	for _, want := range []string{"stdout: n=123 c=2048 v=1048576", "stdout: id=65534 65534 65534 100"} {
		if !f.waitLog(want, 5*time.Second) {
			t.Errorf("missing %q in:\n%s", want, strings.Join(f.logLines(), "\n"))
		}
	}
	// Find the service processes on the host: they live in the cell's PID
	// namespace, not under the monitor.
	var ns string
	var members []int
	waitFor(3*time.Second, func() bool {
		members = members[:0]
		for _, p := range allPidsOrNil() {
			if c := cmdline(p); c == "sleep 3005" || c == "sleep 3006" {
				members = append(members, p)
				ns = pidNamespace(p)
			}
		}
		return len(members) == 2
	})
	if len(members) != 2 || ns == pidNamespace(os.Getpid()) {
		t.Fatalf("service processes %v in %s", members, ns)
	}
	for _, p := range members {
		if cmdline(p) != "sleep 3006" {
			continue
		}
		ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p))
		var fds []string
		for _, e := range ents {
			fds = append(fds, e.Name())
		}
		if strings.Join(fds, " ") != "0 1 2" {
			t.Errorf("service descriptors %v, want 0 1 2", fds)
		}
	}
	if err := StopMonitor("real", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, z, err := procStart(pid); err == nil && !z {
		t.Errorf("monitor %d still running", pid)
	}
	if left := namespaceMembers(ns); len(left) != 0 {
		var desc []string
		for _, p := range left {
			desc = append(desc, cmdline(p))
		}
		t.Errorf("left in the cell: %v", desc)
	}
	if err := d.Destroy(id); err != nil {
		t.Errorf("destroy after stop: %v", err)
	}
}

func allPidsOrNil() []int {
	pids, _ := allPids()
	return pids
}
