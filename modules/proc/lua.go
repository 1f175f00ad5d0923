package proc

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"cells/modules/fs"
)

// Name is the module name under which runtime registers Loader.
const Name = "cells.proc"

// Loader opens require("cells.proc"):
//
//	local proc = require("cells.proc")
//	proc.exec_in_cell(cell, {            -- cell: kernel id (number) or name
//	  argv = { "/bin/sh", "-c", "..." }, -- required
//	  env = { K = "v" },                 -- default: the driver's minimal environment
//	  cwd = "/srv",                      -- in-cell working directory (default "/")
//	  stdin = "text",                    -- fed to the command, then EOF
//	  timeout = 30,                      -- seconds, 0 or nil: none
//	  forward = true,                    -- copy stdout/stderr to cellman's
//	  capture_stdout = true,             -- keep stdout in the result
//	}) -> { code =, signal =, timed_out =, stderr =, stdout = } | nil, err
//	proc.getenv(name)   -> value | nil   (cellman's own environment)
//	proc.self()         -> { uid =, gid =, groups = "g1,g2" } (cellman's identity)
//
// A command that ran and failed is a result, not an error; err is for a
// command that could not be started (no such cell, no such program).
func Loader(L *lua.LState) int {
	mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"exec_in_cell": execInCell,
		"getenv": func(L *lua.LState) int {
			v, ok := os.LookupEnv(L.CheckString(1))
			if !ok {
				L.Push(lua.LNil)
			} else {
				L.Push(lua.LString(v))
			}
			return 1
		},
		"self": func(L *lua.LState) int {
			t := L.CreateTable(0, 3)
			t.RawSetString("uid", lua.LNumber(os.Getuid()))
			t.RawSetString("gid", lua.LNumber(os.Getgid()))
			t.RawSetString("groups", lua.LString(ownGroups()))
			L.Push(t)
			return 1
		},
	})
	L.Push(mod)
	return 1
}

// ownGroups is getgroups(2) as a comma list (upstream's run_groups
// default).
func ownGroups() string {
	gs, _ := os.Getgroups()
	sort.Ints(gs)
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = strconv.Itoa(g)
	}
	return strings.Join(s, ",")
}

func execInCell(L *lua.LState) int {
	var cell string
	var id uint32
	switch v := L.Get(1).(type) {
	case lua.LNumber:
		id = uint32(v)
		cell = fmt.Sprint(id)
	case lua.LString:
		cell = string(v)
	default:
		L.ArgError(1, "cell id or name expected")
	}
	o := L.CheckTable(2)
	var s Spec
	argv, ok := o.RawGetString("argv").(*lua.LTable)
	if !ok || argv.Len() == 0 {
		L.ArgError(2, "argv must be a non-empty array of strings")
	}
	for i := 1; i <= argv.Len(); i++ {
		a, ok := argv.RawGetInt(i).(lua.LString)
		if !ok {
			L.ArgError(2, "argv must be a non-empty array of strings")
		}
		s.Argv = append(s.Argv, string(a))
	}
	if env, ok := o.RawGetString("env").(*lua.LTable); ok {
		s.Env = map[string]string{}
		env.ForEach(func(k, v lua.LValue) {
			ks, kok := k.(lua.LString)
			vs, vok := v.(lua.LString)
			if !kok || !vok {
				L.ArgError(2, "env keys and values must be strings")
			}
			s.Env[string(ks)] = string(vs)
		})
	}
	if v, ok := o.RawGetString("cwd").(lua.LString); ok {
		s.Dir = string(v)
	}
	if v, ok := o.RawGetString("stdin").(lua.LString); ok {
		s.Stdin = string(v)
	}
	if v, ok := o.RawGetString("timeout").(lua.LNumber); ok && v > 0 {
		s.Timeout = time.Duration(float64(v) * float64(time.Second))
	}
	s.Forward = lua.LVAsBool(o.RawGetString("forward"))
	s.CaptureStdout = lua.LVAsBool(o.RawGetString("capture_stdout"))
	res, err := Run(L.Context(), cell, id, s)
	if err != nil {
		return fs.PushError(L, "exec", cell, err)
	}
	t := L.CreateTable(0, 5)
	t.RawSetString("code", lua.LNumber(res.Code))
	t.RawSetString("signal", lua.LNumber(res.Signal))
	t.RawSetString("timed_out", lua.LBool(res.TimedOut))
	t.RawSetString("raw", lua.LNumber(res.Raw()))
	t.RawSetString("stderr", lua.LString(res.Stderr))
	if s.CaptureStdout {
		t.RawSetString("stdout", lua.LString(res.Stdout))
	}
	L.Push(t)
	return 1
}
