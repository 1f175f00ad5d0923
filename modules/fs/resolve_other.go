//go:build !linux

package fs

import "golang.org/x/sys/unix"

// dirOpenFlags open directories for lookups (no O_PATH here).
const dirOpenFlags = unix.O_RDONLY

// resolve opens rel below rootfd with flags, never leaving rootfd's tree,
// with the userland walk (no openat2 on this system).
func resolve(rootfd int, rel string, flags int) (int, error) {
	return walk(rootfd, rel, flags)
}
