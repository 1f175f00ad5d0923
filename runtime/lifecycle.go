package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"cells/kernel"
	"cells/runtime/paths"
	"cells/runtime/supervise"
	"cells/spec"
)

// The cell lifecycle (reference §2.4): start a cell with its dependency
// closure (root, declared mounts, kernel cell, supervised service,
// healthcheck), stop it (service, kernel cell, mounts), restart it.

// LifecycleOptions configures the lifecycle operations.
type LifecycleOptions struct {
	Paths paths.Paths
	// State is the desired state; nil loads Paths.DSLDir.
	State *spec.State
	// Driver is the kernel bridge; nil opens the system's for the prefix
	// (and closes it before returning).
	Driver kernel.Driver
	// Logf receives warnings and retries ("cell destroy ... retry k/20");
	// nil discards them.
	Logf func(format string, args ...any)
	// SkipHealthcheck starts without running the healthcheck (the apply
	// engine starting a cell only to run its actions).
	SkipHealthcheck bool
	// TolerateCellRunAs starts the service without a credential drop when
	// a cell:user[:group] run_as cannot be resolved yet (same use).
	TolerateCellRunAs bool
	// HealthTimeout bounds one healthcheck attempt; 0 means 10 s. The
	// command is killed (SIGKILL) when it runs longer.
	HealthTimeout time.Duration
}

// lifecycle is one lifecycle call with its resources.
type lifecycle struct {
	o      LifecycleOptions
	p      paths.Paths
	d      kernel.Driver
	cfg    Config
	logf   func(string, ...any)
	closeD bool
}

func newLifecycle(o LifecycleOptions) (*lifecycle, error) {
	lc := &lifecycle{o: o, logf: o.Logf}
	if lc.logf == nil {
		lc.logf = func(string, ...any) {}
	}
	p := o.Paths
	if p.Prefix == "" {
		p = paths.FromEnv() // paths.New makes the prefix absolute
	}
	lc.p = p
	cfg, err := LoadConfig(p.ConfFile)
	if err != nil {
		return nil, err
	}
	lc.cfg = cfg
	lc.d = o.Driver
	if lc.d == nil {
		d, err := kernel.Open(kernel.Options{StateDir: p.KernelState()})
		if err != nil {
			return nil, err
		}
		lc.d, lc.closeD = d, true
	}
	return lc, nil
}

func (lc *lifecycle) close() {
	if lc.closeD {
		lc.d.Close()
	}
}

func (lc *lifecycle) state() (*spec.State, error) {
	if lc.o.State != nil {
		return lc.o.State, nil
	}
	st, err := LoadState(lc.p.DSLDir)
	if err != nil {
		return nil, err
	}
	lc.o.State = st
	return st, nil
}

// StartCell starts cell name and, first, every cell it depends on,
// transitively, in dependency order; cells already active are skipped.
func StartCell(name string, o LifecycleOptions) error {
	return withLifecycle(o, func(lc *lifecycle) error { return lc.start(name, false) })
}

// StartAll starts every declared cell in dependency order.
func StartAll(o LifecycleOptions) error {
	return withLifecycle(o, func(lc *lifecycle) error { return lc.start("", true) })
}

// StopCell stops cell name: its supervise monitor, the kernel cell (busy
// retries) and every mount under its root. A cell that is not active only
// has leftover mounts removed. Dependencies are not stopped.
func StopCell(name string, o LifecycleOptions) error {
	return withLifecycle(o, func(lc *lifecycle) error { return lc.stop(name) })
}

// StopAll stops every active kernel cell this cellman manages (DESIGN
// difference 4, see Managed), newest first.
func StopAll(o LifecycleOptions) error {
	return withLifecycle(o, func(lc *lifecycle) error { return lc.stopAll() })
}

// RestartCell is StopCell then StartCell.
func RestartCell(name string, o LifecycleOptions) error {
	return withLifecycle(o, func(lc *lifecycle) error {
		if err := lc.stop(name); err != nil {
			return err
		}
		return lc.start(name, false)
	})
}

// RestartAll is StopAll then StartAll.
func RestartAll(o LifecycleOptions) error {
	return withLifecycle(o, func(lc *lifecycle) error {
		if err := lc.stopAll(); err != nil {
			return err
		}
		return lc.start("", true)
	})
}

func withLifecycle(o LifecycleOptions, f func(*lifecycle) error) error {
	lc, err := newLifecycle(o)
	if err != nil {
		return err
	}
	defer lc.close()
	return f(lc)
}

// StartClosure returns the cells to start for name (all: every cell), in
// dependency order: the cell and its transitive depends_on.
func StartClosure(st *spec.State, name string, all bool) ([]*spec.Cell, error) {
	order, err := st.DependencyOrder()
	if err != nil {
		return nil, err
	}
	if all {
		return order, nil
	}
	target := st.Cell(name)
	if target == nil {
		return nil, fmt.Errorf("unknown cell: %s", name)
	}
	need := map[string]bool{}
	var mark func(c *spec.Cell)
	mark = func(c *spec.Cell) {
		if need[c.Name] {
			return
		}
		need[c.Name] = true
		for _, d := range c.DependsOn {
			if dc := st.Cell(d); dc != nil {
				mark(dc)
			}
		}
	}
	mark(target)
	var out []*spec.Cell
	for _, c := range order {
		if need[c.Name] {
			out = append(out, c)
		}
	}
	return out, nil
}

func (lc *lifecycle) start(name string, all bool) error {
	st, err := lc.state()
	if err != nil {
		return err
	}
	cells, err := StartClosure(st, name, all)
	if err != nil {
		return err
	}
	active, err := lc.d.List()
	if err != nil {
		return err
	}
	running := map[string]bool{}
	for _, k := range active {
		running[k.Name] = true
	}
	for _, c := range cells {
		if running[c.Name] {
			continue
		}
		if err := lc.startOne(st, c); err != nil {
			return err
		}
	}
	return nil
}

// startOne is upstream's cell_start_one.
func (lc *lifecycle) startOne(st *spec.State, c *spec.Cell) error {
	l := Layout(lc.p, c.Name)
	create, err := CreateSpecOf(c, l.Root)
	if err != nil {
		return err
	}
	mounts, err := PlanMounts(lc.p, st, c, lc.cfg)
	if err != nil {
		return err
	}
	if err := lc.materialize(c.Name, mounts); err != nil {
		return err
	}
	var id uint32
	created := false
	rollback := func(err error) error {
		if created {
			if derr := lc.destroy(c.Name, id); derr != nil {
				lc.logf("rollback of %s: %v", c.Name, derr)
			}
		}
		if uerr := lc.unmount(l.Root); uerr != nil {
			lc.logf("rollback of %s: %v", c.Name, uerr)
		}
		return err
	}
	id, err = lc.d.Create(create)
	if err != nil {
		return rollback(fmt.Errorf("cell create %s failed: %v", c.Name, err))
	}
	created = true
	if c.Supervise.Cmd != "" {
		cred, err := ResolveRunAs(c.Supervise.RunAs, l.Root)
		if err != nil {
			if !(lc.o.TolerateCellRunAs && IsCellRunAs(c.Supervise.RunAs)) {
				return rollback(err)
			}
			lc.logf("cell %s: %v; starting the service without a credential drop", c.Name, err)
			cred = nil
		}
		var out bytes.Buffer
		if rc := supervise.Command(SuperviseArgs(c, cred), &out, &out); rc != 0 {
			return rollback(fmt.Errorf("cell supervise %s failed: %s", c.Name, strings.TrimSpace(out.String())))
		}
	}
	if c.Healthcheck != "" && !lc.o.SkipHealthcheck {
		// On a failing healthcheck the runtime is kept, as upstream.
		return lc.healthcheck(c.Name, id, c.Healthcheck)
	}
	return nil
}

// materialize mounts the root and the declared mounts. With the fake
// driver (previews, unprivileged tests) nothing is mounted: the runtime
// directories are created and the volumes made ready, so a preview
// touches nothing outside the prefix.
func (lc *lifecycle) materialize(name string, mounts []PlannedMount) error {
	l := Layout(lc.p, name)
	if lc.d.Name() == "fake" {
		for _, d := range []string{l.Root, l.Upper, l.Work} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("cell %s: %w", name, err)
			}
		}
		for _, m := range mounts {
			if m.Volume != nil {
				if err := EnsureVolumeDir(lc.p, m.Volume); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := MountCellRoot(lc.p, name, lc.logf); err != nil {
		return err
	}
	if err := MountDeclared(lc.p, l.Root, mounts, lc.logf); err != nil {
		if uerr := lc.unmount(l.Root); uerr != nil {
			lc.logf("rollback of %s: %v", name, uerr)
		}
		return err
	}
	return nil
}

func (lc *lifecycle) unmount(root string) error {
	if lc.d.Name() == "fake" {
		return nil
	}
	return UnmountCell(root, lc.logf)
}

// CreateSpecOf is the kernel create request of a declared cell rooted at
// root: profile, reserved ports and rlimits from the declared strings.
func CreateSpecOf(c *spec.Cell, root string) (kernel.CreateSpec, error) {
	cs := kernel.CreateSpec{Name: c.Name, Root: root}
	if c.Create.Profile != "" {
		pr, err := kernel.ParseProfile(c.Create.Profile)
		if err != nil {
			return cs, fmt.Errorf("cell create %s failed: invalid profile '%s' (expected low|medium|high)", c.Name, c.Create.Profile)
		}
		cs.Profile, cs.ProfileSet = pr, true
	}
	if c.Create.ReservedPorts != "" {
		for _, tok := range strings.Split(c.Create.ReservedPorts, ",") {
			tok = strings.TrimSpace(tok)
			n, err := strconv.ParseUint(tok, 10, 16)
			if err != nil || n == 0 {
				return cs, fmt.Errorf("cell create %s failed: invalid reserved port: %s", c.Name, tok)
			}
			if !slices.Contains(cs.Ports, uint16(n)) {
				cs.Ports = append(cs.Ports, uint16(n))
			}
		}
	}
	for _, r := range []struct {
		what, s string
		dst     *kernel.Rlimit
	}{
		{"nofile", c.Create.RlimitNofile, &cs.Rlimits.Nofile},
		{"as", c.Create.RlimitAS, &cs.Rlimits.AS},
		{"core", c.Create.RlimitCore, &cs.Rlimits.Core},
	} {
		if r.s == "" {
			continue
		}
		if r.s == "unlimited" {
			*r.dst = kernel.Rlimit{Set: true, Value: kernel.RlimitInfinity}
			continue
		}
		v, err := strconv.ParseUint(r.s, 10, 64)
		if err != nil {
			return cs, fmt.Errorf("cell create %s failed: invalid rlimit %s: %s", c.Name, r.what, r.s)
		}
		*r.dst = kernel.Rlimit{Set: true, Value: v}
	}
	return cs, nil
}

// SuperviseArgs are the `cellctl supervise` arguments of a declared
// service: -f -o -e -t when declared, -U -G [-g] from the credentials,
// then `<name> /bin/sh -c <cmd>`.
func SuperviseArgs(c *spec.Cell, cred *kernel.Cred) []string {
	var a []string
	lg := c.Supervise.Log
	for _, f := range []struct{ flag, v string }{
		{"-f", lg.Facility}, {"-o", lg.StdoutLevel}, {"-e", lg.StderrLevel}, {"-t", lg.Tag},
	} {
		if f.v != "" {
			a = append(a, f.flag, f.v)
		}
	}
	if cred != nil {
		a = append(a, "-U", strconv.FormatUint(uint64(cred.UID), 10), "-G", strconv.FormatUint(uint64(cred.GID), 10))
		if len(cred.Groups) > 0 {
			a = append(a, "-g", GroupList(cred.Groups))
		}
	}
	return append(a, c.Name, "/bin/sh", "-c", c.Supervise.Cmd)
}

func (lc *lifecycle) stop(name string) error {
	if !spec.ValidName(name) {
		return fmt.Errorf("invalid cell name: %s", name)
	}
	active, err := lc.d.List()
	if err != nil {
		return err
	}
	for _, k := range active {
		if k.Name == name {
			if err := lc.stopActive(k); err != nil {
				return err
			}
			break
		}
	}
	return lc.unmount(Layout(lc.p, name).Root)
}

// stopActive stops the monitor and destroys the kernel cell.
func (lc *lifecycle) stopActive(k kernel.Cell) error {
	// A monitor gets 7 s: it stops its service itself (TERM, up to 5 s,
	// KILL) before it is killed.
	if err := supervise.StopMonitor(k.Name, 7*time.Second); err != nil {
		return err
	}
	return lc.destroy(k.Name, k.ID)
}

// Busy retries of a kernel destroy.
var (
	destroyAttempts = 20
	destroyWait     = 200 * time.Millisecond
)

// destroy destroys kernel cell id, retrying while it is busy (members
// still exiting).
func (lc *lifecycle) destroy(name string, id uint32) error {
	target := strconv.FormatUint(uint64(id), 10)
	for k := 1; ; k++ {
		err := lc.d.Destroy(id)
		if err == nil || errors.Is(err, kernel.ErrNotExist) {
			return nil
		}
		busy := errors.Is(err, kernel.ErrBusy) || strings.Contains(strings.ToLower(err.Error()), "busy")
		if !busy || k >= destroyAttempts {
			return fmt.Errorf("cell destroy %s failed: %v", target, err)
		}
		lc.logf("cell destroy %s failed with busy state; retry %d/%d", target, k, destroyAttempts)
		time.Sleep(destroyWait)
	}
}

func (lc *lifecycle) stopAll() error {
	active, err := lc.d.List()
	if err != nil {
		return err
	}
	for i := len(active) - 1; i >= 0; i-- {
		k := active[i]
		if !Managed(lc.p, k) {
			continue
		}
		if err := lc.stopActive(k); err != nil {
			return err
		}
		if err := lc.unmount(Layout(lc.p, k.Name).Root); err != nil {
			return err
		}
	}
	return nil
}

// Managed reports whether kernel cell k is one of this cellman's: its name
// has a runtime directory under the prefix and its root is that
// directory's root. Other kernel cells (another prefix, cellctl create by
// hand) are never touched by bulk operations.
func Managed(p paths.Paths, k kernel.Cell) bool {
	if !spec.ValidName(k.Name) {
		return false
	}
	l := Layout(p, k.Name)
	fi, err := os.Stat(l.Dir)
	if err != nil || !fi.IsDir() {
		return false
	}
	want, err1 := filepath.Abs(l.Root)
	got, err2 := filepath.Abs(k.Root)
	return err1 == nil && err2 == nil && want == got
}
