package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// errAcrossMount is the refusal of removeTree to descend into a mount.
var errAcrossMount = errors.New("refusing to remove across a mount")

// removeTree deletes dir and everything below it (only its contents with
// keepRoot) without following symbolic links and never across a mount:
// nothing may be mounted at or below dir (mount table; with keepRoot dir
// itself may be a mount point, a tree on its own disk), and while walking,
// a directory on another device or at a mount root (statx on Linux, for
// bind mounts of the same file system) stops the removal. Every unlink is
// relative to a descriptor of the directory it empties.
func removeTree(dir string, keepRoot bool) error {
	if m, ok, err := mountedBelow(dir, keepRoot); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("cannot remove %s: %w: %s", dir, errAcrossMount, m)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		// A link or a file where a directory was expected: remove the
		// name itself, never what it points to.
		if keepRoot {
			return fmt.Errorf("cannot remove %s: not a directory", dir)
		}
		if err := os.Remove(dir); err != nil {
			return fmt.Errorf("cannot remove %s: %w", dir, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot remove %s: %w", dir, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return fmt.Errorf("cannot remove %s: %w", dir, err)
	}
	if err := removeContents(fd, dir, uint64(st.Dev)); err != nil {
		return err
	}
	if keepRoot {
		return nil
	}
	if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("cannot remove %s: %w", dir, err)
	}
	return nil
}

// removeContents empties the directory open at fd (named name, on device
// dev) and closes fd.
func removeContents(fd int, name string, dev uint64) error {
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	for {
		names, err := f.Readdirnames(256)
		if len(names) == 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("cannot remove %s: %w", name, err)
			}
			return nil
		}
		for _, n := range names {
			if err := removeEntry(fd, filepath.Join(name, n), n, dev); err != nil {
				return err
			}
		}
		// Entries were removed: read the directory from the start again.
		if _, err := f.Seek(0, 0); err != nil {
			return fmt.Errorf("cannot remove %s: %w", name, err)
		}
	}
}

func removeEntry(dirfd int, full, n string, dev uint64) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("cannot remove %s: %w", full, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		if err := unix.Unlinkat(dirfd, n, 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("cannot remove %s: %w", full, err)
		}
		return nil
	}
	if uint64(st.Dev) != dev || isMountRoot(dirfd, n) {
		return fmt.Errorf("cannot remove %s: %w: %s", full, errAcrossMount, full)
	}
	cfd, err := unix.Openat(dirfd, n, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("cannot remove %s: %w", full, err)
	}
	if err := removeContents(cfd, full, dev); err != nil {
		return err
	}
	if err := unix.Unlinkat(dirfd, n, unix.AT_REMOVEDIR); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("cannot remove %s: %w", full, err)
	}
	return nil
}
