//go:build linux

package kernel

import (
	"errors"
	"net"
	"strconv"
	"syscall"
	"testing"

	"cells/kernel/internal/portguard"
)

// TestLinuxReservedPortsEndToEnd: a cell's reserved port is bindable by
// that cell only; another cell cannot reserve it; destroy frees it.
func TestLinuxReservedPortsEndToEnd(t *testing.T) {
	d := lxTestDriver(t)
	if err := portguard.Supported(); err != nil {
		t.Skipf("needs cgroup-BPF bind hooks: %v", err)
	}
	root := lxTestRoot(t)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	ps := strconv.Itoa(int(port))

	owner, err := d.Create(CreateSpec{Name: "owner", Root: root, Ports: []uint16{port}})
	if err != nil {
		t.Fatalf("create with port %d: %v", port, err)
	}
	if _, err := d.Create(CreateSpec{Name: "thief", Root: root, Ports: []uint16{port}}); !errors.Is(err, ErrExist) {
		t.Fatalf("second reservation of %d: got %v, want ErrExist", port, err)
	}
	other := lxCreate(t, d, "other", root, ProfileLow)
	if got := lxOut(t, d, owner, "probe", "bind", ps); got != "ok" {
		t.Errorf("owner binds its port: %q", got)
	}
	if got := lxOut(t, d, other, "probe", "bind", ps); got != "err EPERM" {
		t.Errorf("other cell binds the reserved port: %q, want err EPERM", got)
	}
	if err := lxHostBind(port); !errors.Is(err, syscall.EPERM) {
		t.Errorf("host binds the reserved port: %v, want EPERM", err)
	}
	if err := d.Destroy(owner); err != nil {
		t.Fatal(err)
	}
	if err := lxHostBind(port); err != nil {
		t.Errorf("port after destroy: %v", err)
	}
}

func lxHostBind(port uint16) error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	return syscall.Bind(fd, &syscall.SockaddrInet4{Port: int(port), Addr: [4]byte{127, 0, 0, 1}})
}
