// Package site is the Lua module require("cells.site"): it tells luastd code
// where the operator's code called it, so DSL errors name the operator's
// file:line and never a luastd line.
//
// Lua API:
//
//	local site = require("cells.site")
//	local file, line = site.where()   -- first frame outside luastd/
package site

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Name is the module name under which runtime registers Loader.
const Name = "cells.site"

// Loader opens the module table.
func Loader(L *lua.LState) int {
	mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"where": where,
	})
	L.Push(mod)
	return 1
}

// where returns the source and current line of the innermost Lua frame whose
// source does not start with "luastd/" (Go frames have no line and are
// skipped too), or "?" and 0 when there is none.
func where(L *lua.LState) int {
	file, line := Caller(L)
	L.Push(lua.LString(file))
	L.Push(lua.LNumber(line))
	return 2
}

// Caller walks the call stack of L from the innermost frame outwards and
// returns the first frame that belongs to operator code.
func Caller(L *lua.LState) (string, int) {
	for lvl := 0; ; lvl++ {
		dbg, ok := L.GetStack(lvl)
		if !ok {
			return "?", 0
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			return "?", 0
		}
		if dbg.CurrentLine > 0 && !strings.HasPrefix(dbg.Source, "luastd/") {
			return dbg.Source, dbg.CurrentLine
		}
	}
}
