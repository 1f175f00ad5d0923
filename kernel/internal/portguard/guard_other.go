//go:build !linux

package portguard

import "fmt"

func (g *Guard) unsupported(op string) error {
	return fmt.Errorf("portguard: %s: %w", op, ErrNotSupported)
}

// Reserve is not supported off Linux.
func (g *Guard) Reserve(cgroupID uint64, ports []uint16) error { return g.unsupported("reserve") }

// Release is not supported off Linux.
func (g *Guard) Release(cgroupID uint64) error { return g.unsupported("release") }

// Owner is not supported off Linux.
func (g *Guard) Owner(port uint16) (uint64, bool, error) {
	return 0, false, g.unsupported("owner")
}

// Ports is not supported off Linux.
func (g *Guard) Ports() (map[uint16]uint64, error) { return nil, g.unsupported("ports") }

// Supported reports ErrNotSupported off Linux.
func (g *Guard) Supported() error { return g.unsupported("supported") }

// CgroupRoot reports ErrNotSupported off Linux (no cgroup v2).
func CgroupRoot() (string, error) {
	return "", fmt.Errorf("portguard: cgroup root: %w", ErrNotSupported)
}

// CgroupID reports ErrNotSupported off Linux (no cgroup v2).
func CgroupID(dir string) (uint64, error) {
	return 0, fmt.Errorf("portguard: cgroup id of %s: %w", dir, ErrNotSupported)
}
