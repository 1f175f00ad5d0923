package cellabi

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// linuxRealSys is the Linux twin of the NetBSD helper interface: real
// chroot, chdir, credentials, limits and a raw execve; only the kernel
// (enter) is the fake. It checks on a real kernel what the fakes cannot:
// raising a hard limit works in the chosen order, the final exec works
// from inside the new root as the final user, and the tail survives an
// address-space limit far below the Go runtime's reservation.
type linuxRealSys struct {
	k    *FakeKernel
	rlim *syscall.Rlimit
}

const realRootEnv = "CELLABI_REAL_ROOT"

func init() {
	realSys = func() InitSetup {
		k := NewFakeKernel()
		k.Stat = func(string) (bool, error) { return true, nil }
		c := &Create{}
		_ = c.SetName("real")
		_ = c.SetRoot(os.Getenv(realRootEnv))
		if _, err := (Driver{k}).Create(c); err != nil {
			panic(err)
		}
		return &linuxRealSys{k: k, rlim: new(syscall.Rlimit)}
	}
}

func (s *linuxRealSys) Sysctl(name string, old []byte, oldlen *int, new []byte) error {
	return s.k.Sysctl(name, old, oldlen, new)
}

func (s *linuxRealSys) MaxFD() (int, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	max := 2
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && n > max {
			max = n
		}
	}
	return max, nil
}

func (s *linuxRealSys) FDFlags(fd int) (bool, bool) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	if e != 0 {
		return false, false
	}
	return true, r&syscall.FD_CLOEXEC != 0
}

func (s *linuxRealSys) CloseFD(fd int) error     { return syscall.Close(fd) }
func (s *linuxRealSys) CloseOnExec(fd int) error { syscall.CloseOnExec(fd); return nil }

func (s *linuxRealSys) Chroot(dir string) error {
	if err := syscall.Chroot(dir); err != nil {
		return err
	}
	c := s.k.Caller()
	c.Root = dir
	s.k.SetCaller(c)
	return nil
}

func (s *linuxRealSys) Chdir(dir string) error { return syscall.Chdir(dir) }

func (s *linuxRealSys) Setgroups(g []uint32) error {
	gs := make([]int, len(g))
	for i, v := range g {
		gs[i] = int(v)
	}
	return syscall.Setgroups(gs)
}

func (s *linuxRealSys) Setgid(g uint32) error { return syscall.Setgid(int(g)) }

func (s *linuxRealSys) Setuid(u uint32) error { return syscall.Setuid(int(u)) }

func (s *linuxRealSys) Stat(p string) (fs.FileMode, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	return fi.Mode(), nil
}

func (s *linuxRealSys) Setrlimit(r Resource, v uint64) error {
	res := map[Resource]int{ResourceNofile: syscall.RLIMIT_NOFILE, ResourceAS: syscall.RLIMIT_AS, ResourceCore: syscall.RLIMIT_CORE}[r]
	s.rlim.Cur, s.rlim.Max = v, v
	_, _, e := syscall.RawSyscall(syscall.SYS_SETRLIMIT, uintptr(res), uintptr(unsafe.Pointer(s.rlim)), 0)
	if e != 0 {
		return e
	}
	return nil
}

func (s *linuxRealSys) PrepareExec(p string, argv, env []string) (func() error, error) {
	pathp, err := syscall.BytePtrFromString(p)
	if err != nil {
		return nil, err
	}
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return nil, err
	}
	envp, err := syscall.SlicePtrFromStrings(env)
	if err != nil {
		return nil, err
	}
	return func() error {
		_, _, e := syscall.RawSyscall(syscall.SYS_EXECVE,
			uintptr(unsafe.Pointer(pathp)), uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])))
		return e
	}, nil
}

// busyboxRoot builds a minimal root with busybox and its shared libraries.
func busyboxRoot(t *testing.T) string {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("needs busybox")
	}
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile := func(src, dst string) {
		t.Helper()
		in, err := os.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(bb, filepath.Join(root, "bin/busybox"))
	for _, name := range []string{"sh", "id"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", name)); err != nil {
			t.Fatal(err)
		}
	}
	ldd, err := exec.Command("ldd", bb).Output()
	if err != nil {
		t.Skipf("ldd %s: %v", bb, err)
	}
	for _, f := range strings.Fields(string(ldd)) {
		if strings.HasPrefix(f, "/") {
			copyFile(f, filepath.Join(root, f))
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "srv"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestInitRealSyscalls(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: chroot, setuid and raising a hard limit")
	}
	root := busyboxRoot(t)
	var hard syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &hard); err != nil {
		t.Fatal(err)
	}
	nofile := hard.Max + 1000 // raising the hard limit needs privilege: proves the order
	if !hasCap(t, 24) {
		t.Logf("no CAP_SYS_RESOURCE here: nofile %d stays at the hard limit instead of raising it", hard.Max)
		nofile = hard.Max
	}
	const as = 512 << 20 // far below the helper's own ~1.2 GB of reservations
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := &exec.Cmd{Path: exe, Args: []string{"cells-init"}, Stdout: out, Stderr: out,
		Env: []string{realSysEnv + "=1", realRootEnv + "=" + root}}
	req := &InitRequest{
		Version: InitRequestVersion, ID: 1, Root: root,
		Argv: []string{"sh", "-c", "id -u; id -g; id -G; ulimit -n; ulimit -Hn; ulimit -v; ulimit -c; pwd; echo $$"},
		Env:  []string{"PATH=/bin"}, Dir: "srv",
		Cred:    &InitCred{UID: 1000, GID: 1001, Groups: []uint32{1001, 5}},
		Rlimits: []InitRlimit{{ResourceNofile, nofile}, {ResourceAS, as}, {ResourceCore, 0}},
	}
	if err := StartInit(cmd, req); err != nil {
		t.Fatalf("StartInit: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("command: %v: %s", err, b)
	}
	b, _ := os.ReadFile(out.Name())
	want := fmt.Sprintf("1000\n1001\n1001 5\n%d\n%d\n%d\n0\n/srv\n%d\n", nofile, nofile, as>>10, cmd.Process.Pid)
	if string(b) != want {
		t.Fatalf("inside the cell:\n%s\nwant:\n%s", b, want)
	}
}

// hasCap reports whether capability bit c is in the effective set.
func hasCap(t *testing.T, c uint) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n&(1<<c) != 0
		}
	}
	return false
}
