package fs

import (
	"errors"

	"golang.org/x/sys/unix"
)

// isNoFollowErr reports the error O_NOFOLLOW gives for a symlink: NetBSD
// answers EFTYPE (open(2)).
func isNoFollowErr(err error) bool { return errors.Is(err, unix.EFTYPE) }
