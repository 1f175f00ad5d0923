package runtime

import (
	"io/fs"
	"sort"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"cells/luastd"
)

// Module is a Go module exposed to Lua as require("cells.<name>").
type Module struct {
	Name   string // full module name, e.g. "cells.kernel"
	Loader lua.LGFunction
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Module{}
	libs       = map[string]func(*lua.LState){}
)

// Register adds a Go module to every VM (also to VMs created before).
// Packages under modules/ call it from their Register function.
func Register(m Module) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry[m.Name] = m
}

// RegisterLib registers an optional group of preloads (for example the
// whitelisted gopher-lua-libs for `cellman run`) that VMs opt into by name
// through VMOptions.Libs. preload may call L.PreloadModule: it runs while a
// temporary package.preload table exists.
func RegisterLib(name string, preload func(*lua.LState)) {
	registryMu.Lock()
	defer registryMu.Unlock()
	libs[name] = preload
}

// Modules lists the names require can resolve in a VM without Libs: the
// embedded luastd modules and the registered Go modules, sorted.
func Modules() []string {
	idx := luastdIndex()
	registryMu.RLock()
	names := make([]string, 0, len(idx)+len(registry))
	for n := range registry {
		if idx[n] == nil {
			names = append(names, n)
		}
	}
	registryMu.RUnlock()
	for n := range idx {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// preloadLibs runs the preload functions of opts.Libs against a temporary
// global package table, then keeps its preload table Go-side only.
func (vm *VM) preloadLibs() {
	if len(vm.opts.Libs) == 0 {
		return
	}
	L := vm.L
	vm.pre = L.NewTable()
	pkg := L.NewTable()
	pkg.RawSetString("preload", vm.pre)
	L.SetGlobal("package", pkg)
	registryMu.RLock()
	var pres []func(*lua.LState)
	for _, name := range vm.opts.Libs {
		if pre, ok := libs[name]; ok {
			pres = append(pres, pre)
		}
	}
	registryMu.RUnlock()
	for _, pre := range pres {
		pre(L)
	}
	L.SetGlobal("package", lua.LNil)
}

// requireLoading marks a module whose loader is running, to report loops.
var requireLoading = &lua.LUserData{}

// require resolves name against, in order, the embedded luastd, the VM's
// preloaded groups and the registered Go modules; never the filesystem. The
// cache is the registry's _LOADED table, which Lua code cannot reach.
func (vm *VM) require(L *lua.LState) int {
	name := L.CheckString(1)
	if v := vm.loaded.RawGetString(name); v != lua.LNil {
		if v == requireLoading {
			L.RaiseError("loop or previous error loading module '%s'", name)
		}
		L.Push(v)
		return 1
	}
	loader := vm.findLoader(name)
	if loader == nil {
		L.RaiseError("module '%s' not found", name)
	}
	vm.loaded.RawSetString(name, requireLoading)
	L.Push(loader)
	L.Push(lua.LString(name))
	if err := L.PCall(1, 1, nil); err != nil {
		vm.loaded.RawSetString(name, lua.LNil)
		if ae, ok := err.(*lua.ApiError); ok {
			L.Error(ae.Object, 0)
		}
		L.RaiseError("%s", err.Error())
	}
	ret := L.Get(-1)
	if v := vm.loaded.RawGetString(name); v != requireLoading {
		ret = v // the module stored itself
	} else if ret == lua.LNil {
		ret = lua.LTrue
	}
	vm.loaded.RawSetString(name, ret)
	L.Pop(1)
	L.Push(ret)
	return 1
}

func (vm *VM) findLoader(name string) *lua.LFunction {
	L := vm.L
	if m := luastdIndex()[name]; m != nil {
		proto, err := m.compile()
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		return L.NewFunctionFromProto(proto)
	}
	if vm.pre != nil {
		if fn, ok := vm.pre.RawGetString(name).(*lua.LFunction); ok {
			return fn
		}
	}
	registryMu.RLock()
	m, ok := registry[name]
	registryMu.RUnlock()
	if ok {
		return L.NewFunction(m.Loader)
	}
	return nil
}

// luastdModule is one embedded luastd file, compiled once per process: a
// FunctionProto is immutable and shared by every VM.
type luastdModule struct {
	path  string // embedded path, "cells/dsl.lua"
	once  sync.Once
	proto *lua.FunctionProto
	err   error
}

func (m *luastdModule) compile() (*lua.FunctionProto, error) {
	m.once.Do(func() {
		src, err := luastd.Files().ReadFile(m.path)
		if err != nil {
			m.err = err
			return
		}
		// The chunk name is the embedded path, so errors read
		// "luastd/cells/dsl.lua:12: ...".
		m.proto, m.err = Compile("luastd/"+m.path, src)
		if m.err == nil {
			// No arg table per require (see mainChunk).
			m.proto = mainChunk(m.proto)
		}
	})
	return m.proto, m.err
}

var (
	luastdOnce sync.Once
	luastdMods map[string]*luastdModule
)

// luastdIndex maps module names to embedded files: cells/dsl.lua is
// "cells.dsl", cells/init.lua is "cells".
func luastdIndex() map[string]*luastdModule {
	luastdOnce.Do(func() {
		luastdMods = map[string]*luastdModule{}
		fs.WalkDir(luastd.Files(), "cells", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".lua") {
				return err
			}
			mod := strings.ReplaceAll(strings.TrimSuffix(p, ".lua"), "/", ".")
			mod = strings.TrimSuffix(mod, ".init")
			luastdMods[mod] = &luastdModule{path: p}
			return nil
		})
	})
	return luastdMods
}
