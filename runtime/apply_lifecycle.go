package runtime

import (
	"errors"
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

// ErrLifecycleNotImplemented is returned until the lifecycle functions of
// runtime/lifecycle*.go are bound here.
var ErrLifecycleNotImplemented = errors.New("not implemented yet")

// defaultLifecycle binds the runtime's lifecycle functions.
type defaultLifecycle struct {
	p  paths.Paths
	st *spec.State
}

func (l defaultLifecycle) Start(name string, healthcheck bool) error {
	return fmt.Errorf("cell start %s: %w", name, ErrLifecycleNotImplemented)
}

func (l defaultLifecycle) Stop(name string) error {
	return fmt.Errorf("cell stop %s: %w", name, ErrLifecycleNotImplemented)
}

func (l defaultLifecycle) Restart(name string) error {
	return fmt.Errorf("cell restart %s: %w", name, ErrLifecycleNotImplemented)
}

func (l defaultLifecycle) Healthcheck(name string) error {
	return fmt.Errorf("cell healthcheck %s: %w", name, ErrLifecycleNotImplemented)
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
// (reference 3.3): until the run_as resolver is bound here, and for
// cells without run_as, cellman's own identity.
func applyIdentity(p paths.Paths, c *spec.Cell) (RunIdentity, error) {
	return ownIdentity(), nil
}
