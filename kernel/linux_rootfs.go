//go:build linux

package kernel

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// lxMaskedFiles and lxMaskedDirs hide kernel information from every cell,
// as runc does; lxReadOnlyPaths are bound read-only from MEDIUM up.
var (
	lxMaskedFiles = []string{"/proc/kcore", "/proc/keys", "/proc/timer_list",
		"/proc/latency_stats", "/proc/sched_debug", "/proc/timer_stats"}
	lxMaskedDirs    = []string{"/proc/acpi", "/proc/scsi", "/proc/asound"}
	lxReadOnlyPaths = []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/bus",
		"/proc/fs", "/proc/irq"}
)

// lxDevNodes are the character devices of the cell's /dev.
var lxDevNodes = []struct {
	name         string
	major, minor uint32
}{{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}}

// lxSetupRoot runs in the holder, PID 1 of fresh PID, mount, UTS and IPC
// namespaces, and turns its mount namespace into the cell's view: the
// cell root as "/", a fresh /proc of the cell's PID namespace, a minimal
// /dev. It returns an open descriptor of that /proc (the sampler reads it
// even if something is later mounted over /proc).
func lxSetupRoot(cfg *lxHolderConfig) (procDir int, err error) {
	step := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("cell %s: setup root: %s: %w", cfg.Name, what, err)
		}
		return nil
	}
	// Why MS_SLAVE|MS_REC: no mount made in the cell propagates back to the
	// host, while the host's unmounts under the root still reach the cell
	// (so a volume unmounted on the host is not kept busy by the cell).
	if err := step("make mounts private", unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, "")); err != nil {
		return -1, err
	}
	// pivot_root needs the new root to be a mount point.
	if err := step("bind root", unix.Mount(cfg.RootAbs, cfg.RootAbs, "", unix.MS_BIND|unix.MS_REC, "")); err != nil {
		return -1, err
	}
	if err := step("chdir root", unix.Chdir(cfg.RootAbs)); err != nil {
		return -1, err
	}
	// pivot_root(".", ".") stacks the old root on top of the new one; the
	// lazy unmount then drops it, so no path leads back to the host.
	if err := step("pivot_root", unix.PivotRoot(".", ".")); err != nil {
		return -1, err
	}
	if err := step("detach old root", unix.Unmount(".", unix.MNT_DETACH)); err != nil {
		return -1, err
	}
	if err := step("chdir /", unix.Chdir("/")); err != nil {
		return -1, err
	}
	// From here every path is resolved inside the cell root: a symlink
	// planted there cannot lead out of it any more.
	if err := step("/dev", lxSetupDev()); err != nil {
		return -1, err
	}
	if err := step("/proc", lxEnsureDir("/proc", 0o555)); err != nil {
		return -1, err
	}
	if err := step("mount /proc", unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")); err != nil {
		return -1, err
	}
	procDir, err = unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, step("open /proc", err)
	}
	for _, p := range lxMaskedFiles {
		if err := unix.Mount("/dev/null", p, "", unix.MS_BIND, ""); err != nil && !errors.Is(err, unix.ENOENT) {
			return -1, step("mask "+p, err)
		}
	}
	for _, p := range lxMaskedDirs {
		if err := unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=0"); err != nil && !errors.Is(err, unix.ENOENT) {
			return -1, step("mask "+p, err)
		}
	}
	if lxReadOnlyProc(cfg.Profile) {
		for _, p := range lxReadOnlyPaths {
			if err := lxBindReadOnly(p); err != nil && !errors.Is(err, unix.ENOENT) {
				return -1, step("read-only "+p, err)
			}
		}
	}
	if err := step("hostname", unix.Sethostname([]byte(cfg.Name))); err != nil {
		return -1, err
	}
	return procDir, nil
}

// lxBindReadOnly binds p over itself and remounts the bind read-only.
func lxBindReadOnly(p string) error {
	if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	return unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}

// lxEnsureDir makes sure p is a directory, creating it when missing; a
// symlink or file there is an error rather than something to follow.
func lxEnsureDir(p string, mode uint32) error {
	var st unix.Stat_t
	err := unix.Lstat(p, &st)
	if errors.Is(err, unix.ENOENT) {
		return unix.Mkdir(p, mode)
	}
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("%s: not a directory: %w", p, unix.ENOTDIR)
	}
	return nil
}

// lxSetupDev mounts a small tmpfs on /dev with the usual character
// devices (made with mknod: the holder has CAP_MKNOD, the cell from
// MEDIUM up does not), a private devpts instance, /dev/shm and the fd
// symlinks.
func lxSetupDev() error {
	if err := lxEnsureDir("/dev", 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", "/dev", "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=755,size=64k,nr_inodes=256"); err != nil {
		return err
	}
	for _, d := range lxDevNodes {
		p := "/dev/" + d.name
		if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return fmt.Errorf("mknod %s: %w", p, err)
		}
		if err := unix.Chmod(p, 0o666); err != nil {
			return err
		}
	}
	if err := unix.Mkdir("/dev/pts", 0o755); err != nil {
		return err
	}
	if err := unix.Mount("devpts", "/dev/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"); err != nil {
		return fmt.Errorf("devpts: %w", err)
	}
	if err := unix.Mkdir("/dev/shm", 0o1777); err != nil {
		return err
	}
	if err := unix.Mount("shm", "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777,size=65536k"); err != nil {
		return fmt.Errorf("shm: %w", err)
	}
	links := [][2]string{{"pts/ptmx", "/dev/ptmx"}, {"/proc/self/fd", "/dev/fd"},
		{"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"}}
	for _, l := range links {
		if err := unix.Symlink(l[0], l[1]); err != nil {
			return err
		}
	}
	return nil
}
