package runtime

import (
	"fmt"
	"io"
	"path/filepath"

	"cells/kernel"
	"cells/runtime/paths"
	"cells/spec"
)

// PlanRunOptions configures PlanRun.
type PlanRunOptions struct {
	Paths     paths.Paths
	Name      string
	File      string // load the apply document from this file alone
	Ephemeral bool   // stop the cell again if this run started it
	Stdout    io.Writer
	Stderr    io.Writer
	Lifecycle CellLifecycle // nil: the runtime's own
}

// PlanRun runs `cellman cell plan run` (reference 2.4): the actions of one
// apply document inside its cell, started with its dependencies (no
// healthcheck) when not running; verbose, child output forwarded, no hash
// written, run identity = cellman's own.
func PlanRun(opts PlanRunOptions) error {
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	name := opts.Name
	if !spec.ValidName(name) {
		return fmt.Errorf("invalid cell name: %s", name)
	}
	if !mayChangeRuntime(opts.Paths) {
		return ErrMustBeRoot
	}
	st, err := LoadState(opts.Paths.DSLDir)
	if err != nil {
		return err
	}
	if _, err := st.DependencyOrder(); err != nil {
		return err
	}
	var doc *spec.Apply
	if opts.File != "" {
		file := opts.File
		if !filepath.IsAbs(file) {
			if abs, err := filepath.Abs(file); err == nil {
				file = abs
			}
		}
		acts, err := customActions(opts.Paths.DSLDir)
		if err != nil {
			return err
		}
		frag, err := loadFile(file, loadOptions{actions: acts})
		if err != nil {
			return err
		}
		for _, a := range frag.Applies {
			if a.Name != name {
				continue
			}
			if doc != nil {
				return fmt.Errorf("cell plan run: --file defines multiple apply(\"%s\", ...) documents", name)
			}
			doc = a
		}
		if doc == nil {
			return fmt.Errorf("cell plan run: --file must define apply(\"%s\", ...)", name)
		}
	} else if doc = st.Apply(name); doc == nil {
		return fmt.Errorf("cell plan run: no apply document found for cell %s", name)
	}
	lock, err := AcquireLock(opts.Paths, "cell plan run")
	if err != nil {
		return err
	}
	defer lock.Release()
	active, err := ObserveKernel(opts.Paths)
	if err != nil {
		return err
	}
	obs := &Observed{Running: map[string]kernel.Cell{}}
	for _, k := range active {
		obs.Running[k.Name] = k
	}
	desired := &Desired{Applies: map[string]DesiredApply{name: {Apply: doc}}}
	aopts := ApplyOptions{Paths: opts.Paths, Stdout: opts.Stdout, Stderr: opts.Stderr, Lifecycle: opts.Lifecycle}
	_, err = runApplyLua("plan_run", aopts, st, desired, obs, map[string]any{
		"name":      name,
		"ephemeral": opts.Ephemeral,
	})
	return err
}
