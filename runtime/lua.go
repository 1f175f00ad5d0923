// Package runtime is libcellman: the Go host of Cells. It runs sandboxed
// gopher-lua VMs with the embedded luastd library and the registered Go
// modules, loads the desired state, and offers the typed API used by cellman
// and cellui (read views, apply, lifecycle, backup).
package runtime

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"cells/luastd"
)

// VMOptions configures a sandboxed VM.
type VMOptions struct {
	// Timeout bounds the run of a chunk (default DefaultTimeout); a runaway
	// loop becomes an error instead of a hung host.
	Timeout time.Duration
	// CallStackSize caps recursion depth (default DefaultCallStack).
	CallStackSize int
	// Print receives print() output (default os.Stderr).
	Print io.Writer
	// Libs lists extra registered module groups to preload (see RegisterLib).
	Libs []string
}

// Defaults of the sandbox limits.
const (
	DefaultTimeout   = 5 * time.Second
	DefaultCallStack = 200
)

// Module is a Go module exposed to Lua as require("cells.<name>").
type Module struct {
	Name   string // full module name, e.g. "cells.kernel"
	Loader lua.LGFunction
}

var (
	registryMu sync.Mutex
	registry   = map[string]Module{}
	libs       = map[string]func(*lua.LState){}
)

// Register adds a Go module to every VM created afterwards. Packages under
// modules/ call it from their Register function.
func Register(m Module) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry[m.Name] = m
}

// RegisterLib registers an optional group of preloads (for example the
// whitelisted gopher-lua-libs for `cellman run`) that VMs opt into by name.
func RegisterLib(name string, preload func(*lua.LState)) {
	registryMu.Lock()
	defer registryMu.Unlock()
	libs[name] = preload
}

// VM is one sandboxed Lua state. It is not safe for concurrent use.
type VM struct {
	L      *lua.LState
	opts   VMOptions
	cancel context.CancelFunc
}

// NewVM returns a fresh sandboxed state: base, table, string, math and
// coroutine libraries; no os, io, debug, load*, dofile, collectgarbage;
// require resolves only embedded luastd modules and registered Go modules.
func NewVM(opts VMOptions) *VM {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.CallStackSize <= 0 {
		opts.CallStackSize = DefaultCallStack
	}
	if opts.Print == nil {
		opts.Print = os.Stderr
	}
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       opts.CallStackSize,
		RegistrySize:        1024,
		RegistryMaxSize:     1 << 20,
		MinimizeStackMemory: true,
	})
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage}, // must be first
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	for _, g := range []string{"dofile", "loadfile", "load", "loadstring", "module",
		"setfenv", "getfenv", "collectgarbage", "_printregs", "newproxy"} {
		L.SetGlobal(g, lua.LNil)
	}
	vm := &VM{L: L, opts: opts}
	vm.installPrint()
	vm.installRequire()
	return vm
}

// Close releases the state.
func (vm *VM) Close() {
	if vm.cancel != nil {
		vm.cancel()
	}
	vm.L.Close()
}

func (vm *VM) installPrint() {
	w := vm.opts.Print
	vm.L.SetGlobal("print", vm.L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		var b strings.Builder
		for i := 1; i <= n; i++ {
			if i > 1 {
				b.WriteByte('\t')
			}
			b.WriteString(L.ToStringMeta(L.Get(i)).String())
		}
		b.WriteByte('\n')
		io.WriteString(w, b.String())
		return 0
	}))
}

// installRequire replaces package.loaders with the preload searcher only and
// fills package.preload from the embedded luastd and the Go registry.
func (vm *VM) installRequire() {
	L := vm.L
	pkg := L.GetGlobal("package").(*lua.LTable)
	loaders := L.CreateTable(1, 0)
	loaders.Append(L.GetField(pkg, "loaders").(*lua.LTable).RawGetInt(1))
	L.SetField(pkg, "loaders", loaders)
	L.SetField(L.Get(lua.RegistryIndex), "_LOADERS", loaders)
	L.SetField(pkg, "path", lua.LString(""))
	L.SetField(pkg, "cpath", lua.LString(""))

	registryMu.Lock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		L.PreloadModule(n, registry[n].Loader)
	}
	for _, name := range vm.opts.Libs {
		if pre, ok := libs[name]; ok {
			pre(L)
		}
	}
	registryMu.Unlock()
	preloadLuastd(L)
}

// preloadLuastd registers every embedded luastd file as a module whose chunk
// name is its embedded path, so errors read "luastd/cells/dsl.lua:12: ...".
func preloadLuastd(L *lua.LState) {
	files := luastd.Files()
	fs.WalkDir(files, "cells", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".lua") {
			return err
		}
		mod := strings.ReplaceAll(strings.TrimSuffix(p, ".lua"), "/", ".")
		mod = strings.TrimSuffix(mod, ".init")
		path := p
		L.PreloadModule(mod, func(L *lua.LState) int {
			src, err := files.ReadFile(path)
			if err != nil {
				L.RaiseError("%v", err)
			}
			fn, err := L.Load(bytes.NewReader(src), "luastd/"+path)
			if err != nil {
				L.RaiseError("%v", err)
			}
			L.Push(fn)
			L.Call(0, 1)
			return 1
		})
		return nil
	})
}

// DoChunk compiles src under the chunk name and runs it within the time
// limit. The error's first line reads "<chunk>:<line>: <message>".
func (vm *VM) DoChunk(name string, src []byte) error {
	fn, err := vm.L.Load(bytes.NewReader(src), name)
	if err != nil {
		return cleanLuaError(err)
	}
	return vm.Call(fn, 0)
}

// Call runs fn with the stack arguments already pushed (nargs of them)
// under the VM's time limit, discarding results.
func (vm *VM) Call(fn *lua.LFunction, nargs int) error {
	ctx, cancel := context.WithTimeout(context.Background(), vm.opts.Timeout)
	defer cancel()
	vm.L.SetContext(ctx)
	defer vm.L.RemoveContext()
	args := make([]lua.LValue, nargs)
	for i := nargs; i > 0; i-- {
		args[i-1] = vm.L.Get(-i)
	}
	vm.L.Pop(nargs)
	vm.L.Push(fn)
	for _, a := range args {
		vm.L.Push(a)
	}
	err := vm.L.PCall(nargs, 0, nil)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: time limit of %s exceeded", firstLine(err.Error()), vm.opts.Timeout)
		}
		return cleanLuaError(err)
	}
	return nil
}

// cleanLuaError keeps the first line of a Lua error (the traceback follows).
func cleanLuaError(err error) error {
	return fmt.Errorf("%s", firstLine(err.Error()))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
