//go:build !linux

package archive

import "errors"

// openBeneath opens directory rel below dirfd one component at a time
// with O_NOFOLLOW (see walkBeneath).
func openBeneath(dirfd int, rel string) (int, error) { return walkBeneath(dirfd, rel) }

// mkWhiteout refuses: whiteouts are an overlayfs (Linux) notion.
func mkWhiteout(int, string, uint32) error {
	return errors.New("whiteouts are not supported on this system")
}
