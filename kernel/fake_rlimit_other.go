//go:build !linux

package kernel

// applyFakeRlimits is a no-op where no prlimit(2) exists: the fake records
// the limits but cannot set them on a running process.
func applyFakeRlimits(pid int, r Rlimits) {}
