package runtime

import (
	"fmt"
	"path/filepath"
	"sort"

	lua "github.com/yuin/gopher-lua"

	"cells/spec"
)

// Desired is the desired state as the Lua planner sees it: every declared
// cell in dependency order with its hashes, the declared volumes, and the
// apply documents of the targets with their hashes (cells.apply.plan).
type Desired struct {
	Cells   []DesiredCell
	Volumes []*spec.Volume
	Applies map[string]DesiredApply
	// NoArgs leaves the actions' arguments out of the Lua tables: a dry
	// run only plans and reports, it needs their kinds.
	NoArgs bool
}

// DesiredCell is one declared cell with its drift hashes.
type DesiredCell struct {
	Cell   *spec.Cell
	Hashes spec.Hashes
}

// DesiredApply is the apply document of a target with its hash.
type DesiredApply struct {
	Apply *spec.Apply
	Hash  string
}

// buildDesired computes the hashes: every cell's, and the apply hash of
// every target's document (it reads the source files, so a missing one
// fails the apply before anything changes).
func buildDesired(st *spec.State, order, targets []*spec.Cell) (*Desired, error) {
	d := &Desired{Volumes: st.Volumes, Applies: make(map[string]DesiredApply, len(targets))}
	d.Cells = make([]DesiredCell, len(order))
	for i, c := range order {
		d.Cells[i] = DesiredCell{Cell: c, Hashes: st.CellHashes(c)}
	}
	// st.Apply scans the documents: one index instead of a scan per target.
	docs := make(map[string]*spec.Apply, len(st.Applies))
	for _, a := range st.Applies {
		if _, dup := docs[a.Name]; !dup {
			docs[a.Name] = a
		}
	}
	for _, c := range targets {
		a := docs[c.Name]
		if a == nil {
			continue
		}
		h, err := st.ApplyHash(a)
		if err != nil {
			return nil, err
		}
		d.Applies[c.Name] = DesiredApply{Apply: a, Hash: h}
	}
	return d, nil
}

func (d *Desired) lua(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	cells := L.CreateTable(len(d.Cells), 0)
	for _, dc := range d.Cells {
		c := dc.Cell
		ct := L.CreateTable(0, 6)
		ct.RawSetString("name", lua.LString(c.Name))
		ct.RawSetString("autostart", lua.LBool(c.Autostart))
		ct.RawSetString("healthcheck", lua.LString(c.Healthcheck))
		ct.RawSetString("service", lua.LString(dc.Hashes.Service))
		ct.RawSetString("policy", lua.LString(dc.Hashes.Policy))
		ct.RawSetString("manifest", lua.LString(dc.Hashes.Manifest))
		cells.Append(ct)
	}
	t.RawSetString("cells", cells)
	vols := L.CreateTable(len(d.Volumes), 0)
	for _, v := range d.Volumes {
		vt := L.CreateTable(0, 2)
		vt.RawSetString("name", lua.LString(v.Name))
		if v.Mode != "" {
			vt.RawSetString("mode", lua.LString(v.Mode))
		}
		vols.Append(vt)
	}
	t.RawSetString("volumes", vols)
	applies := L.CreateTable(0, len(d.Applies))
	var kinds map[string]*lua.LTable
	if d.NoArgs {
		kinds = map[string]*lua.LTable{}
	}
	for _, n := range sortedKeys(d.Applies) {
		applies.RawSetString(n, applyLua(L, d.Applies[n].Apply, d.Applies[n].Hash, kinds))
	}
	t.RawSetString("applies", applies)
	return t
}

// applyLua converts an apply document to the table the engine and the
// actions receive: { name, file, manifest_dir, hash, actions = { { kind,
// file, line, args, sources }, ... } }. With kinds (a dry run, which only
// plans and reports) the actions are { kind } alone, one read-only table
// per kind shared through kinds.
func applyLua(L *lua.LState, a *spec.Apply, hash string, kinds map[string]*lua.LTable) *lua.LTable {
	at := L.CreateTable(0, 5)
	at.RawSetString("name", lua.LString(a.Name))
	at.RawSetString("file", lua.LString(a.Site.File))
	at.RawSetString("manifest_dir", lua.LString(filepath.Dir(a.Site.File)))
	if hash != "" {
		at.RawSetString("hash", lua.LString(hash))
	}
	acts := L.CreateTable(len(a.Actions), 0)
	for i := range a.Actions {
		act := &a.Actions[i]
		if kinds != nil {
			x := kinds[act.Kind]
			if x == nil {
				x = L.CreateTable(0, 1)
				x.RawSetString("kind", lua.LString(act.Kind))
				kinds[act.Kind] = x
			}
			acts.Append(x)
			continue
		}
		x := L.CreateTable(0, 5)
		x.RawSetString("kind", lua.LString(act.Kind))
		x.RawSetString("file", lua.LString(act.Site.File))
		x.RawSetString("line", lua.LNumber(act.Site.Line))
		x.RawSetString("args", valueLua(L, spec.Map(act.Args)))
		x.RawSetString("sources", strList(L, act.Sources))
		acts.Append(x)
	}
	at.RawSetString("actions", acts)
	return at
}

// valueLua converts an action argument back to Lua: from_env references
// become { __cellman_from_env = "NAME" } as the DSL built them.
func valueLua(L *lua.LState, v spec.Value) lua.LValue {
	switch v := v.(type) {
	case spec.String:
		return lua.LString(v)
	case spec.Int:
		return lua.LNumber(v)
	case spec.Bool:
		return lua.LBool(v)
	case spec.List:
		t := L.CreateTable(len(v), 0)
		for _, x := range v {
			t.Append(valueLua(L, x))
		}
		return t
	case spec.Map:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys) // insertion order = pairs order: keep it stable
		t := L.CreateTable(0, len(v))
		for _, k := range keys {
			t.RawSetString(k, valueLua(L, v[k]))
		}
		return t
	case spec.FromEnv:
		t := L.CreateTable(0, 1)
		t.RawSetString("__cellman_from_env", lua.LString(v))
		return t
	}
	return lua.LNil
}

func strList(L *lua.LState, l []string) *lua.LTable {
	t := L.CreateTable(len(l), 0)
	for _, s := range l {
		t.Append(lua.LString(s))
	}
	return t
}

// toLua converts plain Go data (bool, int, string, []string, maps of
// those) to Lua values.
func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case int:
		return lua.LNumber(v)
	case uint32:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []string:
		return strList(L, v)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t := L.CreateTable(0, len(v))
		for _, k := range keys {
			t.RawSetString(k, toLua(L, v[k]))
		}
		return t
	}
	panic(fmt.Sprintf("toLua: unsupported %T", v))
}
