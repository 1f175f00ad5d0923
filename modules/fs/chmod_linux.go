package fs

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// pathOpenFlags open any object for fstat and fchmod through /proc.
const pathOpenFlags = unix.O_PATH

// fchmod changes the mode of the object behind the O_PATH descriptor fd.
//
// Why through /proc/self/fd: fchmod(2) refuses O_PATH descriptors, and
// fchmodat(AT_SYMLINK_NOFOLLOW) is unsupported before Linux 6.6; chmod(2)
// of the descriptor's magic link reaches exactly the resolved object, with
// no path the cell can influence.
func fchmod(fd int, mode uint32) error {
	return unix.Fchmodat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), mode, 0)
}
