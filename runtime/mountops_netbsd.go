package runtime

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"cells/modules/fs"
)

// readMountTable reads the mounts with getvfsstat(2).
func readMountTable() ([]mountEntry, error) {
	// MNT_NOWAIT: cached statistics; names are all that is needed.
	n, err := unix.Getvfsstat(nil, unix.MNT_NOWAIT)
	if err != nil {
		return nil, fmt.Errorf("mount table: getvfsstat: %w", err)
	}
	buf := make([]unix.Statvfs_t, n+8)
	n, err = unix.Getvfsstat(buf, unix.MNT_NOWAIT)
	if err != nil {
		return nil, fmt.Errorf("mount table: getvfsstat: %w", err)
	}
	out := make([]mountEntry, 0, n)
	for _, st := range buf[:n] {
		out = append(out, mountEntry{
			Point:  unix.ByteSliceToString(st.Mntonname[:]),
			Source: unix.ByteSliceToString(st.Mntfromname[:]),
			FSType: unix.ByteSliceToString(st.Fstypename[:]),
		})
	}
	return out, nil
}

// unmountOnce unmounts p; the last resort is a forced unmount. The
// no-symlink check keeps a link swapped into the cell root from turning
// the unmount onto a host file system.
func unmountOnce(p string, force bool) error {
	if err := literalPath(p); err != nil {
		return err
	}
	flags := 0
	if force {
		flags = unix.MNT_FORCE
	}
	return unmountResult(unix.Unmount(p, flags))
}

// literalPath verifies that no component of the absolute path p is a
// symlink. NetBSD has no openat2; the window between this check and the
// mount or unmount that follows is closed only by the cell not running
// (mounts are made before the cell exists and removed after it is gone).
func literalPath(p string) error {
	cur := "/"
	for _, c := range strings.Split(strings.Trim(p, "/"), "/") {
		if c == "" {
			continue
		}
		cur = filepath.Join(cur, c)
		fi, err := os.Lstat(cur)
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("%s: a path component is a symlink: %s", p, cur)
		}
	}
	return nil
}

// runMount runs a mount tool and reports its output on failure.
func runMount(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("%s %s: %s", name, strings.Join(args, " "), msg)
	}
	return nil
}

// nullMount null-mounts source at the path target inside root (created
// inside the root first), unless it is already mounted from source.
func nullMount(root, target, source string, ro bool, log *mountLog) error {
	r, err := fs.OpenRoot(root)
	if err != nil {
		return fmt.Errorf("cell root: %w", err)
	}
	f, err := r.MkdirAll(target, 0o755)
	r.Close()
	if err != nil {
		return fmt.Errorf("mount target %s: %w", target, err)
	}
	f.Close()
	point := filepath.Join(root, target)
	if err := literalPath(point); err != nil {
		return fmt.Errorf("mount target %s: %w", target, err)
	}
	table, err := readMountTable()
	if err != nil {
		return err
	}
	if e, ok := topMount(table, point); ok {
		if e.Source == source {
			return nil
		}
		return fmt.Errorf("mount target already mounted with different source: %s", point)
	}
	args := []string{"-t", "null"}
	if ro {
		args = append(args, "-o", "ro")
	}
	if err := runMount("mount", append(args, source, point)...); err != nil {
		return err
	}
	log.add(point)
	if err := literalPath(point); err != nil {
		return fmt.Errorf("mount %s on %s: verify: %w", source, point, err)
	}
	return nil
}

// mountDeclaredOne null-mounts one planned mount into the root.
func mountDeclaredOne(root string, m PlannedMount, log *mountLog) error {
	return nullMount(root, m.Target, m.Source, m.ReadOnly, log)
}
