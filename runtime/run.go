package runtime

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// RunScript runs the operator script at path for `cellman run` and returns
// the exit status. The script runs in the sandboxed VM (no os, io, debug,
// load*; require limited to luastd, the registered cells.* Go modules, the
// HostLibs group (cells.fs, proc, state, ...) and the ScriptLibs group)
// with:
//
//   - the global table arg: arg[0] is path, arg[1..n] are args; the chunk
//     also receives args as "...";
//   - print writing to stdout: it is the script's output;
//   - exit([code]) ending the script with that status (default 0; true is
//     0, false is 1), which pcall does not catch.
//
// There is no time limit unless CELLMAN_LUA_TIMEOUT is set (operator tools
// may run long); the memory guards stay on. The status is 0 when the script
// ends normally, 1 after an error, which is printed to stderr as "cellman:
// <file>:<line>: <message>", or when path cannot be read ("cellman: cannot
// open <path>: <err>").
func RunScript(path string, args []string, stdout, stderr io.Writer) int {
	src, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		fmt.Fprintf(stderr, "cellman: cannot open %s: %v\n", path, err)
		return 1
	}
	timeout := time.Duration(-1)
	if d, ok, err := TimeoutFromEnv(); err != nil {
		fmt.Fprintf(stderr, "cellman: %v\n", err)
		return 1
	} else if ok {
		timeout = d
	}
	vm := NewVM(VMOptions{Timeout: timeout, Print: stdout, Libs: []string{ScriptLibs, HostLibs}})
	defer vm.Close()
	L := vm.L
	argt := L.CreateTable(len(args), 1)
	argt.RawSetInt(0, lua.LString(path))
	for i, a := range args {
		argt.RawSetInt(i+1, lua.LString(a))
	}
	L.SetGlobal("arg", argt)
	L.SetGlobal("exit", L.NewFunction(func(L *lua.LState) int {
		vm.stop(&scriptExit{code: luaExitCode(L)})
		L.RaiseError("exit")
		return 0
	}))
	fn, err := vm.Load(path, src)
	if err != nil {
		fmt.Fprintf(stderr, "cellman: %v\n", err)
		return 1
	}
	for _, a := range args {
		L.Push(lua.LString(a))
	}
	err = vm.Call(fn, len(args))
	var se *scriptExit
	switch {
	case err == nil:
		return 0
	case errors.As(err, &se):
		return se.code
	}
	fmt.Fprintf(stderr, "cellman: %v\n", err)
	return 1
}

// scriptExit is the cause that exit() stops a run script with.
type scriptExit struct{ code int }

func (e *scriptExit) Error() string { return fmt.Sprintf("exit %d", e.code) }

// luaExitCode reads exit's optional argument: a number (0-255), or a
// boolean (true is 0, false is 1).
func luaExitCode(L *lua.LState) int {
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
		return 0
	case lua.LBool:
		if v {
			return 0
		}
		return 1
	case lua.LNumber:
		if c := int(v); float64(c) == float64(v) && c >= 0 && c <= 255 {
			return c
		}
		L.ArgError(1, "exit status must be an integer from 0 to 255")
	default:
		L.TypeError(1, lua.LTNumber)
	}
	return 1
}
