package runtime

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// syncFS flushes the file system holding dir (syncfs), so the extracted
// tree is on disk before it is renamed into place.
func syncFS(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
