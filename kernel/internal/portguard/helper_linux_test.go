package portguard

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The test binary re-executes itself as a helper: in a given cgroup it
// tries to bind a port, or it reserves ports from another process.
const (
	helperEnv = "PORTGUARD_TEST_HELPER" // "bind" or "reserve"
	portEnv   = "PORTGUARD_TEST_PORT"
	pinEnv    = "PORTGUARD_TEST_PINDIR"
	cgidEnv   = "PORTGUARD_TEST_CGID"
)

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "bind":
		port, _ := strconv.Atoi(os.Getenv(portEnv))
		for _, n := range socketKinds {
			fmt.Printf("%s=%s\n", n, bindResult(bindOnce(n, uint16(port))))
		}
		os.Exit(0)
	case "reserve":
		port, _ := strconv.Atoi(os.Getenv(portEnv))
		id, _ := strconv.ParseUint(os.Getenv(cgidEnv), 10, 64)
		g := New(Config{PinDir: os.Getenv(pinEnv)})
		if err := g.Reserve(id, []uint16{uint16(port)}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// socketKinds are the four combinations every bind check covers.
var socketKinds = []string{"tcp4", "udp4", "tcp6", "udp6"}

// bindOnce binds a fresh socket of kind to the loopback address and port,
// then closes it.
func bindOnce(kind string, port uint16) error {
	typ := unix.SOCK_STREAM
	if strings.HasPrefix(kind, "udp") {
		typ = unix.SOCK_DGRAM
	}
	var sa unix.Sockaddr
	family := unix.AF_INET
	if strings.HasSuffix(kind, "6") {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(port), Addr: [16]byte{15: 1}}
	} else {
		sa = &unix.SockaddrInet4{Port: int(port), Addr: [4]byte{127, 0, 0, 1}}
	}
	fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Bind(fd, sa)
}

// bindResult spells a bind outcome: "ok" or the errno name ("EPERM").
func bindResult(err error) string {
	var errno syscall.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &errno):
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

// bindIn runs the bind helper in the cgroup v2 directory dir (via clone3
// CLONE_INTO_CGROUP) and returns kind → outcome.
func bindIn(t *testing.T, dir string, port uint16) map[string]string {
	t.Helper()
	cg, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=bind", portEnv+"="+strconv.Itoa(int(port)))
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cg.Fd())}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bind helper in %s: %v", dir, err)
	}
	res := map[string]string{}
	for _, line := range strings.Fields(string(out)) {
		k, v, _ := strings.Cut(line, "=")
		res[k] = v
	}
	return res
}

// bindHere binds from the test process itself (a host process).
func bindHere(port uint16) map[string]string {
	res := map[string]string{}
	for _, n := range socketKinds {
		res[n] = bindResult(bindOnce(n, port))
	}
	return res
}

// wantAll fails unless every kind had outcome want.
func wantAll(t *testing.T, who string, port uint16, got map[string]string, want string) {
	t.Helper()
	for _, n := range socketKinds {
		if got[n] != want {
			t.Errorf("%s: bind %s port %d: got %q, want %q", who, n, port, got[n], want)
		}
	}
}

// ephemeral asks the kernel for a currently unused TCP port.
func ephemeral() (uint16, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return 0, err
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return 0, err
	}
	return uint16(sa.(*unix.SockaddrInet4).Port), nil
}
