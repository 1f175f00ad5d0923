package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"cells/runtime/paths"
)

// MountCellRoot materialises the root of cell name in the host's mount
// namespace: the overlayfs of the base layer and the cell's overlay, then
// the host's system directories that are real directories bound read-only
// on top (overlayfs does not show mounts that sit inside its lower layer).
// /dev and /proc are the kernel driver's, inside the cell's namespace.
// It is idempotent: a root already mounted from the same layers, and a
// system directory already bound, are kept; on failure the mounts this
// call made are undone.
func MountCellRoot(p paths.Paths, name string, logf func(string, ...any)) error {
	release, arch, err := Uname()
	if err != nil {
		return err
	}
	base := BaseDir(p, release, arch)
	if fi, err := os.Stat(base); err != nil || !fi.IsDir() {
		return fmt.Errorf("missing %s; run bootstrap first", base)
	}
	l := Layout(p, name)
	for _, d := range []string{l.Root, l.Upper, l.Work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("cell %s: %w", name, err)
		}
	}
	// The mount table names real paths; the prefix may be a link.
	l.Root, l.Upper, l.Work = canonicalPath(l.Root), canonicalPath(l.Upper), canonicalPath(l.Work)
	log := &mountLog{}
	if err := mountOverlayRoot(base, l, log); err != nil {
		return err
	}
	for _, d := range HostSystemDirs {
		host := filepath.Join("/", d)
		fi, err := os.Lstat(host)
		if err != nil || !fi.IsDir() {
			continue // absent, or a link the base mirrors (merged /usr)
		}
		if err := bindInRoot(l.Root, "/"+d, host, bindROFlags, true, log); err != nil {
			log.rollback(logf)
			return fmt.Errorf("cell root: %w", err)
		}
	}
	return nil
}

// mountOverlayRoot mounts the overlayfs at l.Root unless the same overlay
// is already there.
func mountOverlayRoot(base string, l CellLayout, log *mountLog) error {
	table, err := readMountTable()
	if err != nil {
		return err
	}
	if e, ok := topMount(table, l.Root); ok {
		if e.FSType == "overlay" && hasMountOpt(e.Opts, "lowerdir="+base) && hasMountOpt(e.Opts, "upperdir="+l.Upper) {
			return nil
		}
		return fmt.Errorf("cell root already mounted with different source: %s", l.Root)
	}
	for _, d := range []string{base, l.Upper, l.Work} {
		// The option string is split at ',' and lower layers at ':'.
		if strings.ContainsAny(d, ",:\\") {
			return fmt.Errorf("cell root: path not usable in overlay options: %s", d)
		}
	}
	opts := "lowerdir=" + base + ",upperdir=" + l.Upper + ",workdir=" + l.Work
	if err := unix.Mount("overlay", l.Root, "overlay", 0, opts); err != nil {
		return fmt.Errorf("cell root: mount overlay on %s: %w", l.Root, err)
	}
	log.add(l.Root)
	return nil
}

// hasMountOpt reports whether the comma-separated options contain opt.
func hasMountOpt(opts, opt string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == opt {
			return true
		}
	}
	return false
}
