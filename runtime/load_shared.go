package runtime

import (
	"errors"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"cells/modules/site"
)

// The DSL builders are loaded once per process, in a template VM, and every
// DSL file VM gets the same builder functions as globals. Requiring
// cells.dsl in each file's VM ran its modules' bodies again (a closure and
// a keyed-table entry per function, per VM): a third of the cost of
// loading a file.
//
// The file VMs are still fresh states: globals, libraries, string
// metatable and require cache are their own. What they share is code that
// cannot be changed from Lua and that changes nothing shared when it runs:
//   - a shared Lua function runs on the calling state (its stack, limits,
//     time limit, errors); the only field of a function Lua could write is
//     its environment, and setfenv/getfenv are not in the sandbox;
//   - the luastd modules keep everything a call produces in the calling
//     VM's site.state() (documents, helper sites, registered kinds), and
//     after actions.prime() no call writes to a table of theirs;
//   - their upvalues and tables are out of reach of the operator's code:
//     builders return fresh tables, and nothing hands out a module table;
//   - the template's own require is removed, so a luastd function that
//     required at call time would fail instead of changing the template.
// The operator's custom actions (<DSL dir>/actions) run in each file's VM
// as before, so their code is never shared; the kinds they register go to
// that VM's site.state(), where the shared builders look first.
// TestDSLErrors and FuzzLoad check that a VM with its own cells.dsl
// (loadOptions.ownDSL) comes to the same results and errors;
// TestSharedDSLConcurrent runs shared builders in parallel loads (and
// under -race).

// dslGlobalNames are the globals installDSL sets, for which every VM's
// globals have room (see luaStd.templates); TestSharedDSLNames keeps the
// list in step with cells.dsl.
var dslGlobalNames = []string{"cell", "volume", "host", "apply", "from_env",
	"pkg", "exec", "dir", "line", "symlink", "copy", "untar", "file", "patch", "template", "script"}

// dslEntry is one builder global.
type dslEntry struct {
	name string
	fn   lua.LValue
}

var (
	dslOnce    sync.Once
	dslEntries []dslEntry
	dslBuilder *lua.LFunction // cells.dsl.actions.builder, for custom kinds
	dslErr     error
)

// sharedDSL returns the builder globals of cells.dsl (cell, volume, host,
// apply, from_env and one per built-in action kind), loaded once.
func sharedDSL() ([]dslEntry, error) {
	dslOnce.Do(func() {
		vm := NewVM(VMOptions{})
		L := vm.L
		if err := L.CallByParam(lua.P{Fn: L.GetGlobal("require"), NRet: 1, Protect: true}, lua.LString("cells.dsl")); err != nil {
			dslErr = errors.New(headLine(err.Error()))
			return
		}
		mod, ok := L.Get(-1).(*lua.LTable)
		L.Pop(1)
		if !ok {
			dslErr = errors.New("cells.dsl is not a module table")
			return
		}
		var prime, install *lua.LFunction
		install, _ = mod.RawGetString("install").(*lua.LFunction)
		if acts, ok := mod.RawGetString("actions").(*lua.LTable); ok {
			prime, _ = acts.RawGetString("prime").(*lua.LFunction)
			dslBuilder, _ = acts.RawGetString("builder").(*lua.LFunction)
		}
		if prime == nil || install == nil || dslBuilder == nil {
			dslErr = errors.New("cells.dsl has no install, actions.prime or actions.builder function")
			return
		}
		env := L.NewTable()
		err := L.CallByParam(lua.P{Fn: prime, Protect: true})
		if err == nil {
			err = L.CallByParam(lua.P{Fn: install, NRet: 1, Protect: true}, env)
		}
		if err != nil {
			dslErr = errors.New(headLine(err.Error()))
			return
		}
		L.SetTop(0)
		env.ForEach(func(k, v lua.LValue) {
			dslEntries = append(dslEntries, dslEntry{k.String(), v})
		})
		L.G.Global.RawSetString("require", lua.LNil)
	})
	return dslEntries, dslErr
}

// installDSL gives the VM the DSL builders as globals and returns the list
// the builders append the documents to: the shared builders, plus one for
// each kind the VM's custom actions registered (made by the shared
// actions.builder, so they run like the others). With own, the VM loads
// cells.dsl itself instead (tests compare the two).
func installDSL(vm *VM, own bool) (*lua.LTable, error) {
	L := vm.L
	if own {
		return installOwnDSL(vm)
	}
	entries, err := sharedDSL()
	if err != nil {
		return nil, err
	}
	g := L.G.Global
	for _, e := range entries {
		g.RawSetString(e.name, e.fn)
	}
	if names, ok := site.State(L).RawGetString("names").(*lua.LTable); ok {
		for i := 1; i <= names.Len(); i++ {
			name := names.RawGetInt(i)
			if err := L.CallByParam(lua.P{Fn: dslBuilder, NRet: 1, Protect: true}, name); err != nil {
				return nil, errors.New(headLine(err.Error()))
			}
			g.RawSet(name, L.Get(-1))
			L.Pop(1)
		}
	}
	docs := site.Documents(L)
	if docs == nil {
		return nil, errors.New("no documents list")
	}
	return docs, nil
}
