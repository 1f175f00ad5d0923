//go:build linux

package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Shared across tests of one run: the probe binary (built once).
var (
	lxProbeOnce sync.Once
	lxProbeDir  string
	lxProbePath string
	lxProbeErr  error
)

func lxTestCleanupShared() {
	if lxProbeDir != "" {
		os.RemoveAll(lxProbeDir)
	}
}

// lxNeedCells skips unless real cells can be made here: root, cgroup v2,
// namespaces.
func lxNeedCells(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: real cells use namespaces, pivot_root and cgroups")
	}
	if _, err := lxCgroupRoot(); err != nil {
		t.Skipf("needs cgroup v2: %v", err)
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs /bin/busybox for the in-cell commands (apt-get install busybox)")
	}
}

// lxProbe builds the static probe helper once.
func lxProbe(t testing.TB) string {
	t.Helper()
	lxProbeOnce.Do(func() {
		lxProbeDir, lxProbeErr = os.MkdirTemp("", "cells-probe")
		if lxProbeErr != nil {
			return
		}
		lxProbePath = filepath.Join(lxProbeDir, "probe")
		cmd := exec.Command("go", "build", "-o", lxProbePath, "./testdata/probe")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			lxProbeErr = fmt.Errorf("build probe: %v\n%s", err, out)
		}
	})
	if lxProbeErr != nil {
		t.Fatal(lxProbeErr)
	}
	return lxProbePath
}

// lxApplets are the busybox commands a test root offers.
var lxApplets = []string{"sh", "ps", "ls", "cat", "echo", "sleep", "true", "false", "id",
	"kill", "mount", "mknod", "chroot", "sysctl", "hostname", "readlink", "wc", "env", "pwd", "grep", "head"}

// lxTestRoot builds a tiny root: busybox with its libraries, the probe, an
// /etc with passwd and group, and /cell-marker (the host has none).
func lxTestRoot(t testing.TB) string {
	t.Helper()
	probe := lxProbe(t)
	root := t.TempDir()
	for _, d := range []string{"bin", "etc", "tmp", "proc", "dev", "root"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(root, "tmp"), 0o1777)
	lxCopyFile(t, "/bin/busybox", filepath.Join(root, "bin/busybox"))
	lxCopyFile(t, probe, filepath.Join(root, "bin/probe"))
	out, err := exec.Command("ldd", "/bin/busybox").Output()
	if err != nil {
		t.Fatalf("ldd busybox: %v", err)
	}
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "/") {
			dst := filepath.Join(root, f)
			os.MkdirAll(filepath.Dir(dst), 0o755)
			lxCopyFile(t, f, dst)
		}
	}
	for _, a := range lxApplets {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"etc/passwd":  "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
		"etc/group":   "root:x:0:\nnogroup:x:65534:\n",
		"cell-marker": "inside\n",
	}
	for p, c := range files {
		if err := os.WriteFile(filepath.Join(root, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func lxCopyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// lxTestDriver opens a driver on a private state directory; at the end
// every cell it knows is killed and destroyed, and the state removed.
func lxTestDriver(t testing.TB) *lxDriver {
	t.Helper()
	lxNeedCells(t)
	dir := t.TempDir()
	drv, err := Open(Options{StateDir: dir})
	if err != nil {
		t.Fatalf("open driver: %v", err)
	}
	d := drv.(*lxDriver)
	t.Cleanup(func() { lxForceCleanup(t, d) })
	return d
}

// lxForceCleanup kills whatever still runs in the driver's cells, destroys
// them and checks nothing is left (holders, cgroups).
func lxForceCleanup(t testing.TB, d *lxDriver) {
	recs, _ := d.st.records()
	for _, r := range recs {
		if t.Failed() {
			if b, _ := os.ReadFile(d.st.logPath(r.ID)); len(b) > 0 {
				t.Logf("holder log of cell %d:\n%s", r.ID, b)
			}
		}
		os.WriteFile(filepath.Join(r.Cgroup, "cgroup.kill"), []byte("1"), 0)
		var err error
		for i := 0; i < 100; i++ {
			err = d.Destroy(r.ID)
			if err == nil || errors.Is(err, ErrNotExist) {
				err = nil
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("cleanup: destroy cell %d: %v", r.ID, err)
			if fd, ok := lxHolderPidfd(r); ok {
				lxKillPidfd(fd)
			}
			lxCgroupRemove(r.Cgroup)
		}
	}
	d.Close()
	if _, err := os.Stat(d.cgBase); err == nil {
		t.Errorf("cleanup: cgroup %s left behind", d.cgBase)
		os.Remove(d.cgBase)
	}
}

// lxRun executes argv in the cell and returns its output and status.
func lxRun(t testing.TB, d Driver, id uint32, spec ExecSpec) (string, ExitStatus) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	spec.Stdout, spec.Stderr = w, w
	p, err := d.Exec(id, spec)
	w.Close()
	if err != nil {
		r.Close()
		t.Fatalf("exec %v in cell %d: %v", spec.Argv, id, err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(r)
	r.Close()
	st, err := p.Wait()
	if err != nil {
		t.Fatalf("wait %v in cell %d: %v", spec.Argv, id, err)
	}
	return buf.String(), st
}

// lxOut runs argv and returns its trimmed output, failing on a non-zero exit.
func lxOut(t testing.TB, d Driver, id uint32, argv ...string) string {
	t.Helper()
	out, st := lxRun(t, d, id, ExecSpec{Argv: argv})
	if !st.Success() {
		t.Fatalf("%v in cell %d: %+v: %s", argv, id, st, out)
	}
	return strings.TrimSpace(out)
}

func lxCreate(t testing.TB, d Driver, name, root string, p Profile) uint32 {
	t.Helper()
	id, err := d.Create(CreateSpec{Name: name, Root: root, Profile: p, ProfileSet: true})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return id
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
