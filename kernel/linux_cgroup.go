//go:build linux

package kernel

import (
	"bufio"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// lxCgroupRoot finds the cgroup v2 mount: /sys/fs/cgroup on a pure v2
// system, /sys/fs/cgroup/unified on a hybrid one, else the first cgroup2
// mount in mountinfo.
func lxCgroupRoot() (string, error) {
	for _, p := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st unix.Statfs_t
		if unix.Statfs(p, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return p, nil
		}
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("linux kernel: cgroup v2: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent maj:min root mountpoint options... - fstype source super
		fields := strings.Fields(sc.Text())
		for i, x := range fields {
			if x == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 {
				return fields[4], nil
			}
		}
	}
	return "", lxErrorf(ErrNotSupported, unix.ENOTSUP, "cgroup v2: no cgroup2 mount")
}

// lxCgroupParent is the cgroup holding the cells of one state directory:
// <v2 root>/cells-<FNV-1a 32 of the state dir, 8 hex digits>, so two state
// directories (tests, prefixes) do not collide on ids. (A collision would
// only make creates fail with EEXIST; the name is no secret, so no
// cryptographic hash, whose package initialisers cost every start of
// this binary.)
func lxCgroupParent(root, stateDir string) string {
	h := fnv.New32a()
	h.Write([]byte(stateDir))
	return filepath.Join(root, fmt.Sprintf("cells-%08x", h.Sum32()))
}

// lxCgroupCreate makes the cell's cgroup and returns it opened (for
// CLONE_INTO_CGROUP) with its id (the directory's inode number).
func lxCgroupCreate(dir string) (fd int, id uint64, err error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return -1, 0, fmt.Errorf("linux kernel: cgroup: %w", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return -1, 0, fmt.Errorf("linux kernel: cgroup: %w", err)
	}
	fd, err = unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(dir)
		return -1, 0, fmt.Errorf("linux kernel: cgroup: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		os.Remove(dir)
		return -1, 0, fmt.Errorf("linux kernel: cgroup: %w", err)
	}
	return fd, st.Ino, nil
}

// lxCgroupRemove removes a cell's cgroup, killing what is left in it
// (cgroup.kill, Linux 5.14) and retrying while the kernel finishes
// tearing the tasks down; then the parent when it became empty.
func lxCgroupRemove(dir string) error {
	if dir == "" {
		return nil
	}
	var err error
	for i := 0; i < 1000; i++ {
		err = unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			unix.Rmdir(filepath.Dir(dir)) // fails while other cells exist: fine
			return nil
		}
		if !errors.Is(err, unix.EBUSY) {
			break
		}
		if i == 0 || i == 500 {
			os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("linux kernel: remove cgroup %s: %w", dir, err)
}
