package fs

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"cells/runtime/paths"
)

// Name is the module name under which runtime registers Loader.
const Name = "cells.fs"

const rootMeta = "cells.fs.Root"

// Loader opens require("cells.fs"). Every path given to a root's methods is
// an in-cell absolute path ("/etc/motd"), resolved inside the root and never
// through a link out of it; the root directory is opened afresh by every
// call (no descriptor outlives a call, there is no __gc in gopher-lua).
// Expected failures return nil, err (see PushError).
//
//	local fs = require("cells.fs")
//	local root = fs.root("/var/cellman/cells/web/root") -- only under the cells directory
//	root:path()                          -> host path of the root
//	root:mkdir_p(p [, mode])             -> true            (mode default 0755, umask applies)
//	root:write_file(p, content [, mode]) -> changed         (atomic; new files mode, default 0644)
//	root:read_file(p)                    -> content         (regular files up to 64 MiB)
//	root:append_line(p, text)            -> changed         (no change when a trimmed line equals text)
//	root:symlink(target, linkpath)       -> changed         (replaces the entry at linkpath)
//	root:copy_from_host(src, dst)        -> changed         (src: host path; new files 0644)
//	root:untar(src, dst [, strip])       -> entries         (src: host archive)
//	root:chmod(p, mode)                  -> true            (follows a final link, inside)
//	root:chown(p, uid, gid)              -> true            (lchown; nil or -1 keeps)
//	root:stat(p) / root:lstat(p)         -> { type, mode, uid, gid, size, target }
//	root:remove(p)                       -> removed         (file, link or empty dir)
//	fs.host_read(path [, max])           -> content         (host file, regular)
//	fs.host_check(path)                  -> true            (host file readable and regular)
//
// Modes are numbers or octal strings ("0644").
func Loader(L *lua.LState) int {
	mt := L.NewTypeMetatable(rootMeta)
	mt.RawSetString("__index", L.SetFuncs(L.NewTable(), rootMethods))
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("cells.fs root " + checkRoot(L)))
		return 1
	}))
	mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"root": func(L *lua.LState) int {
			dir := filepath.Clean(L.CheckString(1))
			// Only cell roots: every VM can require this module, and a
			// handle on "/" would be the whole host.
			if cells := paths.FromEnv().CellsDir; !strings.HasPrefix(dir, cells+"/") {
				L.ArgError(1, "cells.fs: root must be under "+cells+": "+dir)
			}
			ud := L.NewUserData()
			ud.Value = dir
			L.SetMetatable(ud, mt)
			L.Push(ud)
			return 1
		},
		"host_read": func(L *lua.LState) int {
			max := int64(L.OptNumber(2, lua.LNumber(MaxTextFile)))
			b, err := ReadHost(L.CheckString(1), max)
			if err != nil {
				return PushError(L, "read", L.CheckString(1), err)
			}
			L.Push(lua.LString(b))
			return 1
		},
		"host_check": func(L *lua.LState) int {
			f, err := OpenHost(L.CheckString(1))
			if err != nil {
				return PushError(L, "open", L.CheckString(1), err)
			}
			f.Close()
			L.Push(lua.LTrue)
			return 1
		},
	})
	L.Push(mod)
	return 1
}

func checkRoot(L *lua.LState) string {
	ud := L.CheckUserData(1)
	s, ok := ud.Value.(string)
	if !ok {
		L.ArgError(1, "cells.fs root expected")
	}
	return s
}

// withRoot opens the root, checks that argument i is an absolute in-cell
// path, and runs f; f's error becomes nil, err.
func withRoot(L *lua.LState, op string, i int, f func(r *Root, p string) (lua.LValue, error)) int {
	dir := checkRoot(L)
	p := L.CheckString(i)
	if !strings.HasPrefix(p, "/") {
		return PushError(L, op, p, &os.PathError{Op: op, Path: p, Err: errRelative})
	}
	r, err := OpenRoot(dir)
	if err != nil {
		return PushError(L, op, p, err)
	}
	defer r.Close()
	v, err := f(r, p)
	if err != nil {
		return PushError(L, op, p, err)
	}
	L.Push(v)
	return 1
}

type relativeError struct{}

func (relativeError) Error() string { return "path must be absolute" }

var errRelative error = relativeError{}

// checkMode reads a mode argument: a number or an octal string.
func checkMode(L *lua.LState, i int, def uint32) uint32 {
	switch v := L.Get(i).(type) {
	case lua.LNumber:
		return uint32(v) & 0o7777
	case lua.LString:
		m, err := strconv.ParseUint(string(v), 8, 32)
		if err != nil || m > 0o7777 {
			L.ArgError(i, "invalid mode: "+string(v))
		}
		return uint32(m)
	case *lua.LNilType:
		return def
	}
	L.ArgError(i, "mode must be a number or an octal string")
	return 0
}

func optID(L *lua.LState, i int) int {
	if L.Get(i) == lua.LNil {
		return -1
	}
	return L.CheckInt(i)
}

func changed(b bool, err error) (lua.LValue, error) { return lua.LBool(b), err }

var rootMethods = map[string]lua.LGFunction{
	"path": func(L *lua.LState) int {
		L.Push(lua.LString(checkRoot(L)))
		return 1
	},
	"mkdir_p": func(L *lua.LState) int {
		mode := checkMode(L, 3, 0o755)
		return withRoot(L, "mkdir", 2, func(r *Root, p string) (lua.LValue, error) {
			f, err := r.MkdirAll(p, os.FileMode(mode))
			if err != nil {
				return nil, pathErr("mkdir", p, err)
			}
			f.Close()
			return lua.LTrue, nil
		})
	},
	"write_file": func(L *lua.LState) int {
		content := L.CheckString(3)
		mode := checkMode(L, 4, 0o644)
		return withRoot(L, "write", 2, func(r *Root, p string) (lua.LValue, error) {
			return changed(r.WriteFile(p, []byte(content), mode))
		})
	},
	"read_file": func(L *lua.LState) int {
		return withRoot(L, "read", 2, func(r *Root, p string) (lua.LValue, error) {
			b, err := r.ReadFile(p, MaxTextFile)
			if err != nil {
				return nil, pathErr("read", p, err)
			}
			return lua.LString(b), nil
		})
	},
	"append_line": func(L *lua.LState) int {
		text := L.CheckString(3)
		return withRoot(L, "line", 2, func(r *Root, p string) (lua.LValue, error) {
			return changed(r.AppendLine(p, text))
		})
	},
	"symlink": func(L *lua.LState) int {
		target := L.CheckString(2)
		return withRoot(L, "symlink", 3, func(r *Root, p string) (lua.LValue, error) {
			return changed(r.Symlink(target, p))
		})
	},
	"copy_from_host": func(L *lua.LState) int {
		src := L.CheckString(2)
		return withRoot(L, "copy", 3, func(r *Root, p string) (lua.LValue, error) {
			return changed(r.CopyFromHost(src, p))
		})
	},
	"untar": func(L *lua.LState) int {
		src := L.CheckString(2)
		strip := L.OptInt(4, 0)
		if strip < 0 {
			L.ArgError(4, "strip must be non-negative")
		}
		return withRoot(L, "untar", 3, func(r *Root, p string) (lua.LValue, error) {
			n, err := r.Untar(src, p, strip)
			return lua.LNumber(n), err
		})
	},
	"chmod": func(L *lua.LState) int {
		mode := checkMode(L, 3, 0)
		if L.Get(3) == lua.LNil {
			L.ArgError(3, "mode expected")
		}
		return withRoot(L, "chmod", 2, func(r *Root, p string) (lua.LValue, error) {
			return lua.LTrue, r.Chmod(p, mode)
		})
	},
	"chown": func(L *lua.LState) int {
		uid, gid := optID(L, 3), optID(L, 4)
		return withRoot(L, "chown", 2, func(r *Root, p string) (lua.LValue, error) {
			return lua.LTrue, r.Chown(p, uid, gid)
		})
	},
	"stat": func(L *lua.LState) int {
		return withRoot(L, "stat", 2, func(r *Root, p string) (lua.LValue, error) {
			in, err := r.Stat(p)
			return infoTable(L, in), err
		})
	},
	"lstat": func(L *lua.LState) int {
		return withRoot(L, "lstat", 2, func(r *Root, p string) (lua.LValue, error) {
			in, err := r.Lstat(p)
			return infoTable(L, in), err
		})
	},
	"remove": func(L *lua.LState) int {
		return withRoot(L, "remove", 2, func(r *Root, p string) (lua.LValue, error) {
			return changed(r.Remove(p))
		})
	},
}

func infoTable(L *lua.LState, in Info) *lua.LTable {
	t := L.CreateTable(0, 6)
	t.RawSetString("type", lua.LString(in.Type))
	t.RawSetString("mode", lua.LNumber(in.Mode))
	t.RawSetString("uid", lua.LNumber(in.UID))
	t.RawSetString("gid", lua.LNumber(in.GID))
	t.RawSetString("size", lua.LNumber(in.Size))
	if in.Target != "" {
		t.RawSetString("target", lua.LString(in.Target))
	}
	return t
}
