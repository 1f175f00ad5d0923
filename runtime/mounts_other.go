//go:build !linux && !netbsd

package runtime

// Mounts returns an empty set on systems Cells does not run cells on.
func Mounts() (MountSet, error) { return MountSet{}, nil }
