package portguard

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// bpffsRoot is where bpffs is conventionally mounted (systemd does it on
// most distributions; we do it when nobody has).
const bpffsRoot = "/sys/fs/bpf"

// CgroupRoot returns the mount point of the cgroup v2 hierarchy: /sys/fs/cgroup
// on a pure v2 system, /sys/fs/cgroup/unified on a hybrid one. Detection is by
// filesystem magic, not by name, so a v1 tmpfs at /sys/fs/cgroup is skipped.
func CgroupRoot() (string, error) {
	for _, dir := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return dir, nil
		}
	}
	return "", fmt.Errorf("portguard: no cgroup v2 mount at /sys/fs/cgroup or /sys/fs/cgroup/unified: %w", ErrNotSupported)
}

// CgroupID returns the id of the cgroup v2 directory dir, the value
// bpf_get_current_cgroup_id() returns for its members: on 64-bit kernels
// (5.5 and later) the kernfs node id, which is the directory's inode number.
func CgroupID(dir string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return 0, fmt.Errorf("portguard: cgroup id of %s: %w", dir, err)
	}
	return st.Ino, nil
}

func (g *Guard) cgroupRoot() (string, error) {
	if g.cfg.CgroupRoot != "" {
		return g.cfg.CgroupRoot, nil
	}
	return CgroupRoot()
}

func isBPFFS(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && uint32(st.Type) == unix.BPF_FS_MAGIC
}

// mountedMarker records that this package mounted bpffs, so the last
// Release may unmount it again and leave the machine as it found it.
func (g *Guard) mountedMarker() string {
	return filepath.Join(filepath.Dir(g.cfg.LockFile), "portguard.bpffs-mounted")
}

// ensurePinDir makes sure the pin directory exists on a bpffs, mounting
// bpffs at /sys/fs/bpf if the pin directory lives there and nothing is
// mounted yet.
func (g *Guard) ensurePinDir() error {
	parent := filepath.Dir(g.cfg.PinDir)
	if !isBPFFS(parent) {
		if parent != bpffsRoot {
			return fmt.Errorf("portguard: pin directory %s: parent is not a bpffs: %w", g.cfg.PinDir, ErrNotSupported)
		}
		if err := os.MkdirAll(bpffsRoot, 0o700); err != nil {
			return fmt.Errorf("portguard: mount bpffs: %w", err)
		}
		if err := unix.Mount("bpf", bpffsRoot, "bpf", 0, "mode=0700"); err != nil {
			return fmt.Errorf("portguard: mount bpffs at %s: %w", bpffsRoot, err)
		}
		if err := os.WriteFile(g.mountedMarker(), nil, 0o600); err != nil {
			return fmt.Errorf("portguard: mount bpffs: record mount: %w", err)
		}
	}
	if err := os.Mkdir(g.cfg.PinDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("portguard: create pin directory: %w", err)
	}
	return nil
}

// removePinDir removes the (empty) pin directory and, if this package
// mounted bpffs and nothing else uses it, unmounts it.
func (g *Guard) removePinDir() error {
	if err := os.Remove(g.cfg.PinDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("portguard: remove pin directory: %w", err)
	}
	parent := filepath.Dir(g.cfg.PinDir)
	if parent != bpffsRoot {
		return nil
	}
	if _, err := os.Stat(g.mountedMarker()); err != nil {
		return nil
	}
	entries, err := os.ReadDir(bpffsRoot)
	if err != nil || !isBPFFS(bpffsRoot) {
		return nil
	}
	for _, e := range entries {
		// The kernel's bpf_preload module puts these two iterators
		// into every new bpffs; anything else is somebody's pin.
		if e.Name() != "maps.debug" && e.Name() != "progs.debug" {
			return nil
		}
	}
	// A plain unmount (no MNT_DETACH): if anybody holds it open, EBUSY
	// leaves it mounted, which is harmless.
	if err := unix.Unmount(bpffsRoot, 0); err != nil {
		return nil
	}
	os.Remove(g.mountedMarker())
	return nil
}

// lock takes the guard's flock (exclusive or shared) and returns the
// function that drops it. The lock file stays in place between calls.
func (g *Guard) lock(exclusive bool) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(g.cfg.LockFile), 0o700); err != nil {
		return nil, fmt.Errorf("portguard: lock: %w", err)
	}
	f, err := os.OpenFile(g.cfg.LockFile, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("portguard: lock: %w", err)
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("portguard: lock %s: %w", g.cfg.LockFile, err)
	}
	// Closing the file drops the flock.
	return func() { f.Close() }, nil
}

// pin returns the path of a pin inside the pin directory.
func (g *Guard) pin(name string) string {
	return filepath.Join(g.cfg.PinDir, name)
}
