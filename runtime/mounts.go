package runtime

import "path/filepath"

// MountSet is the set of paths involved in the host's mounts: every mount
// point, and every mount source that is a path (on NetBSD the directory of a
// null mount; on Linux the host path a bind mount was taken from, derived
// from mountinfo, see mounts_linux.go).
type MountSet map[string]bool

// Has reports whether path (cleaned) is a mount point or a mount source.
func (s MountSet) Has(path string) bool { return s[filepath.Clean(path)] }

func (s MountSet) add(path string) {
	if path != "" && path[0] == '/' {
		s[filepath.Clean(path)] = true
	}
}
