package runtime

import (
	"fmt"
	"path/filepath"
)

// ResetRequest selects what `system reset` wipes; neither selector means
// both (the CLI decides that).
type ResetRequest struct {
	Cells   bool
	Volumes bool
	Yes     bool
}

// Reset wipes the runtime cells tree and/or volumes tree (their contents;
// the directories stay). Cells first: every running cell this cellman
// manages is stopped (StopAll, DESIGN difference 4); a kernel cell still
// rooted in the tree (one cellman does not manage, or a failed stop), or
// anything still mounted below a tree, refuses the reset before anything
// is deleted. The DSL directory is never inside a wiped tree.
func Reset(o StorageOptions, r ResetRequest) error {
	s, err := newStorage(o)
	if err != nil {
		return err
	}
	if !r.Yes {
		return fmt.Errorf("system reset requires --yes in runtime mode")
	}
	dsl, err := filepath.Abs(s.p.DSLDir)
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(dsl); err == nil {
		dsl = real
	}
	type tree struct {
		on        bool
		flag, dir string
		what      string
	}
	trees := []tree{
		{r.Cells, "--cells", s.p.CellsDir, "cells"},
		{r.Volumes, "--volumes", s.p.VolumesDir, "volumes"},
	}
	for _, t := range trees {
		real := t.dir
		if rd, err := filepath.EvalSymlinks(t.dir); err == nil {
			real = rd
		}
		if t.on && (withinDir(dsl, t.dir) || withinDir(dsl, real)) {
			return fmt.Errorf("refusing system reset %s: DSL directory is inside runtime %s tree: %s", t.flag, t.what, s.p.DSLDir)
		}
	}
	if r.Cells {
		if err := StopAll(LifecycleOptions{Paths: s.p, Driver: s.o.Driver, Logf: s.logf}); err != nil {
			return err
		}
		cells, err := s.kernelCells()
		if err != nil {
			return err
		}
		for _, k := range cells {
			if withinDir(filepath.Clean(k.Root), s.p.CellsDir) {
				return fmt.Errorf("refusing system reset --cells: cell %s is running", k.Name)
			}
		}
	}
	for _, t := range trees {
		if !t.on {
			continue
		}
		// The tree itself may be a file system of its own; nothing may be
		// mounted below it.
		if m, ok, err := mountedBelow(t.dir, true); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("refusing system reset %s: mounted: %s", t.flag, m)
		}
	}
	for _, t := range trees {
		if t.on {
			if err := removeTree(t.dir, true); err != nil {
				return err
			}
		}
	}
	return nil
}
