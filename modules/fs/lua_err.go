package fs

import (
	"errors"
	"os"
	"syscall"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// errMeta names the metatable of the error tables (DESIGN: Lua receives
// nil, err with err.op, err.path, err.errno).
const errMeta = "cells.error"

// PushError pushes the Lua convention for an expected failure, nil and an
// error table { op, path, errno, cause, msg } whose tostring is msg:
// op and path come from an *os.PathError, errno is the symbolic name
// ("ENOENT") of the syscall error inside err, cause is the innermost
// error's text ("no such file or directory"). It returns 2.
func PushError(L *lua.LState, op, p string, err error) int {
	t := L.NewTable()
	var pe *os.PathError
	if errors.As(err, &pe) {
		op, p = pe.Op, pe.Path
	}
	if op != "" {
		t.RawSetString("op", lua.LString(op))
	}
	if p != "" {
		t.RawSetString("path", lua.LString(p))
	}
	cause := err
	for {
		u := errors.Unwrap(cause)
		if u == nil {
			break
		}
		cause = u
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		t.RawSetString("errno", lua.LString(unix.ErrnoName(errno)))
	}
	t.RawSetString("cause", lua.LString(cause.Error()))
	t.RawSetString("msg", lua.LString(err.Error()))
	L.SetMetatable(t, errorMeta(L))
	L.Push(lua.LNil)
	L.Push(t)
	return 2
}

func errorMeta(L *lua.LState) *lua.LTable {
	mt := L.NewTypeMetatable(errMeta)
	if mt.RawGetString("__tostring") == lua.LNil {
		mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
			t := L.CheckTable(1)
			L.Push(t.RawGetString("msg"))
			return 1
		}))
	}
	return mt
}
