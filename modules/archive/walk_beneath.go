package archive

import (
	"strings"

	"golang.org/x/sys/unix"
)

// walkBeneath opens directory rel below dirfd one component at a time,
// each with O_NOFOLLOW|O_DIRECTORY: a symbolic link anywhere on the way
// fails the open instead of being followed. rel is clean and has no "..".
func walkBeneath(dirfd int, rel string) (int, error) {
	cur := dirfd
	for _, c := range strings.Split(rel, "/") {
		next, err := unix.Openat(cur, c, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if cur != dirfd {
			unix.Close(cur)
		}
		if err != nil {
			return -1, err
		}
		cur = next
	}
	if cur == dirfd {
		return unix.Dup(dirfd)
	}
	return cur, nil
}
