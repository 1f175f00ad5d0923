package fs

import (
	"errors"
	"strings"

	"golang.org/x/sys/unix"
)

// forceWalk makes tests exercise the userland walk where the kernel has a
// resolver of its own.
var forceWalk bool

// walk resolves rel below the directory rootfd in userland, with the
// semantics of RESOLVE_IN_ROOT: a symlink is read and its target resolved
// from the root (absolute) or from the directory holding it (relative);
// ".." never climbs above the root. The last component is opened with
// flags; directories on the way with dirOpenFlags. It returns a new
// descriptor.
//
// Why this shape: every lookup is one component relative to a descriptor
// that was itself checked, with O_NOFOLLOW, so no path string the cell can
// influence is ever handed whole to the kernel. A component swapped
// between the fstatat and the openat is detected by comparing device and
// inode, and looked up again.
func walk(rootfd int, rel string, flags int) (int, error) {
	root, err := unix.Dup(rootfd)
	if err != nil {
		return -1, err
	}
	stack := []int{root} // descriptors of the directories walked, stack[0] is the root
	defer func() {
		for _, fd := range stack {
			unix.Close(fd)
		}
	}()
	pending := splitPath(rel)
	links, retries := 0, 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			if len(pending) == 0 {
				return reopen(stack[len(stack)-1], flags)
			}
			continue
		case "..":
			if len(stack) > 1 {
				unix.Close(stack[len(stack)-1])
				stack = stack[:len(stack)-1]
			}
			if len(pending) == 0 {
				return reopen(stack[len(stack)-1], flags)
			}
			continue
		}
		cur := stack[len(stack)-1]
		var st unix.Stat_t
		if err := unix.Fstatat(cur, c, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return -1, err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			if links++; links > maxLinks {
				return -1, unix.ELOOP
			}
			target, err := readlinkat(cur, c)
			if err != nil {
				return -1, err
			}
			if strings.HasPrefix(target, "/") {
				for _, fd := range stack[1:] {
					unix.Close(fd)
				}
				stack = stack[:1]
			}
			pending = append(splitPath(target), pending...)
			if len(pending) == 0 {
				return reopen(stack[len(stack)-1], flags)
			}
			continue
		}
		last := len(pending) == 0
		oflags := unix.O_DIRECTORY | dirOpenFlags
		if last {
			oflags = flags
		}
		fd, err := unix.Openat(cur, c, oflags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == nil {
			var got unix.Stat_t
			if err = unix.Fstat(fd, &got); err == nil && (got.Dev != st.Dev || got.Ino != st.Ino) {
				unix.Close(fd)
				fd, err = -1, errSwapped
			}
		}
		if err != nil {
			// A component replaced by a symlink after the fstatat:
			// look it up again (bounded, a busy attacker gets ELOOP).
			if (errors.Is(err, errSwapped) || errors.Is(err, unix.ELOOP) || isNoFollowErr(err)) && retries < maxLinks {
				retries++
				pending = append([]string{c}, pending...)
				continue
			}
			if errors.Is(err, errSwapped) {
				err = unix.ELOOP
			}
			return -1, err
		}
		if last {
			return fd, nil
		}
		stack = append(stack, fd)
	}
	return reopen(stack[len(stack)-1], flags)
}

// errSwapped marks a component that changed between examination and open.
var errSwapped = errors.New("path component changed during lookup")

// reopen opens the directory fd itself with flags.
func reopen(fd, flags int) (int, error) {
	return unix.Openat(fd, ".", flags|unix.O_CLOEXEC, 0)
}

// splitPath splits a slash-separated path into its components; a leading
// slash yields no empty first component.
func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// readlinkat returns the target of the symlink name in dirfd.
func readlinkat(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size > 1<<16 {
			return "", unix.ENAMETOOLONG
		}
	}
}
