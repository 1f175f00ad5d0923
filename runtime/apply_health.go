package runtime

import (
	"fmt"
	"sync"

	"cells/spec"
)

// healthWorkers bounds the healthchecks an apply runs at once.
const healthWorkers = 4

// applyChecks runs the step-5 healthchecks of an apply with the runtime's
// own lifecycle (reference 4.5: every running autostart cell is checked,
// so a no-op apply over 50 cells runs 50). It differs from
// Lifecycle.Healthcheck only in cost: one kernel List per apply instead of
// one per healthcheck (the Linux driver's List asks every cell's holder),
// dropped whenever the apply starts, stops or restarts a cell; and up to
// healthWorkers checks at a time, each with a lifecycle (and driver) of
// its own. The messages are Lifecycle.Healthcheck's.
type applyChecks struct {
	o     LifecycleOptions
	cells map[string]*spec.Cell
	mu    sync.Mutex
	ids   map[string]uint32 // active cells by name; nil: list again
	pool  []*lifecycle
	// check runs one healthcheck (a.healthcheck; tests replace it).
	check func(name string) error
}

func newApplyChecks(o LifecycleOptions, st *spec.State) *applyChecks {
	a := &applyChecks{o: o, cells: make(map[string]*spec.Cell, len(st.Cells))}
	for _, c := range st.Cells {
		if _, dup := a.cells[c.Name]; !dup {
			a.cells[c.Name] = c
		}
	}
	a.check = a.healthcheck
	return a
}

// changed forgets the listed cells: the apply started, stopped or
// restarted one.
func (a *applyChecks) changed() {
	a.mu.Lock()
	a.ids = nil
	a.mu.Unlock()
}

func (a *applyChecks) get() (*lifecycle, error) {
	a.mu.Lock()
	if n := len(a.pool); n > 0 {
		lc := a.pool[n-1]
		a.pool = a.pool[:n-1]
		a.mu.Unlock()
		return lc, nil
	}
	a.mu.Unlock()
	return newLifecycle(a.o)
}

func (a *applyChecks) put(lc *lifecycle) {
	a.mu.Lock()
	a.pool = append(a.pool, lc)
	a.mu.Unlock()
}

// close releases the pooled lifecycles' drivers.
func (a *applyChecks) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, lc := range a.pool {
		lc.close()
	}
	a.pool = nil
}

// activeID is the kernel id of the active cell name, from the apply's
// list (taken with lc's driver when there is none).
func (a *applyChecks) activeID(lc *lifecycle, name string) (uint32, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ids == nil {
		cells, err := lc.d.List()
		if err != nil {
			return 0, err
		}
		a.ids = make(map[string]uint32, len(cells))
		for _, k := range cells {
			a.ids[k.Name] = k.ID
		}
	}
	id, ok := a.ids[name]
	if !ok {
		return 0, fmt.Errorf("cell healthcheck %s failed: cell is not running", name)
	}
	return id, nil
}

// healthcheck runs the declared healthcheck of the running cell name
// (nothing when none is declared), as Lifecycle.Healthcheck.
func (a *applyChecks) healthcheck(name string) error {
	c := a.cells[name]
	if c == nil {
		return fmt.Errorf("unknown cell: %s", name)
	}
	if c.Healthcheck == "" {
		return nil
	}
	lc, err := a.get()
	if err != nil {
		return err
	}
	defer a.put(lc)
	id, err := a.activeID(lc, name)
	if err != nil {
		return err
	}
	return lc.healthcheck(name, id, c.Healthcheck)
}

// batch runs the healthchecks of names, up to healthWorkers at a time,
// started in order; none is started after one that is known to have
// failed. ran[i] tells whether the i-th ran, errs[i] is its result. Every
// name before the first failing one has run.
func (a *applyChecks) batch(names []string) (errs []error, ran []bool) {
	n := len(names)
	errs, ran = make([]error, n), make([]bool, n)
	var mu sync.Mutex
	next, failed := 0, n // next to start, lowest failing index
	var wg sync.WaitGroup
	for w := 0; w < min(healthWorkers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				if i >= n || i > failed {
					mu.Unlock()
					return
				}
				next++
				mu.Unlock()
				err := a.check(names[i])
				mu.Lock()
				errs[i], ran[i] = err, true
				if err != nil && i < failed {
					failed = i
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs, ran
}
