package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"cells/modules/fs"
)

// readMountTable reads this mount namespace's mounts from
// /proc/self/mountinfo, in mount order.
func readMountTable() ([]mountEntry, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("mount table: %w", err)
	}
	defer f.Close()
	var out []mountEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superopts
		fl := strings.Fields(sc.Text())
		sep := -1
		for i := 6; i < len(fl); i++ {
			if fl[i] == "-" {
				sep = i
				break
			}
		}
		if len(fl) < 7 || sep < 0 || sep+3 > len(fl) {
			return nil, fmt.Errorf("mount table: malformed line: %q", sc.Text())
		}
		e := mountEntry{Point: unescapeMountinfo(fl[4]), FSType: fl[sep+1], Source: unescapeMountinfo(fl[sep+2])}
		if sep+3 < len(fl) {
			e.Opts = unescapeMountinfo(fl[sep+3])
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("mount table: %w", err)
	}
	return out, nil
}

// unmountOnce unmounts the topmost mount at p. Why UMOUNT_NOFOLLOW and the
// no-symlink check first: the path lies inside a cell root whose contents
// the cell controls; a link swapped into it must not make the host unmount
// one of its own file systems.
func unmountOnce(p string, lazy bool) error {
	if err := checkNoLinks(p); err != nil {
		return err
	}
	flags := unix.UMOUNT_NOFOLLOW
	if lazy {
		flags |= unix.MNT_DETACH
	}
	return unmountResult(unix.Unmount(p, flags))
}

// checkNoLinks verifies that no component of the absolute path p is a
// symlink, with the kernel doing the walk (RESOLVE_NO_SYMLINKS). The
// descriptor is closed at once: an open descriptor would keep the mount
// busy.
func checkNoLinks(p string) error {
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_NO_SYMLINKS}
	fd, err := unix.Openat2(unix.AT_FDCWD, p, &how)
	if errors.Is(err, unix.ENOSYS) {
		return nil // < 5.6: UMOUNT_NOFOLLOW alone guards the last component
	}
	if errors.Is(err, unix.ELOOP) {
		return fmt.Errorf("refusing to unmount %s: a path component is a symlink", p)
	}
	if err != nil {
		return err
	}
	unix.Close(fd)
	return nil
}

// Flags of the read-only, no-setuid, no-devices remount of bound system
// directories and of declared mounts.
const (
	bindSafeFlags = unix.MS_NOSUID | unix.MS_NODEV
	bindROFlags   = bindSafeFlags | unix.MS_RDONLY
)

// bindInRoot binds the host directory source onto target, a path inside
// the mounted cell root, and remounts it with flags. The target is created
// and resolved inside the root (modules/fs: RESOLVE_IN_ROOT), both ends
// are handed to mount(2) as /proc/self/fd paths, so what was resolved is
// what is mounted, and the result is verified afterwards. exact demands
// that the target is the literal path (no link inside the root either).
// A target already mounted from the same source is left alone.
func bindInRoot(root, target, source string, flags uintptr, exact bool, log *mountLog) error {
	r, err := fs.OpenRoot(root)
	if err != nil {
		return fmt.Errorf("cell root: %w", err)
	}
	defer r.Close()
	tf, err := r.MkdirAll(target, 0o755)
	if err != nil {
		return fmt.Errorf("mount target %s: %w", target, err)
	}
	defer tf.Close()
	real, err := fs.RealPath(tf)
	if err != nil {
		return err
	}
	want := r.Join(target)
	switch {
	case real == root || !withinDir(real, root):
		return fmt.Errorf("mount target %s: resolves outside the cell root (%s)", target, real)
	case exact && real != want:
		return fmt.Errorf("mount target %s: resolves to %s through a symlink", target, real)
	}
	sfd, err := unix.Open(source, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("mount source %s: %w", source, err)
	}
	src := os.NewFile(uintptr(sfd), source)
	defer src.Close()
	table, err := readMountTable()
	if err != nil {
		return err
	}
	if _, mounted := topMount(table, real); mounted {
		if sameObject(tf, src) {
			return nil
		}
		return fmt.Errorf("mount target already mounted with different source: %s", real)
	}
	// Why /proc/self/fd: mount(2) then acts on the very directories the
	// descriptors hold; a link swapped into the path since the lookup
	// cannot redirect the mount (CVE-2021-30465).
	if err := unix.Mount(fs.FdPath(src), fs.FdPath(tf), "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("mount %s on %s: %w", source, real, err)
	}
	log.add(real)
	// Verify: the target, resolved again, is now the source's top, at
	// the same place.
	vf, err := r.OpenDir(target)
	if err != nil {
		return fmt.Errorf("mount %s on %s: verify: %w", source, real, err)
	}
	defer vf.Close()
	if got, err := fs.RealPath(vf); err != nil || got != real || !sameObject(vf, src) {
		return fmt.Errorf("mount %s on %s: verify: the target changed while mounting", source, real)
	}
	// A bind mount takes its flags from a remount of the new mount.
	if err := unix.Mount("", fs.FdPath(vf), "", unix.MS_REMOUNT|unix.MS_BIND|flags, ""); err != nil {
		return fmt.Errorf("remount %s: %w", real, err)
	}
	return nil
}

// sameObject reports whether two descriptors refer to the same directory.
func sameObject(a, b *os.File) bool {
	var sa, sb unix.Stat_t
	if unix.Fstat(int(a.Fd()), &sa) != nil || unix.Fstat(int(b.Fd()), &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// mountDeclaredOne binds one planned mount into the root.
func mountDeclaredOne(root string, m PlannedMount, log *mountLog) error {
	flags := uintptr(bindSafeFlags)
	if m.ReadOnly {
		flags = bindROFlags
	}
	return bindInRoot(root, m.Target, m.Source, flags, false, log)
}
