package runtime

import "golang.org/x/sys/unix"

// isMountRoot reports whether name in dirfd is the root of a mount. A bind
// mount of the same file system keeps the device number, so the device
// check alone misses it; statx reports STATX_ATTR_MOUNT_ROOT (Linux 5.8).
func isMountRoot(dirfd int, name string) bool {
	var stx unix.Statx_t
	if err := unix.Statx(dirfd, name, unix.AT_SYMLINK_NOFOLLOW, 0, &stx); err != nil {
		return false
	}
	return stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
}
