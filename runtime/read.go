package runtime

import (
	"errors"
	"io/fs"
	"os"
	"sort"
	"strings"

	"cells/kernel"
	"cells/runtime/paths"
	"cells/spec"
)

// The read snapshot (reference §2.3): desired state, kernel cells and
// runtime directories merged into one row per cell or volume. The CLI's
// list/show commands and cellui render these rows; nothing here prints.

// Cell state labels.
const (
	StateManaged  = "managed"  // declared, rendered, autostart
	StateParked   = "parked"   // declared, rendered, no autostart
	StatePending  = "pending"  // declared, not rendered, autostart
	StateDeclared = "declared" // declared, not rendered, no autostart
	StateOrphaned = "orphaned" // rendered, not declared
	StateAbsent   = "absent"   // neither (a kernel cell cellman does not know)
)

// CellRow is one row of the cell views: a cell that is declared, or active
// in the kernel, or both. "Rendered" means its runtime directory
// <prefix>/var/cellman/cells/<name> exists, not that it runs.
type CellRow struct {
	Name         string
	State        string
	Rendered     bool
	Running      bool
	Kernel       kernel.Cell // the kernel's view, valid when Running
	Root         string      // kernel root, else the runtime root if rendered, else ""
	Spec         *spec.Cell  // the declaration, nil when not declared
	ApplyPresent bool        // an apply document of the same name exists
}

// Declared reports whether the cell is declared in the DSL.
func (r *CellRow) Declared() bool { return r.Spec != nil }

// Autostart reports whether the cell is declared with autostart = true.
func (r *CellRow) Autostart() bool { return r.Spec != nil && r.Spec.Autostart }

// Value returns the named field (see CellCatalog) of the row.
func (r *CellRow) Value(field string) Value {
	k := &r.Kernel
	c := r.Spec
	if c == nil {
		c = &spec.Cell{}
	}
	switch field {
	case "name":
		return vStr(r.Name)
	case "running":
		return vBool(r.Running)
	case "state":
		return vStr(r.State)
	case "cid":
		return vOptNum(r.Running, uint64(k.ID))
	case "refs":
		return vOptNum(r.Running, k.Refs)
	case "procs":
		return vOptNum(r.Running, k.Procs)
	case "cpu1s":
		return vOptNum(r.Running, k.CPU1s)
	case "cpu10s":
		return vOptNum(r.Running, k.CPU10s)
	case "memory":
		return vOptNum(r.Running, k.Memory)
	case "age":
		return vOptNum(r.Running, k.Age)
	case "root":
		return vStr(r.Root)
	case "autostart":
		if r.Autostart() {
			return vStr("YES")
		}
		return vStr("NO")
	case "profile":
		return vStr(c.Create.Profile)
	case "reserved_ports":
		return vStr(c.Create.ReservedPorts)
	case "rlimit_nofile":
		return vStr(r.rlimit(c.Create.RlimitNofile))
	case "rlimit_as":
		return vStr(r.rlimit(c.Create.RlimitAS))
	case "rlimit_core":
		return vStr(r.rlimit(c.Create.RlimitCore))
	case "depends_on":
		return vList(c.DependsOn)
	case "healthcheck":
		return vStr(c.Healthcheck)
	case "supervise_cmd":
		return vStr(c.Supervise.Cmd)
	case "volume_mounts":
		m := make([]string, len(c.Mounts))
		for i, mt := range c.Mounts {
			m[i] = mt.String()
		}
		return vList(m)
	case "apply_present":
		return vBool(r.ApplyPresent)
	case "supervise_run_as":
		return vStr(c.Supervise.RunAs)
	}
	return Value{}
}

// rlimit shows a declared limit, "unlimited" when a declared cell leaves it
// unset, and nothing for a cell that is not declared.
func (r *CellRow) rlimit(v string) string {
	if r.Spec == nil || v != "" {
		return v
	}
	return "unlimited"
}

// VolumeRow is one row of the volume views: a declared volume, a volume
// directory under <prefix>/var/cellman/volumes, or both.
type VolumeRow struct {
	Name    string
	State   string       // managed|pending|orphaned|absent
	Present bool         // the directory exists
	Spec    *spec.Volume // the declaration, nil when not declared
	Path    string       // <prefix>/var/cellman/volumes/<name>, always set
	Mounted bool         // Path is a mount point or a mount source
	UsedBy  []string     // declared cells mounting it, in declaration order
}

// Declared reports whether the volume is declared in the DSL.
func (r *VolumeRow) Declared() bool { return r.Spec != nil }

// Value returns the named field (see VolumeCatalog) of the row.
func (r *VolumeRow) Value(field string) Value {
	switch field {
	case "name":
		return vStr(r.Name)
	case "state":
		return vStr(r.State)
	case "mode":
		if r.Spec == nil {
			return vStr("")
		}
		return vStr(r.Spec.Mode)
	case "path":
		return vStr(r.Path)
	case "mounted":
		return vBool(r.Mounted)
	case "refs":
		return vNum(uint64(len(r.UsedBy)))
	case "used_by":
		return vList(r.UsedBy)
	}
	return Value{}
}

// ReadCells loads the desired state from p.DSLDir, lists the kernel cells
// once, and returns the merged cell rows sorted by name.
func ReadCells(p paths.Paths) ([]CellRow, error) {
	st, err := LoadState(p.DSLDir)
	if err != nil {
		return nil, err
	}
	active, err := ObserveKernel(p)
	if err != nil {
		return nil, err
	}
	return BuildCellRows(p, st, active), nil
}

// ReadVolumes loads the desired state from p.DSLDir, reads the volume
// directories and the mount table once, and returns the merged volume rows
// sorted by name.
func ReadVolumes(p paths.Paths) ([]VolumeRow, error) {
	st, err := LoadState(p.DSLDir)
	if err != nil {
		return nil, err
	}
	dirs, err := volumeDirs(p.VolumesDir)
	if err != nil {
		return nil, err
	}
	mounts, err := Mounts()
	if err != nil {
		return nil, err
	}
	return BuildVolumeRows(p, st, dirs, mounts), nil
}

// ObserveKernel returns the active kernel cells with their counters: one
// Driver.List call. A kernel the caller may not read (permission) or a
// system without cells (not supported) is an empty runtime, as upstream's
// read path treats a cellctl permission failure.
func ObserveKernel(p paths.Paths) ([]kernel.Cell, error) {
	drv, err := kernel.Open(kernel.Options{StateDir: p.KernelState()})
	if kernelUnavailable(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer drv.Close()
	cells, err := drv.List()
	if kernelUnavailable(err) {
		return nil, nil
	}
	return cells, err
}

func kernelUnavailable(err error) bool {
	return err != nil && (errors.Is(err, kernel.ErrPermission) ||
		errors.Is(err, fs.ErrPermission) || errors.Is(err, kernel.ErrNotSupported))
}

// BuildCellRows merges the declared cells of st (nil means none) and the
// active kernel cells into rows sorted by name (byte order), checking each
// row's runtime directory under p.
func BuildCellRows(p paths.Paths, st *spec.State, active []kernel.Cell) []CellRow {
	if st == nil {
		st = &spec.State{}
	}
	rows := map[string]*CellRow{}
	row := func(name string) *CellRow {
		r := rows[name]
		if r == nil {
			r = &CellRow{Name: name}
			rows[name] = r
		}
		return r
	}
	for _, c := range st.Cells {
		row(c.Name).Spec = c
	}
	for _, k := range active {
		r := row(k.Name)
		r.Running = true
		r.Kernel = k
	}
	out := make([]CellRow, 0, len(rows))
	for _, r := range rows {
		// A kernel cell may be called "." or ".." (the kernel allows them,
		// the DSL does not): its "runtime directory" would be the cells
		// directory or its parent, so it has none.
		r.Rendered = r.Name != "." && r.Name != ".." && isDir(p.CellDir(r.Name))
		r.ApplyPresent = st.Apply(r.Name) != nil
		switch {
		case r.Running && r.Kernel.Root != "":
			r.Root = r.Kernel.Root
		case r.Rendered:
			r.Root = p.CellRoot(r.Name)
		}
		r.State = cellState(r.Declared(), r.Rendered, r.Autostart())
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func cellState(declared, rendered, autostart bool) string {
	switch {
	case declared && rendered && autostart:
		return StateManaged
	case declared && rendered:
		return StateParked
	case declared && autostart:
		return StatePending
	case declared:
		return StateDeclared
	case rendered:
		return StateOrphaned
	}
	return StateAbsent
}

// BuildVolumeRows merges the declared volumes of st (nil means none) and
// the volume directories dirs into rows sorted by name; mounts decides
// "mounted".
func BuildVolumeRows(p paths.Paths, st *spec.State, dirs []string, mounts MountSet) []VolumeRow {
	if st == nil {
		st = &spec.State{}
	}
	rows := map[string]*VolumeRow{}
	row := func(name string) *VolumeRow {
		r := rows[name]
		if r == nil {
			r = &VolumeRow{Name: name, Path: p.Volume(name)}
			rows[name] = r
		}
		return r
	}
	for _, v := range st.Volumes {
		row(v.Name).Spec = v
	}
	for _, d := range dirs {
		row(d).Present = true
	}
	out := make([]VolumeRow, 0, len(rows))
	for _, r := range rows {
		r.Mounted = mounts.Has(r.Path)
		r.UsedBy = volumeUsers(st, r.Name)
		switch {
		case r.Declared() && r.Present:
			r.State = StateManaged
		case r.Declared():
			r.State = StatePending
		case r.Present:
			r.State = StateOrphaned
		default:
			r.State = StateAbsent
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// volumeUsers returns the declared cells that mount volume name, each once,
// in declaration order.
func volumeUsers(st *spec.State, name string) []string {
	var users []string
	for _, c := range st.Cells {
		for _, m := range c.Mounts {
			if !m.Host() && m.Source == name {
				users = append(users, c.Name)
				break
			}
		}
	}
	return users
}

// volumeDirs lists the directories with valid names under dir; a missing
// dir has none.
func volumeDirs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if objectNameValid(e.Name()) && isDir(dir+"/"+e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// objectNameValid is upstream's naming rule for cells, volumes, applies
// and backups: non-empty [A-Za-z0-9._-]+.
func objectNameValid(s string) bool {
	if s == "" {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == ""
}
