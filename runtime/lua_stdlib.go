package runtime

import (
	"sort"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// The standard libraries of a VM are not opened per VM: opening them
// (RegisterModule) allocates a Go function object per library function and
// grows every table entry by entry, which was half the cost of NewVM. They
// are opened once in a template state, and each VM gets fresh, presized
// tables holding the template's function values. Sharing those is safe:
// they are Go functions without upvalues that anything could change (or
// closures over other such functions), which work on the LState that calls
// them; the only field of an LFunction that Lua can write is its
// environment, and setfenv/getfenv are not in the sandbox. The entries are
// sorted, so pairs() over a library has the same order in every VM.

// luaEntry is one field of a library table.
type luaEntry struct {
	key string
	val lua.LValue
}

// luaLib is one library table: its global name and its fields.
type luaLib struct {
	name    string
	entries []luaEntry
}

// luaStd is the sandbox's share of the gopher-lua libraries.
type luaStd struct {
	globals []luaEntry // base library functions and _VERSION
	libs    []luaLib   // coroutine, math, string, table, utf8
	// stringMeta is the metatable of strings for VMs with the default
	// MaxStringSize (see luaStringMeta).
	stringMeta *lua.LTable
	// Filled tables that openStdlib clones (see cloneTable): the globals
	// and _LOADED with placeholders where each VM's own tables go, and
	// each library (in libs order).
	globalsT, loadedT *lua.LTable
	libsT             []*lua.LTable
}

// sandboxHidden are the base library globals a VM never gets: they reach
// the filesystem, compile code at run time, change environments, or tell
// the collector what to do.
var sandboxHidden = map[string]bool{
	"dofile": true, "loadfile": true, "load": true, "loadstring": true, "module": true,
	"setfenv": true, "getfenv": true, "collectgarbage": true, "_printregs": true,
	"newproxy": true, "_GOPHER_LUA_VERSION": true, "require": true, "print": true, "_G": true,
}

var (
	luaStdOnce sync.Once
	luaStdV    *luaStd
)

// luaStdlib opens base, table, string, math and coroutine in a template
// state once per process and returns their contents, with the string
// library's pattern functions replaced by the interruptible ones
// (lua_pattern.go), the size-capped builtins for the default
// MaxStringSize (lua_limits.go) and the utf8 library (lua_utf8.go).
func luaStdlib() *luaStd {
	luaStdOnce.Do(func() {
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		for _, open := range []lua.LGFunction{lua.OpenBase, lua.OpenTable, lua.OpenString, lua.OpenMath, lua.OpenCoroutine} {
			L.Push(L.NewFunction(open))
			L.Call(0, 0)
		}
		g := L.G.Global
		str := g.RawGetString(lua.StringLibName).(*lua.LTable)
		tab := g.RawGetString(lua.TabLibName).(*lua.LTable)
		luaOrigFormat = str.RawGetString("format").(*lua.LFunction).GFunction
		luaOrigConcat = tab.RawGetString("concat").(*lua.LFunction).GFunction
		for name, fn := range luaPatternFuncs {
			str.RawSetString(name, L.NewFunction(fn))
		}
		for name, fn := range luaCappedString(DefaultMaxStringSize) {
			str.RawSetString(name, L.NewFunction(fn))
		}
		tab.RawSetString("concat", L.NewFunction(luaCappedConcat(DefaultMaxStringSize)))
		g.RawSetString("type", L.NewFunction(luaType))
		str.RawSetString("__index", lua.LNil)
		g.RawSetString("utf8", luaUTF8Table(L))
		std := &luaStd{}
		L.G.Global.ForEach(func(k, v lua.LValue) {
			name := k.String()
			if sandboxHidden[name] {
				return
			}
			if t, ok := v.(*lua.LTable); ok {
				lib := luaLib{name: name}
				t.ForEach(func(k, v lua.LValue) {
					lib.entries = append(lib.entries, luaEntry{k.String(), v})
				})
				sortEntries(lib.entries)
				std.libs = append(std.libs, lib)
				return
			}
			std.globals = append(std.globals, luaEntry{name, v})
		})
		sortEntries(std.globals)
		sort.Slice(std.libs, func(i, j int) bool { return std.libs[i].name < std.libs[j].name })
		for _, lib := range std.libs {
			if lib.name == lua.StringLibName {
				std.stringMeta = luaStringMeta(L, str, lib.entries)
			}
		}
		if canCloneTables {
			std.templates()
		}
		luaStdV = std
	})
	return luaStdV
}

func sortEntries(es []luaEntry) {
	sort.Slice(es, func(i, j int) bool { return es[i].key < es[j].key })
}

// templates fills the tables openStdlib clones, key by key in the order
// openStdlib's slow path would (every VM sees the same pairs() order).
func (std *luaStd) templates() {
	std.globalsT = &lua.LTable{Metatable: lua.LNil}
	std.loadedT = &lua.LTable{Metatable: lua.LNil}
	fill(std.globalsT, std.loadedT, std.globals, std.libs, func(luaLib) *lua.LTable {
		return &lua.LTable{Metatable: lua.LNil}
	}, lua.LTrue)
	// Room for the globals every VM or every DSL file VM adds next (print,
	// require, the DSL builders): set and removed again, a key keeps its
	// place in the table's order and storage, so that adding it to a
	// clone grows nothing. Removed keys are invisible to Lua.
	for _, name := range append([]string{"print", "require"}, dslGlobalNames...) {
		std.globalsT.RawSetString(name, lua.LTrue)
		std.globalsT.RawSetString(name, lua.LNil)
	}
	for _, lib := range std.libs {
		t := &lua.LTable{Metatable: lua.LNil}
		for _, e := range lib.entries {
			t.RawSetString(e.key, e.val)
		}
		std.libsT = append(std.libsT, t)
	}
}

// fill sets _G, the base functions and a table per library in the globals
// g, and _G and the libraries in loaded; self is the value of _G.
func fill(g, loaded *lua.LTable, globals []luaEntry, libs []luaLib, table func(luaLib) *lua.LTable, self lua.LValue) {
	g.RawSetString("_G", self)
	loaded.RawSetString("_G", self)
	for _, e := range globals {
		g.RawSetString(e.key, e.val)
	}
	for _, lib := range libs {
		t := table(lib)
		g.RawSetString(lib.name, t)
		loaded.RawSetString(lib.name, t)
	}
}

// openStdlib fills the VM's globals and _LOADED with fresh library tables.
func (vm *VM) openStdlib() {
	std := luaStdlib()
	L := vm.L
	if std.globalsT != nil {
		// The contents of the slow path below, cloned (in the same order
		// but for the reserved keys, see templates).
		g, loaded := cloneTable(std.globalsT), cloneTable(std.loadedT)
		L.G.Global, L.Env = g, g
		L.G.Registry.RawSetString("_LOADED", loaded)
		vm.loaded = loaded
		g.RawSetString("_G", g)
		loaded.RawSetString("_G", g)
		for i, lib := range std.libs {
			t := cloneTable(std.libsT[i])
			g.RawSetString(lib.name, t)
			loaded.RawSetString(lib.name, t)
		}
		return
	}
	g := L.G.Global
	vm.loaded = L.CreateTable(0, len(std.libs)+4)
	L.G.Registry.RawSetString("_LOADED", vm.loaded)
	fill(g, vm.loaded, std.globals, std.libs, func(lib luaLib) *lua.LTable {
		t := L.CreateTable(0, len(lib.entries))
		for _, e := range lib.entries {
			t.RawSetString(e.key, e.val)
		}
		return t
	}, g)
}

// stdEntries returns the template fields of library name.
func stdEntries(name string) []luaEntry {
	for _, lib := range luaStdlib().libs {
		if lib.name == name {
			return lib.entries
		}
	}
	return nil
}

// luaTypeNames are the results of type(), boxed once.
var luaTypeNames = func() (names [lua.LTChannel + 1]lua.LValue) {
	for t := range names {
		names[t] = lua.LString(lua.LValueType(t).String())
	}
	return names
}()

// luaType is the base library's type() without an allocation per call
// (the built-in one boxes a new string each time; the DSL calls it for
// nearly every value it checks, in every file).
func luaType(L *lua.LState) int {
	L.Push(luaTypeNames[L.CheckAny(1).Type()])
	return 1
}
