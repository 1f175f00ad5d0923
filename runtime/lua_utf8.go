package runtime

import (
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// luaUTF8Table builds the Lua 5.3 utf8 library (gopher-lua is Lua 5.1 and
// has none): char, charpattern, codepoint, len, offset, codes. Decoding is
// strict UTF-8 (no surrogates, nothing above U+10FFFF). It is built once in
// the template state (lua_stdlib.go).
func luaUTF8Table(L *lua.LState) *lua.LTable {
	t := L.CreateTable(0, 6)
	t.RawSetString("char", L.NewFunction(utf8Char))
	t.RawSetString("charpattern", lua.LString("[\x00-\x7F\xC2-\xFD][\x80-\xBF]*"))
	t.RawSetString("codepoint", L.NewFunction(utf8Codepoint))
	t.RawSetString("len", L.NewFunction(utf8Len))
	t.RawSetString("offset", L.NewFunction(utf8Offset))
	t.RawSetString("codes", L.NewClosure(utf8Codes, L.NewFunction(utf8CodesIter)))
	return t
}

// utf8PosRelat turns a negative Lua string position into a positive one.
func utf8PosRelat(pos, n int) int {
	if pos >= 0 {
		return pos
	}
	if -pos > n {
		return 0
	}
	return n + pos + 1
}

func utf8IsCont(s string, i int) bool { return i < len(s) && s[i]&0xC0 == 0x80 }

// utf8Decode decodes the character at byte i; size 0 means invalid.
func utf8Decode(s string, i int) (rune, int) {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size <= 1 {
		return 0, 0
	}
	return r, size
}

func utf8Char(L *lua.LState) int {
	n := L.GetTop()
	b := make([]byte, 0, n)
	for i := 1; i <= n; i++ {
		c := L.CheckInt(i)
		if c < 0 || c > utf8.MaxRune || (c >= 0xD800 && c <= 0xDFFF) {
			L.ArgError(i, "value out of range")
		}
		b = utf8.AppendRune(b, rune(c))
	}
	L.Push(lua.LString(b))
	return 1
}

func utf8Codepoint(L *lua.LState) int {
	s := L.CheckString(1)
	i := utf8PosRelat(L.OptInt(2, 1), len(s))
	j := utf8PosRelat(L.OptInt(3, i), len(s))
	if i < 1 {
		L.ArgError(2, "out of range")
	}
	if j > len(s) {
		L.ArgError(3, "out of range")
	}
	n := 0
	for p := i - 1; p < j; {
		r, size := utf8Decode(s, p)
		if size == 0 {
			L.RaiseError("invalid UTF-8 code")
		}
		L.Push(lua.LNumber(r))
		n++
		p += size
	}
	return n
}

func utf8Len(L *lua.LState) int {
	s := L.CheckString(1)
	i := utf8PosRelat(L.OptInt(2, 1), len(s))
	j := utf8PosRelat(L.OptInt(3, -1), len(s))
	if i < 1 || i-1 > len(s) {
		L.ArgError(2, "initial position out of string")
	}
	if j-1 >= len(s) {
		L.ArgError(3, "final position out of string")
	}
	n := 0
	for p := i - 1; p < j; {
		_, size := utf8Decode(s, p)
		if size == 0 {
			L.Push(lua.LNil)
			L.Push(lua.LNumber(p + 1))
			return 2
		}
		p += size
		n++
	}
	L.Push(lua.LNumber(n))
	return 1
}

func utf8Offset(L *lua.LState) int {
	s := L.CheckString(1)
	n := L.CheckInt(2)
	def := 1
	if n < 0 {
		def = len(s) + 1
	}
	p := utf8PosRelat(L.OptInt(3, def), len(s))
	if p < 1 || p-1 > len(s) {
		L.ArgError(3, "position out of range")
	}
	p--
	if n == 0 {
		for p > 0 && utf8IsCont(s, p) {
			p--
		}
		L.Push(lua.LNumber(p + 1))
		return 1
	}
	if utf8IsCont(s, p) {
		L.RaiseError("initial position is a continuation byte")
	}
	if n < 0 {
		for n < 0 && p > 0 {
			p--
			for p > 0 && utf8IsCont(s, p) {
				p--
			}
			n++
		}
	} else {
		n--
		for n > 0 && p < len(s) {
			p++
			for utf8IsCont(s, p) {
				p++
			}
			n--
		}
	}
	if n != 0 {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LNumber(p + 1))
	return 1
}

// utf8Codes returns the generic-for triple iter, s, 0.
func utf8Codes(L *lua.LState) int {
	s := L.CheckString(1)
	L.Push(L.Get(lua.UpvalueIndex(1)))
	L.Push(lua.LString(s))
	L.Push(lua.LNumber(0))
	return 3
}

func utf8CodesIter(L *lua.LState) int {
	s := L.CheckString(1)
	p := L.CheckInt(2) - 1
	if p < 0 {
		p = 0
	} else if p < len(s) {
		p++
		for utf8IsCont(s, p) {
			p++
		}
	}
	if p >= len(s) {
		return 0
	}
	r, size := utf8Decode(s, p)
	if size == 0 || utf8IsCont(s, p+size) {
		L.RaiseError("invalid UTF-8 code")
	}
	L.Push(lua.LNumber(p + 1))
	L.Push(lua.LNumber(r))
	return 2
}
