//go:build !linux

package fs

import "golang.org/x/sys/unix"

// pathOpenFlags open any object for fstat and fchmod: without O_PATH, read
// only, and without blocking on a FIFO.
const pathOpenFlags = unix.O_RDONLY | unix.O_NONBLOCK

// fchmod changes the mode of the object behind fd.
func fchmod(fd int, mode uint32) error { return unix.Fchmod(fd, mode) }
