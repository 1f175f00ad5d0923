package runtime

import (
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"

	"cells/runtime/internal/luapm"
)

// installLimits gives the VM the builtins that cannot build a huge string
// in one Go call (which no context deadline interrupts), and a protected
// string metatable of its own. With the default MaxStringSize, both come
// ready from the template (lua_stdlib.go); otherwise they are built here.
func (vm *VM) installLimits() {
	L := vm.L
	vm.installCoroutineGuard()
	max := vm.opts.MaxStringSize
	if max == DefaultMaxStringSize {
		L.SetMetatable(lua.LString(""), luaStdlib().stringMeta)
		return
	}
	str := L.G.Global.RawGetString(lua.StringLibName).(*lua.LTable)
	tab := L.G.Global.RawGetString(lua.TabLibName).(*lua.LTable)
	for name, fn := range luaCappedString(max) {
		str.RawSetString(name, L.NewFunction(fn))
	}
	tab.RawSetString("concat", L.NewFunction(luaCappedConcat(max)))
	L.SetMetatable(lua.LString(""), luaStringMeta(L, str, stdEntries(lua.StringLibName)))
}

// luaCappedString returns string.rep, gsub and format refusing results over
// max bytes.
func luaCappedString(max int) map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"rep":    func(L *lua.LState) int { return luaStrRep(L, max) },
		"gsub":   func(L *lua.LState) int { return luaStrGsub(L, max) },
		"format": func(L *lua.LState) int { return luaStrFormat(L, max, luaOrigFormat) },
	}
}

// luaCappedConcat returns table.concat refusing results over max bytes.
func luaCappedConcat(max int) lua.LGFunction {
	return func(L *lua.LState) int { return luaTableConcat(L, max, luaOrigConcat) }
}

// The gopher-lua string.format and table.concat the capped versions call,
// set by luaStdlib.
var luaOrigFormat, luaOrigConcat lua.LGFunction

// luaStringMeta builds the metatable of strings from the string library
// str, whose fields are named by entries. Method calls on strings ("x"):rep(3) go through a private copy of
// the library, and getmetatable("") returns false: Lua code can reach
// neither that copy nor the metatable, so a script cannot change how
// strings behave for the luastd code running in the same VM, and the
// template's copy can be shared by every VM.
func luaStringMeta(L *lua.LState, str *lua.LTable, entries []luaEntry) *lua.LTable {
	methods := L.CreateTable(0, len(entries))
	for _, e := range entries {
		methods.RawSetString(e.key, str.RawGetString(e.key))
	}
	mt := L.CreateTable(0, 2)
	mt.RawSetString("__index", methods)
	mt.RawSetString("__metatable", lua.LFalse)
	return mt
}

// maxCoroutineDepth caps coroutines resumed inside each other. Every level
// nests the Go stack (a resume runs the coroutine's VM loop inside the
// caller's) and each coroutine has a call stack of its own, so without a
// cap f = function() coroutine.wrap(f)() end grows the Go stack until the
// runtime aborts the whole process. C Lua stops at 200 C levels as well.
const maxCoroutineDepth = 200

// installCoroutineGuard wraps coroutine.resume and the functions
// coroutine.wrap returns with a nesting counter.
func (vm *VM) installCoroutineGuard() {
	L := vm.L
	co, ok := L.G.Global.RawGetString(lua.CoroutineLibName).(*lua.LTable)
	if !ok {
		return
	}
	depth := 0
	enter := func(L *lua.LState) {
		if depth >= maxCoroutineDepth {
			L.RaiseError("stack overflow (more than %d nested coroutines)", maxCoroutineDepth)
		}
		depth++
	}
	resume := co.RawGetString("resume").(*lua.LFunction).GFunction
	co.RawSetString("resume", L.NewFunction(func(L *lua.LState) int {
		enter(L)
		defer func() { depth-- }()
		return resume(L)
	}))
	wrap := co.RawGetString("wrap").(*lua.LFunction).GFunction
	co.RawSetString("wrap", L.NewFunction(func(L *lua.LState) int {
		wrap(L)
		inner := L.Get(-1).(*lua.LFunction)
		L.Pop(1)
		L.Push(L.NewFunction(func(L *lua.LState) int {
			enter(L)
			defer func() { depth-- }()
			nargs := L.GetTop()
			L.Insert(inner, 1)
			L.Call(nargs, lua.MultRet)
			return L.GetTop()
		}))
		return 1
	}))
}

func luaTooLarge(L *lua.LState, fn string, max int) {
	L.RaiseError("%s: result too large (max %d bytes)", fn, max)
}

// luaStrRep is string.rep(s, n) refusing results over max bytes.
func luaStrRep(L *lua.LState, max int) int {
	s := L.CheckString(1)
	n := float64(L.CheckNumber(2))
	if n < 1 || s == "" {
		L.Push(lua.LString(""))
		return 1
	}
	if n*float64(len(s)) > float64(max) {
		luaTooLarge(L, "string.rep", max)
	}
	L.Push(lua.LString(strings.Repeat(s, int(n))))
	return 1
}

// luaStrFormat is string.format refusing widths or precisions of more than
// two digits (as C Lua does), '*' widths and Go's explicit argument indexes,
// and results over max bytes. The result size is bounded from the format
// and the arguments before anything is built: Go's fmt does the work, and
// %q can quadruple a string.
func luaStrFormat(L *lua.LState, max int, orig lua.LGFunction) int {
	f := L.CheckString(1)
	bound := len(f)
	arg := 2
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		for _, part := range []string{"width", "precision"} {
			if part == "precision" {
				if i >= len(f) || f[i] != '.' {
					break
				}
				i++
			}
			n := 0
			for i < len(f) && f[i] >= '0' && f[i] <= '9' {
				i++
				n++
			}
			if n > 2 {
				L.RaiseError("invalid format (width or precision too long)")
			}
			bound += 99 // two digits at most
		}
		if i >= len(f) {
			break
		}
		if f[i] == '*' || f[i] == '[' {
			L.RaiseError("invalid format '%%%c' in string.format", f[i])
		}
		bound += luaFormatBound(f[i], L.Get(arg))
		arg++
		if bound > max {
			luaTooLarge(L, "string.format", max)
		}
	}
	n := orig(L)
	if s, ok := L.Get(-1).(lua.LString); ok && len(s) > max {
		luaTooLarge(L, "string.format", max)
	}
	return n
}

// luaFormatBound is an upper bound of the bytes one conversion of v with
// verb writes, besides its width and precision.
func luaFormatBound(verb byte, v lua.LValue) int {
	switch x := v.(type) {
	case lua.LString:
		switch verb {
		case 'q':
			return 4*len(x) + 2 // every byte may become \xNN
		case 'x', 'X':
			return 3 * len(x) // "% x" spaces the hex pairs
		}
		return len(x) + 64 // or a %!verb(...) wrapper
	case lua.LNumber:
		return 400 // %f of 1e308 has 309 digits
	}
	return 128 // "table: 0x..." and the like
}

// luaTableConcat is table.concat refusing results over max bytes; the size
// is summed before anything is built.
func luaTableConcat(L *lua.LState, max int, orig lua.LGFunction) int {
	tbl := L.CheckTable(1)
	sep := L.OptString(2, "")
	n := tbl.Len()
	i := L.OptInt(3, 1)
	j := L.OptInt(4, n)
	if i < 1 {
		i = 1
	}
	if j > n {
		j = n
	}
	total := 0
	for k := i; k <= j; k++ {
		switch v := tbl.RawGetInt(k).(type) {
		case lua.LString:
			total += len(v)
		case lua.LNumber:
			total += len(v.String())
		}
		if k < j {
			total += len(sep)
		}
		if total > max {
			luaTooLarge(L, "table.concat", max)
		}
	}
	return orig(L)
}

// luaReadOnlyBytes views s as bytes without copying; the pattern matcher
// only reads its input, and a copy of a large subject doubles its memory.
func luaReadOnlyBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// luaStrGsub is string.gsub building its result in one pass (gopher-lua's
// copies the whole string per match) and refusing results over max bytes.
// Matches are found in batches so a subject with millions of matches does
// not hold millions of match records. Replacement strings follow Lua 5.1:
// %0-%9 are captures, %% is '%', % before another character is that
// character.
func luaStrGsub(L *lua.LState, max int) int {
	src := L.CheckString(1)
	pat := L.CheckString(2)
	L.CheckTypes(3, lua.LTString, lua.LTNumber, lua.LTTable, lua.LTFunction)
	repl := L.Get(3)
	limit := L.OptInt(4, -1)
	if n, ok := repl.(lua.LNumber); ok {
		repl = lua.LString(n.String())
	}
	p := luaCompilePattern(L, pat)

	var b strings.Builder
	count, last, offset := 0, 0, 0
	const batch = 256
	for limit < 0 || count < limit {
		want := batch
		if limit >= 0 && limit-count < want {
			want = limit - count
		}
		mds := luaPatternFind(L, p, src, offset, want)
		for _, md := range mds {
			start, end := md.Capture(0), md.Capture(1)
			b.WriteString(src[last:start])
			if !luaGsubAppend(L, &b, src, md, repl) {
				b.WriteString(src[start:end])
			}
			last = end
			count++
			if b.Len() > max {
				luaTooLarge(L, "string.gsub", max)
			}
			offset = start + 1
			if end > offset {
				offset = end
			}
		}
		if len(mds) < want || p.Anchored() || offset > len(src) {
			break
		}
	}
	if count == 0 {
		L.Push(lua.LString(src))
		L.Push(lua.LNumber(0))
		return 2
	}
	b.WriteString(src[last:])
	if b.Len() > max {
		luaTooLarge(L, "string.gsub", max)
	}
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(count))
	return 2
}

// luaGsubCapture returns capture i (1-based; 0 is the whole match) as a Lua
// value: a string, or a number for a position capture.
func luaGsubCapture(L *lua.LState, src string, md *luapm.MatchData, i int) lua.LValue {
	ncap := md.CaptureLength()/2 - 1
	if i == 0 || (i == 1 && ncap == 0) {
		return lua.LString(src[md.Capture(0):md.Capture(1)])
	}
	if i > ncap {
		L.RaiseError("invalid capture index %%%d", i)
	}
	idx := 2 * i
	if md.IsPosCapture(idx) {
		return lua.LNumber(md.Capture(idx))
	}
	return lua.LString(src[md.Capture(idx):md.Capture(idx+1)])
}

// luaGsubAppend writes the replacement of one match; false keeps the match
// (a table or function gave nil or false).
func luaGsubAppend(L *lua.LState, b *strings.Builder, src string, md *luapm.MatchData, repl lua.LValue) bool {
	var v lua.LValue
	switch r := repl.(type) {
	case lua.LString:
		s := string(r)
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c != '%' || i+1 == len(s) {
				b.WriteByte(c)
				continue
			}
			i++
			c = s[i]
			if c >= '0' && c <= '9' {
				b.WriteString(luaGsubCapture(L, src, md, int(c-'0')).String())
			} else {
				b.WriteByte(c)
			}
		}
		return true
	case *lua.LTable:
		v = L.GetTable(r, luaGsubCapture(L, src, md, 1))
	case *lua.LFunction:
		ncap := md.CaptureLength()/2 - 1
		L.Push(r)
		if ncap == 0 {
			L.Push(luaGsubCapture(L, src, md, 0))
			ncap = 1
		} else {
			for i := 1; i <= ncap; i++ {
				L.Push(luaGsubCapture(L, src, md, i))
			}
		}
		L.Call(ncap, 1)
		v = L.Get(-1)
		L.Pop(1)
	}
	switch x := v.(type) {
	case lua.LString:
		b.WriteString(string(x))
	case lua.LNumber:
		b.WriteString(x.String())
	case *lua.LNilType, lua.LBool:
		if v == lua.LTrue {
			L.RaiseError("invalid replacement value (a boolean)")
		}
		return false
	default:
		L.RaiseError("invalid replacement value (a %s)", v.Type().String())
	}
	return true
}
