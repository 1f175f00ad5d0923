package runtime

import "golang.org/x/sys/unix"

// whiteoutsSupported: overlay backups keep overlayfs whiteouts (0:0
// character devices in the upper layer).
const whiteoutsSupported = true

// freeBytes is the space available to unprivileged users below dir.
func freeBytes(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
