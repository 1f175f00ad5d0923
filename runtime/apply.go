package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"

	lua "github.com/yuin/gopher-lua"

	"cells/runtime/paths"
	"cells/spec"
)

// The apply engine (reference §4). The Go side loads and validates the
// desired state, computes the hashes, takes the apply lock, observes the
// runtime once, and hands plain data plus host bindings to the Lua engine
// (luastd/cells/apply.lua), which plans, reports and executes. Files:
// apply.go (entry), apply_input.go (Go -> Lua data), apply_observe.go (the
// observed snapshot), apply_state.go (hash store, runtime dirs),
// apply_lock.go (the apply lock), apply_lifecycle.go (lifecycle binding),
// apply_host.go (the Lua host tables and Go modules), apply_term.go
// (report width), apply_planrun.go (`cell plan run`).

// ApplyOptions configures Apply.
type ApplyOptions struct {
	Paths          paths.Paths
	Targets        []string // cell names; empty means every declared cell
	DryRun         bool
	Force          bool // run actions even when the apply hash is unchanged
	RestartChanged bool // restart running autostart cells on a policy change
	Silent         bool // neither report nor log lines
	Verbose        int  // 0 report, 1 log lines, 2 log lines and child output
	JSON           bool // dry run: print the plan as JSON instead of the report
	// Columns is the report width; zero means ReportWidth(Stdout).
	Columns int
	Stdout  io.Writer
	Stderr  io.Writer
	// Lifecycle starts and stops cells; nil means the runtime's own.
	Lifecycle CellLifecycle
}

// ErrMustBeRoot is the error of an apply (not a dry run) or a cell plan
// run by a non-root user outside a scratch prefix with the fake driver.
var ErrMustBeRoot = errors.New("must be root")

// mayChangeRuntime reports whether this process may change the runtime:
// root, or (tests and previews) a scratch CELLMAN_PREFIX together with the
// fake kernel driver, which touch nothing outside the prefix.
func mayChangeRuntime(p paths.Paths) bool {
	if os.Geteuid() == 0 {
		return true
	}
	return os.Getenv("CELLMAN_PREFIX") != "" && p.Prefix != "/" && os.Getenv("CELLS_DRIVER") == "fake"
}

// Apply runs `cellman apply`: it returns the exit status 0, or 2 for a dry
// run that found drift; any failure is an error (exit status 1), after the
// report, if any, was closed on Stdout.
func Apply(opts ApplyOptions) (int, error) {
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	if opts.JSON && !opts.DryRun {
		return 1, errors.New("-J requires --dry-run")
	}
	if !opts.DryRun && !mayChangeRuntime(opts.Paths) {
		return 1, ErrMustBeRoot
	}
	st, err := LoadState(opts.Paths.DSLDir)
	if err != nil {
		return 1, err
	}
	return applyState(opts, st)
}

// applyState is Apply after loading: validation, lock, hashes, observation
// and the Lua engine.
func applyState(opts ApplyOptions, st *spec.State) (int, error) {
	order, err := st.DependencyOrder()
	if err != nil {
		return 1, err
	}
	for _, n := range opts.Targets {
		if st.Cell(n) == nil {
			return 1, fmt.Errorf("cell not found in desired state: %s", n)
		}
	}
	if !opts.DryRun {
		lock, err := AcquireLock(opts.Paths, "apply")
		if err != nil {
			return 1, err
		}
		defer lock.Release()
	}
	targets := targetCells(order, opts.Targets)
	desired, err := buildDesired(st, order, targets)
	if err != nil {
		return 1, err
	}
	desired.NoArgs = opts.DryRun
	obs, err := Observe(opts.Paths, st, targets)
	if err != nil {
		return 1, err
	}
	if opts.Columns <= 0 {
		opts.Columns = ReportWidth(opts.Stdout)
	}
	return runApplyLua("main", opts, st, desired, obs, applyLuaOptions(opts))
}

// targetCells returns the requested cells in dependency order (all of
// order when names is empty).
func targetCells(order []*spec.Cell, names []string) []*spec.Cell {
	if len(names) == 0 {
		return order
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	var out []*spec.Cell
	for _, c := range order {
		if want[c.Name] {
			out = append(out, c)
		}
	}
	return out
}

// applyLuaOptions is the options table of cells.apply.main.
func applyLuaOptions(opts ApplyOptions) map[string]any {
	m := map[string]any{
		"dry_run":         opts.DryRun,
		"force":           opts.Force,
		"restart_changed": opts.RestartChanged,
		"silent":          opts.Silent,
		"verbosity":       opts.Verbose,
		"json":            opts.JSON,
		"columns":         opts.Columns,
	}
	if len(opts.Targets) > 0 {
		m["targets"] = opts.Targets
	}
	return m
}

// runApplyLua runs entry ("main" or "plan_run") of cells.apply in a fresh
// VM with no time limit (actions may run for long; their own commands have
// timeouts) and returns its exit status and error.
func runApplyLua(entry string, opts ApplyOptions, st *spec.State, desired *Desired, obs *Observed, luaOpts map[string]any) (int, error) {
	vm := NewVM(VMOptions{Timeout: -1, Print: opts.Stderr, Libs: []string{HostLibs}})
	defer vm.Close()
	L := vm.L
	// The operator's own action kinds, so their run halves exist here.
	if err := LoadCustomActions(vm, ActionsDir(opts.Paths)); err != nil {
		return 1, fmt.Errorf("custom actions: %v", err)
	}
	if err := L.CallByParam(lua.P{Fn: L.GetGlobal("require"), NRet: 1, Protect: true}, lua.LString("cells.apply")); err != nil {
		return 1, fmt.Errorf("apply engine: %v", headLine(err.Error()))
	}
	mod, ok := L.Get(-1).(*lua.LTable)
	L.Pop(1)
	if !ok {
		return 1, errors.New("apply engine: cells.apply is not a module table")
	}
	fn, ok := mod.RawGetString(entry).(*lua.LFunction)
	if !ok {
		return 1, fmt.Errorf("apply engine: cells.apply has no %s function", entry)
	}
	host := newApplyHost(opts, st)
	defer host.close()
	input := L.NewTable()
	input.RawSetString("desired", desired.lua(L))
	input.RawSetString("observed", obs.lua(L))
	input.RawSetString("options", toLua(L, luaOpts))
	input.RawSetString("host", host.table(L))
	rets, err := vm.CallValues(fn, input)
	if err != nil {
		return 1, fmt.Errorf("apply engine: %v", err)
	}
	code := 1
	if len(rets) > 0 {
		if n, ok := rets[0].(lua.LNumber); ok {
			code = int(n)
		}
	}
	if len(rets) > 1 && rets[1] != lua.LNil {
		return 1, errors.New(rets[1].String())
	}
	if code != 0 && code != 2 {
		return 1, errors.New("apply engine: failed without a message")
	}
	return code, nil
}
