package runtime

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Mounts returns the mount points and mount sources of the host, read with
// getvfsstat(2). A null mount's source (f_mntfromname) is the directory it
// was taken from, as in upstream's `mount` output.
func Mounts() (MountSet, error) {
	// MNT_NOWAIT: report the cached statistics; waiting for every file
	// system (a hung NFS server) is not worth it for names.
	n, err := unix.Getvfsstat(nil, unix.MNT_NOWAIT)
	if err != nil {
		return nil, fmt.Errorf("mounts: getvfsstat: %w", err)
	}
	buf := make([]unix.Statvfs_t, n+8) // room for mounts appearing meanwhile
	n, err = unix.Getvfsstat(buf, unix.MNT_NOWAIT)
	if err != nil {
		return nil, fmt.Errorf("mounts: getvfsstat: %w", err)
	}
	set := MountSet{}
	for _, st := range buf[:n] {
		set.add(unix.ByteSliceToString(st.Mntonname[:]))
		set.add(unix.ByteSliceToString(st.Mntfromname[:]))
	}
	return set, nil
}
