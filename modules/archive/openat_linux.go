package archive

import (
	"errors"

	"golang.org/x/sys/unix"
)

// openBeneath opens directory rel below dirfd with openat2: RESOLVE_BENEATH
// keeps the lookup below dirfd and RESOLVE_NO_SYMLINKS refuses any symbolic
// link on the way, so an archive can never make a later entry land outside
// the staging tree. Kernels before 5.6 lack openat2; the component walk
// gives the same guarantee there.
func openBeneath(dirfd int, rel string) (int, error) {
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	}
	fd, err := unix.Openat2(dirfd, rel, &how)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		return walkBeneath(dirfd, rel)
	}
	return fd, err
}

// mkWhiteout makes an overlayfs whiteout: a character device 0:0.
func mkWhiteout(dirfd int, name string, mode uint32) error {
	return unix.Mknodat(dirfd, name, unix.S_IFCHR|mode&0o777, 0)
}
