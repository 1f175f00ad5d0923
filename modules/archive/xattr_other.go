//go:build !linux

package archive

const paxOpaque = "SCHILY.xattr.trusted.overlay.opaque"

// isOpaque reports false: opaque directories are an overlayfs notion.
func isOpaque(int) bool { return false }

// setOpaque does nothing here (Whiteouts is never set off Linux).
func setOpaque(int) error { return nil }
