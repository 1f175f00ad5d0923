//go:build netbsd

package kernel

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"cells/kernel/cellabi"
)

// netbsdInitSys is the enter helper's system interface on NetBSD. Every
// call acts on the whole process: NetBSD keeps root directory, credentials
// (and with them the cell id) and limits per process, not per thread.
type netbsdInitSys struct {
	*netbsdSysctl
	rlim *syscall.Rlimit // preallocated: Setrlimit must not allocate
}

func newNetbsdInitSys() *netbsdInitSys {
	s := &netbsdInitSys{netbsdSysctl: newNetbsdSysctl(), rlim: new(syscall.Rlimit)}
	// Resolve the id node while still on the host; a failure shows again,
	// with context, when the enter step writes it.
	_, _ = s.mib(cellabi.NodeID)
	return s
}

// MaxFD uses fcntl(F_MAXFD): the highest open descriptor, without probing
// every number up to the NOFILE limit.
func (*netbsdInitSys) MaxFD() (int, error) {
	return unix.FcntlInt(0, unix.F_MAXFD, 0)
}

func (*netbsdInitSys) FDFlags(fd int) (open, cloexec bool) {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		return false, false
	}
	return true, fl&unix.FD_CLOEXEC != 0
}

func (*netbsdInitSys) CloseFD(fd int) error { return unix.Close(fd) }

func (*netbsdInitSys) CloseOnExec(fd int) error {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC)
	return err
}

// Setrlimit runs after the address-space limit may be in place, so it uses
// the preallocated Rlimit and a plain system call (cellabi.InitSys).
// CELL_RLIMIT_INFINITY is RLIM_INFINITY, 2^63-1 on NetBSD, not ~0.
func (s *netbsdInitSys) Setrlimit(r cellabi.Resource, v uint64) error {
	var res int
	switch r {
	case cellabi.ResourceNofile:
		res = syscall.RLIMIT_NOFILE
	case cellabi.ResourceAS:
		res = syscall.RLIMIT_AS
	case cellabi.ResourceCore:
		res = syscall.RLIMIT_CORE
	default:
		return syscall.EINVAL
	}
	if v == cellabi.RlimitInfinity || v > syscall.RLIM_INFINITY {
		v = syscall.RLIM_INFINITY
	}
	s.rlim.Cur, s.rlim.Max = v, v
	_, _, e := syscall.RawSyscall(syscall.SYS_SETRLIMIT, uintptr(res), uintptr(unsafe.Pointer(s.rlim)), 0)
	if e != 0 {
		return e
	}
	return nil
}

func (*netbsdInitSys) Chroot(dir string) error { return unix.Chroot(dir) }

func (*netbsdInitSys) Chdir(dir string) error { return unix.Chdir(dir) }

func (*netbsdInitSys) Setgroups(gids []uint32) error {
	g := make([]int, len(gids))
	for i, v := range gids {
		g[i] = int(v)
	}
	return unix.Setgroups(g)
}

func (*netbsdInitSys) Setgid(gid uint32) error { return unix.Setgid(int(gid)) }

func (*netbsdInitSys) Setuid(uid uint32) error { return unix.Setuid(int(uid)) }

func (*netbsdInitSys) Stat(p string) (fs.FileMode, error) {
	fi, err := os.Stat(p)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return 0, pe.Err
		}
		return 0, err
	}
	return fi.Mode(), nil
}

// PrepareExec builds execve's C arrays now, so that the returned call does
// not allocate (cellabi.InitSys). It is syscall.Exec without its
// allocations; unlike syscall.Exec it does not put back the soft NOFILE
// limit the Go runtime raised at start, so a cell without a nofile limit
// runs its command with soft = hard.
func (*netbsdInitSys) PrepareExec(p string, argv, env []string) (func() error, error) {
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
