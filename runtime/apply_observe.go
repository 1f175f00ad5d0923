package runtime

import (
	"errors"
	"io/fs"
	"os"
	goruntime "runtime"
	"sort"

	lua "github.com/yuin/gopher-lua"

	"cells/kernel"
	"cells/runtime/paths"
	"cells/runtime/supervise"
	"cells/spec"
)

// Observed is the runtime as the planner sees it, read once per apply:
// one kernel List, the runtime directories and stored hashes of the
// targets, and the declared volumes' directories.
type Observed struct {
	GOOS    string
	Running map[string]kernel.Cell   // active kernel cells by name
	Runtime map[string]bool          // <prefix>/var/cellman/cells/<name> exists
	Hashes  map[string]StoredHashes  // stored hashes of the targets
	Volumes map[string]VolumeObserve // declared volumes
	// ServiceDown: running targets that declare a supervised service but
	// have no live monitor (a start interrupted before supervise, a monitor
	// killed by hand). The planner counts it as a service change, so the
	// dry run shows drift and apply restarts the cell.
	ServiceDown map[string]bool
}

// VolumeObserve is what apply checks of a volume directory.
type VolumeObserve struct {
	Exists bool
	Mode   uint32 // st_mode & 07777
}

// Observe reads the runtime for an apply of targets: never one kernel call
// per cell.
func Observe(p paths.Paths, st *spec.State, targets []*spec.Cell) (*Observed, error) {
	active, err := ObserveKernel(p)
	if err != nil {
		return nil, err
	}
	o := &Observed{
		GOOS:    goruntime.GOOS,
		Running: make(map[string]kernel.Cell, len(active)),
		Runtime: make(map[string]bool, len(targets)),
		Hashes:  make(map[string]StoredHashes, len(targets)),
		Volumes: make(map[string]VolumeObserve, len(st.Volumes)),

		ServiceDown: map[string]bool{},
	}
	for _, k := range active {
		o.Running[k.Name] = k
	}
	for _, c := range targets {
		if _, ok := o.Running[c.Name]; ok && c.Supervise.Cmd != "" && !supervise.MonitorAlive(c.Name) {
			o.ServiceDown[c.Name] = true
		}
	}
	for _, c := range targets {
		if !isDir(p.CellDir(c.Name)) {
			continue // no runtime dir, no stored hashes
		}
		o.Runtime[c.Name] = true
		h, err := ReadHashes(p, c.Name)
		if err != nil {
			return nil, err
		}
		o.Hashes[c.Name] = h
	}
	for _, v := range st.Volumes {
		fi, err := os.Stat(p.Volume(v.Name))
		switch {
		case err == nil && fi.IsDir():
			o.Volumes[v.Name] = VolumeObserve{Exists: true, Mode: uint32(fi.Mode().Perm()) | specialBits(fi.Mode())}
		case err == nil, errors.Is(err, fs.ErrNotExist):
			o.Volumes[v.Name] = VolumeObserve{}
		default:
			return nil, err
		}
	}
	return o, nil
}

// specialBits maps Go's setuid/setgid/sticky mode bits to 07000.
func specialBits(m fs.FileMode) uint32 {
	var b uint32
	if m&fs.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

func (o *Observed) lua(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("goos", lua.LString(o.GOOS))
	running := L.NewTable()
	for _, n := range sortedKeys(o.Running) {
		k := o.Running[n]
		kt := L.CreateTable(0, 2)
		kt.RawSetString("id", lua.LNumber(k.ID))
		kt.RawSetString("root", lua.LString(k.Root))
		running.RawSetString(n, kt)
	}
	t.RawSetString("running", running)
	rt := L.NewTable()
	for _, n := range sortedKeys(o.Runtime) {
		rt.RawSetString(n, lua.LTrue)
	}
	t.RawSetString("runtime", rt)
	down := L.NewTable()
	for _, n := range sortedKeys(o.ServiceDown) {
		down.RawSetString(n, lua.LTrue)
	}
	t.RawSetString("service_down", down)
	hashes := L.NewTable()
	for _, n := range sortedKeys(o.Hashes) {
		h := o.Hashes[n]
		ht := L.CreateTable(0, 4)
		for _, kv := range [][2]string{{"manifest", h.Manifest}, {"service", h.Service}, {"policy", h.Policy}, {"apply", h.Apply}} {
			if kv[1] != "" {
				ht.RawSetString(kv[0], lua.LString(kv[1]))
			}
		}
		hashes.RawSetString(n, ht)
	}
	t.RawSetString("hashes", hashes)
	vols := L.NewTable()
	for _, n := range sortedKeys(o.Volumes) {
		v := o.Volumes[n]
		vt := L.CreateTable(0, 2)
		vt.RawSetString("exists", lua.LBool(v.Exists))
		vt.RawSetString("mode", lua.LNumber(v.Mode))
		vols.RawSetString(n, vt)
	}
	t.RawSetString("volumes", vols)
	return t
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
