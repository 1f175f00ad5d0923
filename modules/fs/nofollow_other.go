//go:build !linux && !netbsd

package fs

// isNoFollowErr: ELOOP, handled by the caller, is the only answer here.
func isNoFollowErr(error) bool { return false }
