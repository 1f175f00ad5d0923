//go:build !linux

package runtime

// isMountRoot reports false: NetBSD null mounts are found through the
// mount table (and a different device number) before any removal.
func isMountRoot(int, string) bool { return false }
