//go:build netbsd

package kernel

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"cells/kernel/cellabi"
)

// netbsdInitSys is the enter helper's system interface on NetBSD. Every
// call acts on the whole process: NetBSD keeps root directory, credentials
// (and with them the cell id) and limits per process, not per thread.
type netbsdInitSys struct {
	*netbsdSysctl
}

// MaxFD uses fcntl(F_MAXFD): the highest open descriptor, without probing
// every number up to the NOFILE limit.
func (netbsdInitSys) MaxFD() (int, error) {
	return unix.FcntlInt(0, unix.F_MAXFD, 0)
}

func (netbsdInitSys) FDFlags(fd int) (open, cloexec bool) {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		return false, false
	}
	return true, fl&unix.FD_CLOEXEC != 0
}

func (netbsdInitSys) CloseFD(fd int) error { return unix.Close(fd) }

func (netbsdInitSys) CloseOnExec(fd int) error {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC)
	return err
}

// Setrlimit goes through package syscall, not x/sys: the Go runtime raises
// its own soft NOFILE limit at start and syscall.Exec puts the original
// back, unless syscall.Setrlimit was called for NOFILE; x/sys's Setrlimit
// would be silently undone at exec.
func (netbsdInitSys) Setrlimit(r cellabi.Resource, v uint64) error {
	var res int
	switch r {
	case cellabi.ResourceNofile:
		res = syscall.RLIMIT_NOFILE
	case cellabi.ResourceAS:
		res = syscall.RLIMIT_AS
	case cellabi.ResourceCore:
		res = syscall.RLIMIT_CORE
	default:
		return fmt.Errorf("unknown resource %q", r)
	}
	if v == cellabi.RlimitInfinity || v > syscall.RLIM_INFINITY {
		v = syscall.RLIM_INFINITY // 2^63-1 on NetBSD, not ~0
	}
	return syscall.Setrlimit(res, &syscall.Rlimit{Cur: v, Max: v})
}

func (netbsdInitSys) Chroot(dir string) error { return unix.Chroot(dir) }

func (netbsdInitSys) Chdir(dir string) error { return unix.Chdir(dir) }

func (netbsdInitSys) Setgroups(gids []uint32) error {
	g := make([]int, len(gids))
	for i, v := range gids {
		g[i] = int(v)
	}
	return unix.Setgroups(g)
}

func (netbsdInitSys) Setgid(gid uint32) error { return unix.Setgid(int(gid)) }

func (netbsdInitSys) Setuid(uid uint32) error { return unix.Setuid(int(uid)) }

func (netbsdInitSys) Stat(p string) (fs.FileMode, error) {
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

func (netbsdInitSys) Exec(p string, argv, env []string) error { return syscall.Exec(p, argv, env) }
