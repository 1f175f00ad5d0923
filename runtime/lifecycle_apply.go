package runtime

import (
	"fmt"

	"cells/kernel"
	"cells/runtime/paths"
	"cells/spec"
)

// Lifecycle is the runtime's CellLifecycle for the apply engine: the
// lifecycle functions of this file's package with fixed options.
type Lifecycle struct {
	Options LifecycleOptions
}

// NewLifecycle returns the lifecycle of prefix p over the desired state st.
func NewLifecycle(p paths.Paths, st *spec.State, logf func(string, ...any)) Lifecycle {
	return Lifecycle{Options: LifecycleOptions{Paths: p, State: st, Logf: logf}}
}

// Start starts name with its dependency closure. Without the healthcheck
// (a start only to run actions) an unresolvable cell:user run_as is
// tolerated, as upstream (reference §3.3).
func (l Lifecycle) Start(name string, healthcheck bool) error {
	o := l.Options
	o.SkipHealthcheck = !healthcheck
	o.TolerateCellRunAs = !healthcheck
	return StartCell(name, o)
}

// Stop stops one cell.
func (l Lifecycle) Stop(name string) error { return StopCell(name, l.Options) }

// Restart stops and starts name, with the healthcheck.
func (l Lifecycle) Restart(name string) error { return RestartCell(name, l.Options) }

// Healthcheck runs the declared healthcheck of the running cell name;
// nothing when none is declared.
func (l Lifecycle) Healthcheck(name string) error {
	return withLifecycle(l.Options, func(lc *lifecycle) error {
		st, err := lc.state()
		if err != nil {
			return err
		}
		c := st.Cell(name)
		if c == nil {
			return fmt.Errorf("unknown cell: %s", name)
		}
		if c.Healthcheck == "" {
			return nil
		}
		id, err := lc.activeID(name)
		if err != nil {
			return err
		}
		return lc.healthcheck(name, id, c.Healthcheck)
	})
}

// RunAsIdentity resolves the run_as of cell c (reference §3.3) against its
// mounted root; nil credentials mean root.
func RunAsIdentity(p paths.Paths, c *spec.Cell) (*kernel.Cred, error) {
	return ResolveRunAs(c.Supervise.RunAs, Layout(p, c.Name).Root)
}

// activeID returns the kernel id of the active cell name.
func (lc *lifecycle) activeID(name string) (uint32, error) {
	cells, err := lc.d.List()
	if err != nil {
		return 0, err
	}
	for _, k := range cells {
		if k.Name == name {
			return k.ID, nil
		}
	}
	return 0, fmt.Errorf("cell healthcheck %s failed: cell is not running", name)
}
