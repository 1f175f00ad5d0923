package runtime

import (
	lua "github.com/yuin/gopher-lua"

	"cells/modules/fs"
	"cells/modules/proc"
)

// HostLibs is the RegisterLib group of the modules that act on the host:
// confined file operations on a cell root (cells.fs), commands inside a
// cell (cells.proc), the hash store (cells.state), the apply lock
// (cells.lock) and the cell life cycle (cells.lifecycle). Only the apply
// engine's VM and `cellman run` scripts opt into it: a DSL file, which only
// declares, cannot require any of them.
const HostLibs = "cells-host"

// hostModules are the members of HostLibs (modules/ cannot import runtime,
// so their loaders are collected here).
var hostModules = []Module{
	{Name: fs.Name, Loader: fs.Loader},
	{Name: proc.Name, Loader: proc.Loader},
}

// registerHost adds m to the HostLibs group.
func registerHost(m Module) { hostModules = append(hostModules, m) }

func init() {
	RegisterLib(HostLibs, func(L *lua.LState) {
		for _, m := range hostModules {
			L.PreloadModule(m.Name, m.Loader)
		}
	})
}
