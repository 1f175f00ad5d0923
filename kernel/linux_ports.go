//go:build linux

package kernel

import (
	"errors"
	"fmt"

	"cells/kernel/internal/portguard"

	"golang.org/x/sys/unix"
)

// lxPortsReserve reserves a cell's ports for its cgroup in the machine-wide
// cgroup-BPF guard. A cell without ports never touches BPF. No guard, no
// ports: reservation fails closed (ErrNotSupported) rather than creating
// a cell whose ports anyone could take.
func lxPortsReserve(r lxRecord) error {
	if len(r.Ports) == 0 {
		return nil
	}
	err := portguard.Reserve(r.CgroupID, r.Ports)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, portguard.ErrPortReserved):
		return lxErrorf(ErrExist, unix.EEXIST, "create cell %s: %v", r.Name, err)
	case errors.Is(err, portguard.ErrNotSupported):
		return lxErrorf(ErrNotSupported, unix.ENOTSUP, "create cell %s: %v", r.Name, err)
	}
	return fmt.Errorf("linux kernel: create cell %s: %w", r.Name, err)
}

// lxPortsRelease drops the reservations of a cell's cgroup.
func lxPortsRelease(r lxRecord) error {
	if len(r.Ports) == 0 || r.CgroupID == 0 {
		return nil
	}
	if err := portguard.Release(r.CgroupID); err != nil {
		return fmt.Errorf("linux kernel: cell %d: release ports: %w", r.ID, err)
	}
	return nil
}
