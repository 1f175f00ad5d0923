//go:build !linux

package runtime

import "golang.org/x/sys/unix"

// syncFS flushes the file systems (NetBSD has no per-file-system sync for
// a directory), so the extracted tree is on disk before it is renamed
// into place.
func syncFS(string) error {
	unix.Sync()
	return nil
}
