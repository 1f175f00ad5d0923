package runtime

import (
	"fmt"
	"io"
	goruntime "runtime"

	lua "github.com/yuin/gopher-lua"

	"cells/runtime/paths"
	"cells/spec"
)

func init() {
	registerHost(Module{Name: "cells.state", Loader: func(L *lua.LState) int {
		L.Push(stateTable(L, paths.FromEnv()))
		return 1
	}})
	registerHost(Module{Name: "cells.lock", Loader: func(L *lua.LState) int {
		L.Push(lockTable(L, paths.FromEnv()))
		return 1
	}})
	registerHost(Module{Name: "cells.lifecycle", Loader: func(L *lua.LState) int {
		p := paths.FromEnv()
		st, err := LoadState(p.DSLDir)
		if err != nil {
			L.RaiseError("cells.lifecycle: %v", err)
		}
		h := &applyHost{p: p, st: st, lc: NewLifecycle(p, st, nil)}
		L.Push(h.lifecycleTable(L))
		return 1
	}})
}

// applyHost is what the Lua engine reaches of the host during one apply.
type applyHost struct {
	p      paths.Paths
	st     *spec.State
	lc     CellLifecycle
	stdout io.Writer
	stderr io.Writer
	// checks runs the healthchecks with the runtime's own lifecycle (nil
	// with an injected one, whose Healthcheck is called one by one).
	checks *applyChecks
}

func newApplyHost(opts ApplyOptions, st *spec.State) *applyHost {
	lc := opts.Lifecycle
	if lc == nil {
		// Lifecycle warnings (rollbacks, destroy retries, a run_as not
		// resolvable yet) go to stderr unless --silent.
		logf := func(format string, args ...any) {
			if !opts.Silent {
				fmt.Fprintf(opts.Stderr, "cellman: warn: %s\n", fmt.Sprintf(format, args...))
			}
		}
		own := NewLifecycle(opts.Paths, st, logf)
		h := &applyHost{p: opts.Paths, st: st, lc: own, stdout: opts.Stdout, stderr: opts.Stderr}
		h.checks = newApplyChecks(own.Options, st)
		return h
	}
	return &applyHost{p: opts.Paths, st: st, lc: lc, stdout: opts.Stdout, stderr: opts.Stderr}
}

func (h *applyHost) close() {
	if h.checks != nil {
		h.checks.close()
	}
}

// changed tells the healthchecks that the apply started, stopped or
// restarted a cell.
func (h *applyHost) changed() {
	if h.checks != nil {
		h.checks.changed()
	}
}

// luaFail returns the Lua convention for an expected failure: nil, message.
func luaFail(L *lua.LState, err error) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(err.Error()))
	return 2
}

func luaOK(L *lua.LState, err error) int {
	if err != nil {
		return luaFail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// table is the host table of cells.apply: state, lifecycle, env, out, err.
func (h *applyHost) table(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("state", stateTable(L, h.p))
	t.RawSetString("lifecycle", h.lifecycleTable(L))
	t.RawSetString("env", h.envTable(L))
	t.RawSetString("out", L.NewFunction(func(L *lua.LState) int {
		io.WriteString(h.stdout, L.CheckString(1))
		return 0
	}))
	t.RawSetString("err", L.NewFunction(func(L *lua.LState) int {
		io.WriteString(h.stderr, L.CheckString(1))
		return 0
	}))
	return t
}

// stateTable is require("cells.state"): the hash store and runtime dirs.
//
//	read(name)                -> { manifest, service, policy, apply } (absent = nil) | nil, err
//	write(name, hashes)       -> true | nil, err   (hashes.apply nil deletes apply.sha256;
//	                                                nothing is written when they are stored already)
//	ensure_cell(name)         -> true | nil, err   (mkdir -p cells/<name>/root)
//	ensure_volume(name, mode) -> path | nil, err   (mkdir 0755, chmod mode)
func stateTable(L *lua.LState, p paths.Paths) *lua.LTable {
	checkName := func(L *lua.LState) string {
		n := L.CheckString(1)
		if !spec.ValidName(n) {
			L.ArgError(1, "invalid name: "+n)
		}
		return n
	}
	return L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"read": func(L *lua.LState) int {
			h, err := ReadHashes(p, checkName(L))
			if err != nil {
				return luaFail(L, err)
			}
			t := L.NewTable()
			for _, f := range hashFiles {
				if v := *h.field(f); v != "" {
					t.RawSetString(f, lua.LString(v))
				}
			}
			L.Push(t)
			return 1
		},
		"write": func(L *lua.LState) int {
			n := checkName(L)
			t := L.CheckTable(2)
			var h StoredHashes
			for _, f := range hashFiles {
				if s, ok := t.RawGetString(f).(lua.LString); ok {
					*h.field(f) = string(s)
				}
			}
			// A converged cell records the hashes it has: four reads
			// instead of four synced writes and renames.
			if old, err := ReadHashes(p, n); err == nil && old == h && h.Manifest != "" && h.Service != "" && h.Policy != "" {
				L.Push(lua.LTrue)
				return 1
			}
			return luaOK(L, WriteHashes(p, n, h))
		},
		"ensure_cell": func(L *lua.LState) int {
			return luaOK(L, EnsureCellRuntime(p, checkName(L)))
		},
		"ensure_volume": func(L *lua.LState) int {
			dir, err := EnsureVolume(p, checkName(L), L.OptString(2, ""))
			if err != nil {
				return luaFail(L, err)
			}
			L.Push(lua.LString(dir))
			return 1
		},
	})
}

// lockTable is require("cells.lock"):
//
//	acquire(op) -> lock | nil, err    lock:release()
func lockTable(L *lua.LState, p paths.Paths) *lua.LTable {
	return L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"acquire": func(L *lua.LState) int {
			lk, err := AcquireLock(p, L.OptString(1, "script"))
			if err != nil {
				return luaFail(L, err)
			}
			t := L.NewTable()
			t.RawSetString("release", L.NewFunction(func(L *lua.LState) int {
				lk.Release()
				return 0
			}))
			L.Push(t)
			return 1
		},
	})
}

// lifecycleTable is require("cells.lifecycle"):
//
//	start(name, healthcheck) -> true | nil, err (with dependencies)
//	stop(name), restart(name), healthcheck(name) -> true | nil, err
//	healthchecks(names)      -> { [i] = true | err }  (the runtime's own lifecycle only:
//	                            concurrent, none started after a known failure: nil)
//	id(name)                 -> kernel id | nil, err
//	identity(name, own)      -> { uid, gid, groups } | nil, err  (run_as of the cell; own: cellman's)
func (h *applyHost) lifecycleTable(L *lua.LState) *lua.LTable {
	healthcheck := h.lc.Healthcheck
	if h.checks != nil {
		healthcheck = h.checks.healthcheck
	}
	fns := map[string]lua.LGFunction{
		"start": func(L *lua.LState) int {
			defer h.changed()
			return luaOK(L, h.lc.Start(L.CheckString(1), L.ToBool(2)))
		},
		"stop": func(L *lua.LState) int {
			defer h.changed()
			return luaOK(L, h.lc.Stop(L.CheckString(1)))
		},
		"restart": func(L *lua.LState) int {
			defer h.changed()
			return luaOK(L, h.lc.Restart(L.CheckString(1)))
		},
		"healthcheck": func(L *lua.LState) int { return luaOK(L, healthcheck(L.CheckString(1))) },
		"id": func(L *lua.LState) int {
			id, err := kernelCellID(h.p, L.CheckString(1))
			if err != nil {
				return luaFail(L, err)
			}
			L.Push(lua.LNumber(id))
			return 1
		},
		"identity": func(L *lua.LState) int {
			n := L.CheckString(1)
			id := ownIdentity()
			if c := h.st.Cell(n); c != nil && !L.ToBool(2) {
				var err error
				if id, err = applyIdentity(h.p, c); err != nil {
					return luaFail(L, err)
				}
			}
			t := L.CreateTable(0, 3)
			t.RawSetString("uid", lua.LNumber(id.UID))
			t.RawSetString("gid", lua.LNumber(id.GID))
			t.RawSetString("groups", lua.LString(id.Groups))
			L.Push(t)
			return 1
		},
	}
	if h.checks != nil {
		fns["healthchecks"] = func(L *lua.LState) int {
			list := L.CheckTable(1)
			names := make([]string, list.Len())
			for i := range names {
				s, ok := list.RawGetInt(i + 1).(lua.LString)
				if !ok {
					L.ArgError(1, "cell names expected")
				}
				names[i] = string(s)
			}
			errs, ran := h.checks.batch(names)
			t := L.CreateTable(len(names), 0)
			for i := range names {
				switch {
				case !ran[i]:
				case errs[i] != nil:
					t.RawSetInt(i+1, lua.LString(errs[i].Error()))
				default:
					t.RawSetInt(i+1, lua.LTrue)
				}
			}
			L.Push(t)
			return 1
		}
	}
	return L.SetFuncs(L.NewTable(), fns)
}

// envTable is the action environment: system, release, arch, PKG_PATH.
func (h *applyHost) envTable(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("goos", lua.LString(goruntime.GOOS))
	release, arch, _ := Uname()
	t.RawSetString("release", lua.LString(release))
	t.RawSetString("arch", lua.LString(arch))
	t.RawSetString("pkg_path", lua.LString(pkgPath(h.p, release, arch)))
	t.RawSetString("pkg_tool", lua.LString(confValue(h.p, "PKG_TOOL", "pkg_add")))
	t.RawSetString("cell_root", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(h.p.CellRoot(L.CheckString(1))))
		return 1
	}))
	return t
}

// pkgPath is the PKG_PATH of actions (reference 4.6): the environment, else
// /etc/cellman.conf, else the NetBSD CDN for this release and arch.
func pkgPath(p paths.Paths, release, arch string) string {
	return confValue(p, "PKG_PATH", fmt.Sprintf("http://cdn.NetBSD.org/pub/pkgsrc/packages/NetBSD/%s/%s/All", arch, MajorMinor(release)))
}

// confValue is key from the environment, else from /etc/cellman.conf, else
// def. PKG_TOOL (ours) is the package tool the pkg action runs inside a
// cell, with leading arguments if any ("apk add"); pkg_add by default.
func confValue(p paths.Paths, key, def string) string {
	if c, err := LoadConfig(p.ConfFile); err == nil {
		if v := c.Get(key); v != "" {
			return v
		}
	}
	return def
}
