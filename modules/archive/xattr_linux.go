package archive

import (
	"errors"

	"golang.org/x/sys/unix"
)

// opaqueXattr marks an overlayfs upper directory that hides the lower
// directory of the same name (the cell deleted and re-created it). Without
// it a restored overlay would show the base's contents again.
const opaqueXattr = "trusted.overlay.opaque"

// paxOpaque is the PAX record carrying opaqueXattr (the SCHILY.xattr
// convention of GNU and BSD tar).
const paxOpaque = "SCHILY.xattr." + opaqueXattr

// isOpaque reports whether the directory open at fd is an opaque overlayfs
// directory.
func isOpaque(fd int) bool {
	buf := make([]byte, 8)
	n, err := unix.Fgetxattr(fd, opaqueXattr, buf)
	return err == nil && n == 1 && buf[0] == 'y'
}

// setOpaque marks the directory open at fd opaque.
func setOpaque(fd int) error {
	if err := unix.Fsetxattr(fd, opaqueXattr, []byte("y"), 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
		return err
	}
	return nil
}
