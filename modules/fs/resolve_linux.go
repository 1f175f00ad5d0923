package fs

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// dirOpenFlags open directories for lookups and as mount targets only.
const dirOpenFlags = unix.O_PATH

// noOpenat2 is set once the kernel said openat2 does not exist (< 5.6).
var noOpenat2 atomic.Bool

// resolve opens rel below rootfd with flags, never leaving rootfd's tree.
func resolve(rootfd int, rel string, flags int) (int, error) {
	if forceWalk || noOpenat2.Load() {
		return walk(rootfd, rel, flags)
	}
	how := unix.OpenHow{
		Flags: uint64(flags | unix.O_CLOEXEC),
		// Why RESOLVE_IN_ROOT: the kernel treats rootfd as "/" for every
		// step, symlinks included, atomically with respect to renames.
		// RESOLVE_NO_MAGICLINKS: /proc/<pid>/fd/* style links inside
		// the tree could otherwise jump anywhere.
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	for i := 0; ; i++ {
		fd, err := unix.Openat2(rootfd, rel, &how)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.ENOSYS):
			noOpenat2.Store(true)
			return walk(rootfd, rel, flags)
		case (errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR)) && i < 16:
			// EAGAIN: a concurrent rename made the kernel's ".."
			// check inconclusive; it asks to try again.
			continue
		}
		return -1, err
	}
}

// FdPath is the path through which the kernel reaches exactly the object
// behind f (/proc/self/fd/<n>), for mount(2) sources and targets.
func FdPath(f *os.File) string { return fmt.Sprintf("/proc/self/fd/%d", f.Fd()) }

// RealPath is where f sits in this process's view of the file system, as
// the kernel reports it.
func RealPath(f *os.File) (string, error) {
	p, err := os.Readlink(FdPath(f))
	if err != nil {
		return "", fmt.Errorf("%s: real path: %w", f.Name(), err)
	}
	return p, nil
}

// isNoFollowErr reports the error O_NOFOLLOW gives for a symlink (ELOOP on
// Linux, handled by the caller).
func isNoFollowErr(error) bool { return false }
