//go:build linux

package kernel

import (
	"os"
	"strings"
	"testing"
)

// lxHostMounts returns the host's mount table lines that mention dir.
func lxHostMounts(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, dir) {
			out = append(out, l)
		}
	}
	return out
}

// TestLinuxCellView: what an ordinary program sees inside a cell (a
// minimal /dev, its own /proc with the kernel's secrets masked) and that
// none of the cell's mounts shows on the host.
func TestLinuxCellView(t *testing.T) {
	d := lxTestDriver(t)
	root := lxTestRoot(t)
	before := lxHostMounts(t, root)
	id := lxCreate(t, d, "view", root, ProfileMedium)
	if after := lxHostMounts(t, root); len(after) != len(before) {
		t.Errorf("cell mounts leaked to the host:\n%s", strings.Join(after, "\n"))
	}
	if got := lxOut(t, d, id, "ls", "/dev"); strings.Join(strings.Fields(got), " ") !=
		"fd full null ptmx pts random shm stderr stdin stdout tty urandom zero" {
		t.Errorf("/dev: %q", got)
	}
	nobody := &Cred{UID: 65534, GID: 65534}
	out, st := lxRun(t, d, id, ExecSpec{Argv: []string{"sh", "-c",
		"echo x >/dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c && echo x >/dev/shm/f && cat /dev/shm/f"}, Cred: nobody})
	if !st.Success() || strings.Fields(out)[0] != "4" || !strings.HasSuffix(out, "x\n") {
		t.Errorf("devices as nobody: %q %+v", out, st)
	}
	for _, p := range lxMaskedFiles {
		if _, err := os.Stat(p); err != nil {
			continue // not in this kernel
		}
		if got := lxOut(t, d, id, "sh", "-c", "wc -c <"+p); got != "0" {
			t.Errorf("masked %s: %q bytes", p, got)
		}
	}
	if got := lxOut(t, d, id, "cat", "/proc/1/comm"); got != "cells-init" {
		t.Errorf("holder name: %q", got)
	}
	out, st = lxRun(t, d, id, ExecSpec{Argv: []string{"sh", "-c", "echo 1 >/proc/sys/kernel/domainname"}})
	if st.Success() || !strings.Contains(out, "Read-only") {
		t.Errorf("/proc/sys write in MEDIUM: %q %+v", out, st)
	}
}
