package runtime

import (
	"strings"

	lua "github.com/yuin/gopher-lua"

	"cells/runtime/internal/luapm"
)

// The pattern functions (find, match, gmatch, gsub) use luapm, a copy of
// gopher-lua's matcher that checks the VM's context while it backtracks:
// gopher-lua's runs a pathological pattern to its end inside one Go call,
// which no deadline interrupts.

// luaPatternFuncs are the replacements of the string library's pattern
// functions (gfind is gmatch's old name). They have no upvalues, so every VM
// shares them (see lua_stdlib.go).
var luaPatternFuncs = map[string]lua.LGFunction{
	"find":   luaStrFind,
	"match":  luaStrMatch,
	"gmatch": luaStrGmatch,
	"gfind":  luaStrGmatch,
}

// luaPatternCheck returns the function luapm calls while matching: the
// context error once the run's time or memory limit has fired.
func luaPatternCheck(L *lua.LState) func() error {
	ctx := L.Context()
	if ctx == nil {
		return nil
	}
	return ctx.Err
}

// luaCompilePattern compiles a Lua pattern or raises its error.
func luaCompilePattern(L *lua.LState, pat string) *luapm.Pattern {
	p, err := luapm.Compile(pat)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	return p
}

// luaPatternFind runs p over s and raises on errors, including a limit
// that fired during the match (the VM then reports the limit).
func luaPatternFind(L *lua.LState, p *luapm.Pattern, s string, offset, limit int) []*luapm.MatchData {
	mds, err := p.Find(luaReadOnlyBytes(s), offset, limit, luaPatternCheck(L))
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	return mds
}

// luaPushCaptures pushes the captures of md (or the whole match when it has
// none and whole is set) and returns how many it pushed.
func luaPushCaptures(L *lua.LState, s string, md *luapm.MatchData, whole bool) int {
	n := md.CaptureLength()
	if n == 2 {
		if !whole {
			return 0
		}
		L.Push(lua.LString(s[md.Capture(0):md.Capture(1)]))
		return 1
	}
	for i := 2; i < n; i += 2 {
		if md.IsPosCapture(i) {
			L.Push(lua.LNumber(md.Capture(i)))
		} else {
			L.Push(lua.LString(s[md.Capture(i):md.Capture(i+1)]))
		}
	}
	return n/2 - 1
}

// luaStartIndex turns a 1-based, possibly negative Lua init into a 0-based
// byte offset clamped at 0.
func luaStartIndex(s string, i int) int {
	if i < 0 {
		i = len(s) + i + 1
	}
	if i < 1 {
		return 0
	}
	return i - 1
}

// luaStrFind is string.find(s, pattern [, init [, plain]]).
func luaStrFind(L *lua.LState) int {
	s := L.CheckString(1)
	pat := L.CheckString(2)
	init := luaStartIndex(s, L.OptInt(3, 1))
	plain := lua.LVAsBool(L.Get(4))
	if init > len(s) {
		L.Push(lua.LNil)
		return 1
	}
	if plain || pat == "" {
		pos := strings.Index(s[init:], pat)
		if pos < 0 {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(lua.LNumber(init + pos + 1))
		L.Push(lua.LNumber(init + pos + len(pat)))
		return 2
	}
	mds := luaPatternFind(L, luaCompilePattern(L, pat), s, init, 1)
	if len(mds) == 0 {
		L.Push(lua.LNil)
		return 1
	}
	md := mds[0]
	L.Push(lua.LNumber(md.Capture(0) + 1))
	L.Push(lua.LNumber(md.Capture(1)))
	return 2 + luaPushCaptures(L, s, md, false)
}

// luaStrMatch is string.match(s, pattern [, init]).
func luaStrMatch(L *lua.LState) int {
	s := L.CheckString(1)
	pat := L.CheckString(2)
	init := luaStartIndex(s, L.OptInt(3, 1))
	if init > len(s) {
		L.Push(lua.LNil)
		return 1
	}
	mds := luaPatternFind(L, luaCompilePattern(L, pat), s, init, 1)
	if len(mds) == 0 {
		L.Push(lua.LNil)
		return 1
	}
	return luaPushCaptures(L, s, mds[0], true)
}

// luaStrGmatch is string.gmatch(s, pattern): the iterator finds one match
// per call, so a large subject never holds all its matches at once.
func luaStrGmatch(L *lua.LState) int {
	s := L.CheckString(1)
	p := luaCompilePattern(L, L.CheckString(2))
	pos, done := 0, false
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if done || pos > len(s) {
			return 0
		}
		mds := luaPatternFind(L, p, s, pos, 1)
		if len(mds) == 0 || p.Anchored() {
			done = true
		}
		if len(mds) == 0 {
			return 0
		}
		md := mds[0]
		start, end := md.Capture(0), md.Capture(1)
		pos = end
		if end == start {
			pos++ // an empty match: move on
		}
		return luaPushCaptures(L, s, md, true)
	}))
	return 1
}
