package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"cells/runtime/paths"
)

// baseWritableLinks are the names of the read-only base that lead into the
// cell's overlay (reference §5.1).
var baseWritableLinks = map[string]string{
	"etc": ".overlay/etc", "var": ".overlay/var", "tmp": ".overlay/tmp",
	"home": ".overlay/home", "root": ".overlay/root", "opt": ".overlay/opt",
	".cshrc": ".overlay/.cshrc", ".profile": ".overlay/.profile",
	"usr/pkg": "../.overlay/usr/pkg",
}

// overlayDirs are created in every cell overlay (0755; tmp 01777).
var overlayDirs = []string{"etc", "var", "tmp", "home", "root", "usr/pkg", "opt", "var/run", "var/log"}

// MountCellRoot materialises the root of cell name as upstream does
// (reference §6.1): the base null-mounted read-only at root/, the overlay
// null-mounted at root/.overlay, a tmpfs /dev populated by MAKEDEV and a
// ptyfs at /dev/pts. Idempotent; on failure the mounts made are undone.
func MountCellRoot(p paths.Paths, name string, logf func(string, ...any)) error {
	release, arch, err := Uname()
	if err != nil {
		return err
	}
	base := BaseDir(p, release, arch)
	if fi, err := os.Stat(base); err != nil || !fi.IsDir() {
		return fmt.Errorf("missing %s; run bootstrap first", base)
	}
	if err := ensureBaseLinks(base); err != nil {
		return err
	}
	l := Layout(p, name)
	if err := prepareOverlay(p, release, arch, l); err != nil {
		return err
	}
	log := &mountLog{}
	fail := func(err error) error {
		log.rollback(logf)
		return err
	}
	table, err := readMountTable()
	if err != nil {
		return err
	}
	if e, ok := topMount(table, l.Root); ok {
		if e.Source != base {
			return fmt.Errorf("cell root already mounted with different source: %s", l.Root)
		}
	} else {
		if err := runMount("mount", "-t", "null", "-o", "ro", base, l.Root); err != nil {
			return err
		}
		log.add(l.Root)
	}
	ovPoint := filepath.Join(l.Root, ".overlay")
	if e, ok := topMount(table, ovPoint); ok {
		if e.Source != l.Overlay {
			return fail(fmt.Errorf("overlay mountpoint already mounted with different source: %s", ovPoint))
		}
	} else {
		if err := runMount("mount", "-t", "null", l.Overlay, ovPoint); err != nil {
			return fail(err)
		}
		log.add(ovPoint)
	}
	if err := mountLocalDev(p, release, arch, l, table, log); err != nil {
		return fail(err)
	}
	return nil
}

// ensureBaseLinks re-applies the writable links of the base.
func ensureBaseLinks(base string) error {
	if err := os.MkdirAll(filepath.Join(base, ".overlay"), 0o755); err != nil {
		return fmt.Errorf("base: %w", err)
	}
	for name, target := range baseWritableLinks {
		p := filepath.Join(base, name)
		if cur, err := os.Readlink(p); err == nil && cur == target {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("base: %w", err)
		}
		if err := os.Symlink(target, p); err != nil {
			return fmt.Errorf("base: %w", err)
		}
	}
	return nil
}

// etcSet is the release's etc.tar.xz.
func etcSet(p paths.Paths, release, arch string) string {
	return filepath.Join(p.ReleaseDir, release, arch, "etc.tar.xz")
}

// prepareOverlay creates root/ and the overlay tree, seeds /etc from the
// etc set on first use and copies the host's resolver and time zone.
func prepareOverlay(p paths.Paths, release, arch string, l CellLayout) error {
	if err := os.MkdirAll(l.Root, 0o755); err != nil {
		return fmt.Errorf("cell root: %w", err)
	}
	for _, d := range overlayDirs {
		if err := os.MkdirAll(filepath.Join(l.Overlay, d), 0o755); err != nil {
			return fmt.Errorf("overlay: %w", err)
		}
	}
	if err := os.Chmod(filepath.Join(l.Overlay, "tmp"), os.ModeSticky|0o777); err != nil {
		return fmt.Errorf("overlay: %w", err)
	}
	if _, err := os.Lstat(filepath.Join(l.Overlay, "etc/rc.conf")); errors.Is(err, os.ErrNotExist) {
		set := etcSet(p, release, arch)
		if _, err := os.Stat(set); err != nil {
			return fmt.Errorf("missing %s; run system bootstrap", set)
		}
		if err := runMount("tar", "-xJpf", set, "-C", l.Overlay, "./.cshrc", "./.profile", "./etc", "./root", "./var"); err != nil {
			return err
		}
	}
	for _, f := range []string{"/etc/resolv.conf", "/etc/localtime"} {
		dst := filepath.Join(l.Overlay, f)
		if _, err := os.Lstat(dst); err == nil {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			continue
		}
		if exec.Command("cp", "-P", f, dst).Run() != nil {
			if err := runMount("cp", f, dst); err != nil {
				return err
			}
		}
	}
	return nil
}

// mountLocalDev mounts the cell's own /dev (tmpfs + MAKEDEV std ptm) and
// /dev/pts (ptyfs).
func mountLocalDev(p paths.Paths, release, arch string, l CellLayout, table []mountEntry, log *mountLog) error {
	if _, err := exec.LookPath("mount_tmpfs"); err != nil {
		return errors.New("missing required tool: mount_tmpfs")
	}
	dev := filepath.Join(l.Root, "dev")
	if e, ok := topMount(table, dev); ok {
		if e.FSType != "tmpfs" {
			return fmt.Errorf("/dev already mounted with different source: %s", dev)
		}
	} else {
		if err := runMount("mount_tmpfs", "-s", "8m", "tmpfs", dev); err != nil {
			return err
		}
		log.add(dev)
		makedev := filepath.Join(dev, "MAKEDEV")
		if _, err := os.Stat(makedev); err != nil {
			set := etcSet(p, release, arch)
			if err := runMount("tar", "-xJpf", set, "-C", l.Root, "./dev/MAKEDEV"); err != nil {
				return err
			}
			if err := os.Chmod(makedev, 0o555); err != nil {
				return err
			}
		}
		if err := runMount("sh", "-c", "cd "+shellQuote(dev)+" && sh ./MAKEDEV std ptm"); err != nil {
			return err
		}
	}
	pts := filepath.Join(dev, "pts")
	if err := os.MkdirAll(pts, 0o755); err != nil {
		return err
	}
	if e, ok := topMount(table, pts); ok {
		if e.FSType != "ptyfs" {
			return fmt.Errorf("/dev/pts already mounted with different source: %s", pts)
		}
		return nil
	}
	if err := runMount("mount", "-t", "ptyfs", "ptyfs", pts); err != nil {
		return err
	}
	log.add(pts)
	return nil
}

// shellQuote quotes s for sh(1).
func shellQuote(s string) string {
	out := "'"
	for _, c := range s {
		if c == '\'' {
			out += `'\''`
			continue
		}
		out += string(c)
	}
	return out + "'"
}
