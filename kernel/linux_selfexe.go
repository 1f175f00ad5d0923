//go:build linux

package kernel

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// lxSealedSelf returns a descriptor of this binary on a private, detached,
// read-only mount; the holder is executed through /proc/self/fd/<fd>.
//
// Why (CVE-2019-5736): a process inside a cell that gets hold of the
// runtime's binary, through /proc/<pid>/exe of the holder or of an exec
// stage, or by making the stage execute "#!/proc/self/exe", could write
// to it and replace the host's cellctl. Three layers stop that here:
//  1. the holder and the exec stages run from a clone of the binary on a
//     detached mount (open_tree OPEN_TREE_CLONE) made read-only with
//     mount_setattr; the mount belongs to no mount namespace, so nothing in
//     the cell can remount it read-write, and every open of the binary
//     through /proc/<pid>/exe fails with EROFS;
//  2. the holder and the stages set PR_SET_DUMPABLE 0, so their /proc
//     entries (exe, fd, mem, environ) are closed to the cell's processes;
//  3. every profile drops CAP_SYS_PTRACE, which is what it would take to
//     bypass 2.
//
// No copy of the binary is made (runc's memfd clone costs the binary's size
// in memory per container), so an idle cell costs only the holder's pages.
func lxSealedSelf() (int, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, "/proc/self/exe", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("linux kernel: seal own binary: open_tree: %w", err)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("linux kernel: seal own binary: mount_setattr: %w", err)
	}
	return fd, nil
}
