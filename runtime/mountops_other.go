//go:build !linux && !netbsd

package runtime

import (
	"errors"

	"cells/runtime/paths"
)

var errNoCellMounts = errors.New("cell mounts are supported on NetBSD and Linux only")

func readMountTable() ([]mountEntry, error)                  { return nil, nil }
func unmountOnce(string, bool) error                         { return errNoCellMounts }
func mountDeclaredOne(string, PlannedMount, *mountLog) error { return errNoCellMounts }

// MountCellRoot is not supported on this system.
func MountCellRoot(paths.Paths, string, func(string, ...any)) error { return errNoCellMounts }
