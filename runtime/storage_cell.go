package runtime

import (
	"fmt"
)

// RemoveCells deletes cell runtime directories (root, overlay, state) and
// returns how many. A running cell or anything mounted below its
// directory refuses the whole request (`cannot remove cell <n>: cell is
// running`, `cannot remove cell <n>: cell is mounted: <path>`) unless
// Force, which stops the cell first (monitor, kernel cell, mounts).
func RemoveCells(o StorageOptions, r RemoveRequest) (int, error) {
	s, err := newStorage(o)
	if err != nil {
		return 0, err
	}
	if r.Name != "" && !storageNameValid(r.Name) {
		return 0, fmt.Errorf("invalid cell name: %s", r.Name)
	}
	if !r.Yes {
		return 0, fmt.Errorf("cell remove%s requires --yes in runtime mode", r.selector())
	}
	var names []string
	if r.Name != "" {
		if !dirExists(s.p.CellDir(r.Name)) {
			return 0, fmt.Errorf("runtime state not found: %s", r.Name)
		}
		names = []string{r.Name}
	} else {
		valid, invalid, err := runtimeDirs(s.p.CellsDir)
		if err != nil {
			return 0, err
		}
		for _, n := range invalid {
			s.logf("warn: skipping invalid runtime cell directory name: %s", n)
		}
		declared := map[string]bool{}
		if r.Orphans {
			st, err := LoadState(s.p.DSLDir)
			if err != nil {
				return 0, err
			}
			for _, c := range st.Cells {
				declared[c.Name] = true
			}
		}
		for _, n := range valid {
			if !declared[n] {
				names = append(names, n)
			}
		}
	}
	if r.Force {
		for _, n := range names {
			if err := s.forceStop(n); err != nil {
				return 0, err
			}
		}
		s.listed = false
	}
	for _, n := range names {
		if run, err := s.cellRunning(n); err != nil {
			return 0, err
		} else if run {
			return 0, fmt.Errorf("cannot remove cell %s: cell is running", n)
		}
		if m, ok, err := MountedUnder(s.p.CellDir(n)); err != nil {
			return 0, err
		} else if ok {
			return 0, fmt.Errorf("cannot remove cell %s: cell is mounted: %s", n, m)
		}
	}
	for i, n := range names {
		if err := removeTree(s.p.CellDir(n), false); err != nil {
			return i, err
		}
	}
	return len(names), nil
}

// forceStop stops cell name if it runs and unmounts its root.
func (s *storage) forceStop(name string) error {
	return StopCell(name, LifecycleOptions{Paths: s.p, Driver: s.o.Driver, Logf: s.logf, State: nil})
}
