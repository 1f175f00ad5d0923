package runtime

import "golang.org/x/sys/unix"

// whiteoutsSupported: NetBSD overlays are plain directories.
const whiteoutsSupported = false

// freeBytes is the space available to unprivileged users below dir.
func freeBytes(dir string) (int64, error) {
	var st unix.Statvfs_t
	if err := unix.Statvfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Frsize), nil
}
