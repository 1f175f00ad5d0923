// Package site is the Lua module require("cells.site"): the native helpers
// of the luastd DSL. where() tells luastd code where the operator's code
// called it, so DSL errors name the operator's file:line and never a luastd
// line. The lexical checks are here, in Go, because gopher-lua compiles a
// Lua pattern on every string.find/match/gmatch call, and every DSL file
// runs them in a fresh VM; the rules that use them stay in Lua.
//
// Lua API:
//
//	local site = require("cells.site")
//	local file, line = site.where()   -- first frame outside luastd/
//	site.is_name(s)        -- [A-Za-z0-9._-]+, not "." or ".."
//	site.is_env_name(s)    -- [A-Za-z_][A-Za-z0-9_]*
//	site.is_token_name(s)  -- [A-Za-z0-9_]+
//	site.is_digits(s)      -- [0-9]+
//	site.is_octal(s)       -- [0-7]+
//	site.is_clean_abs(p)   -- "/" or "/a/b": no empty, "." or ".." part, no trailing "/"
//	site.has_control(s)    -- a byte < 0x20 or 0x7f
//	site.split(s, sep)     -- array of the parts of s between single-byte seps
//	site.is_array(t)       -- t has exactly the keys 1..#t; nil if t has a metatable
//	site.only_keys(t, list) -- every key of t is a string in the array list
//	                       -- (false when list has a metatable)
//	site.state()           -- this VM's DSL state: { documents = {}, sites = {},
//	                       -- kinds = {}, names = {} }, made on first use
//
// state() is what the DSL builders keep per VM: the documents they declared,
// the site of each action a helper built, and the action kinds registered
// in this VM. It lives in the calling state's registry, not in a luastd
// module table, so one set of builder functions (runtime shares them across
// DSL file VMs) works for every VM that calls it.
//
// The is_* functions return false for non-strings. is_array and only_keys
// are the allocation-free common case of the DSL's table checks: luastd
// falls back to its own code (which words the errors) when they say no or,
// for is_array, do not know.
package site

import (
	"math"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// Name is the module name under which runtime registers Loader.
const Name = "cells.site"

// Loader opens the module table: a fresh table per VM holding function
// values shared by every VM (see sharedFuncs).
func Loader(L *lua.LState) int {
	funcs := sharedFuncs()
	mod := L.CreateTable(0, len(funcs))
	for _, f := range funcs {
		mod.RawSetString(f.name, f.fn)
	}
	L.Push(mod)
	return 1
}

// funcEntry is one field of the module table.
type funcEntry struct {
	name string
	fn   *lua.LFunction
}

var (
	funcsOnce sync.Once
	funcs     []funcEntry
)

// sharedFuncs makes the module's function values once per process, in name
// order. Every DSL file loads this module in a fresh VM, and a function
// value per VM and field is most of what loading it costs. Sharing them is
// safe: they are Go functions that keep no state and work on the LState
// that calls them, and the only field of an LFunction Lua can write, its
// environment, is out of reach (no setfenv in the sandbox).
func sharedFuncs() []funcEntry {
	funcsOnce.Do(func() {
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		for _, f := range []struct {
			name string
			fn   lua.LGFunction
		}{
			{"has_control", predicate(hasControl)},
			{"is_array", isArray},
			{"is_clean_abs", predicate(IsCleanAbs)},
			{"is_digits", predicate(func(s string) bool { return s != "" && all(s, digit) })},
			{"is_env_name", predicate(isEnvName)},
			{"is_name", predicate(isName)},
			{"is_octal", predicate(func(s string) bool { return s != "" && all(s, octal) })},
			{"is_token_name", predicate(isTokenName)},
			{"only_keys", onlyKeys},
			{"split", split},
			{"state", state},
			{"where", where},
		} {
			funcs = append(funcs, funcEntry{f.name, L.NewFunction(f.fn)})
		}
	})
	return funcs
}

// stateKey is the registry field of the VM's DSL state.
const stateKey = "cells.site.state"

// State returns the DSL state table of L (see the package comment),
// creating it on first use.
func State(L *lua.LState) *lua.LTable {
	reg := L.G.Registry
	if t, ok := reg.RawGetString(stateKey).(*lua.LTable); ok {
		return t
	}
	// Sized tables: L.NewTable reserves 32 array and 32 hash slots.
	t := L.CreateTable(0, 4)
	t.RawSetString("documents", L.CreateTable(4, 0))
	for _, k := range []string{"sites", "kinds", "names"} {
		t.RawSetString(k, L.CreateTable(0, 0))
	}
	reg.RawSetString(stateKey, t)
	return t
}

// Documents returns the documents the DSL builders of L declared so far,
// or nil when Lua code replaced the list with something else.
func Documents(L *lua.LState) *lua.LTable {
	t, _ := State(L).RawGetString("documents").(*lua.LTable)
	return t
}

func state(L *lua.LState) int {
	L.Push(State(L))
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

func predicate(f func(string) bool) lua.LGFunction {
	return func(L *lua.LState) int {
		s, ok := L.Get(1).(lua.LString)
		L.Push(lua.LBool(ok && f(string(s))))
		return 1
	}
}

func digit(c byte) bool { return c >= '0' && c <= '9' }
func octal(c byte) bool { return c >= '0' && c <= '7' }
func alpha(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

func all(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isName(s string) bool {
	if s == "." || s == ".." {
		return false // names become path components
	}
	return s != "" && all(s, func(c byte) bool { return alpha(c) || digit(c) || c == '.' || c == '_' || c == '-' })
}

func isTokenName(s string) bool {
	return s != "" && all(s, func(c byte) bool { return alpha(c) || digit(c) || c == '_' })
}

func isEnvName(s string) bool {
	return isTokenName(s) && !digit(s[0])
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// IsCleanAbs reports whether p is "/" or an absolute path without empty,
// "." or ".." components and without a trailing slash.
func IsCleanAbs(p string) bool {
	if p == "/" {
		return true
	}
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for _, c := range strings.Split(p[1:], "/") {
		if c == "" || c == "." || c == ".." {
			return false
		}
	}
	return true
}

// split returns the parts of s between occurrences of the one-byte
// separator, like strings.Split ("" gives one empty part).
func split(L *lua.LState) int {
	s := L.CheckString(1)
	sep := L.CheckString(2)
	if len(sep) != 1 {
		L.ArgError(2, "separator must be one byte")
	}
	parts := strings.Split(s, sep)
	t := L.CreateTable(len(parts), 0)
	for _, p := range parts {
		t.Append(lua.LString(p))
	}
	L.Push(t)
	return 1
}

// isArray is is_array(t): true when the keys of t are exactly 1..#t (n may
// be 0), false when they are not or t is no table, nil when t has a
// metatable (its __len would decide #t: the caller's Lua code asks Lua).
func isArray(L *lua.LState) int {
	t, ok := L.Get(1).(*lua.LTable)
	switch {
	case !ok:
		L.Push(lua.LFalse)
	case t.Metatable != lua.LNil:
		L.Push(lua.LNil)
	default:
		L.Push(lua.LBool(arrayKeys(t)))
	}
	return 1
}

func arrayKeys(t *lua.LTable) bool {
	n := t.Len()
	count := 0
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		f, ok := k.(lua.LNumber)
		if !ok || f < 1 || float64(f) > float64(n) || float64(f) != math.Floor(float64(f)) {
			return false
		}
		count++
	}
	return count == n
}

// onlyKeys is only_keys(t, list): whether every key of the table t is a
// string equal to an item of the array list (false too when list has a
// metatable, whose __len Lua would honour). Lists are short: a linear scan.
func onlyKeys(L *lua.LState) int {
	t := L.CheckTable(1)
	list := L.CheckTable(2)
	if list.Metatable != lua.LNil {
		L.Push(lua.LFalse)
		return 1
	}
	n := list.Len()
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		s, ok := k.(lua.LString)
		if !ok {
			L.Push(lua.LFalse)
			return 1
		}
		found := false
		for i := 1; i <= n; i++ {
			if v, ok := list.RawGetInt(i).(lua.LString); ok && v == s {
				found = true
				break
			}
		}
		if !found {
			L.Push(lua.LFalse)
			return 1
		}
	}
	L.Push(lua.LTrue)
	return 1
}
