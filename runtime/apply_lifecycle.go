package runtime

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"cells/kernel"
	"cells/runtime/paths"
	"cells/spec"
)

// CellLifecycle is what the apply engine needs from the cell lifecycle
// (reference 2.4): Start starts a cell with its depends_on closure in
// dependency order (cells already running are skipped) and runs the
// healthcheck when asked; Stop stops one cell; Restart is stop then start
// with the healthcheck; Healthcheck runs the declared healthcheck of a
// running cell (nothing when none is declared).
type CellLifecycle interface {
	Start(name string, healthcheck bool) error
	Stop(name string) error
	Restart(name string) error
	Healthcheck(name string) error
}

// kernelCellID returns the id of the active cell name (one kernel List).
func kernelCellID(p paths.Paths, name string) (uint32, error) {
	drv, err := kernel.Open(kernel.Options{StateDir: p.KernelState()})
	if err != nil {
		return 0, err
	}
	defer drv.Close()
	cells, err := drv.List()
	if err != nil {
		return 0, err
	}
	for _, c := range cells {
		if c.Name == name {
			return c.ID, nil
		}
	}
	return 0, fmt.Errorf("cell %s: %w", name, kernel.ErrNotExist)
}

// RunIdentity is the identity actions run with, exported to their commands
// as CELLMAN_RUN_UID, CELLMAN_RUN_GID and CELLMAN_RUN_GROUPS.
type RunIdentity struct {
	UID, GID uint32
	Groups   string // comma-separated gids
}

// ownIdentity is cellman's own uid, gid and groups.
func ownIdentity() RunIdentity {
	id := RunIdentity{UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}
	gs, _ := os.Getgroups()
	parts := make([]string, 0, len(gs))
	for _, g := range gs {
		parts = append(parts, strconv.Itoa(g))
	}
	if len(parts) == 0 {
		parts = append(parts, strconv.Itoa(os.Getgid()))
	}
	id.Groups = strings.Join(parts, ",")
	return id
}

// applyIdentity resolves the run_as identity of cell c for its actions
// (reference 3.3): no run_as, or a cell:user[:group] the cell cannot
// resolve yet (its actions may be what creates the user), is cellman's own
// identity; host and uid forms must resolve.
func applyIdentity(p paths.Paths, c *spec.Cell) (RunIdentity, error) {
	if c.Supervise.RunAs == "" {
		return ownIdentity(), nil
	}
	cred, err := RunAsIdentity(p, c)
	if err != nil {
		if IsCellRunAs(c.Supervise.RunAs) {
			return ownIdentity(), nil
		}
		return RunIdentity{}, err
	}
	if cred == nil {
		return ownIdentity(), nil
	}
	id := RunIdentity{UID: cred.UID, GID: cred.GID, Groups: strconv.FormatUint(uint64(cred.GID), 10)}
	if len(cred.Groups) > 0 {
		parts := make([]string, len(cred.Groups))
		for i, g := range cred.Groups {
			parts[i] = strconv.FormatUint(uint64(g), 10)
		}
		id.Groups = strings.Join(parts, ",")
	}
	return id, nil
}
