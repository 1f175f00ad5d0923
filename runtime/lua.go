// Package runtime is libcellman: the Go host of Cells. It runs sandboxed
// gopher-lua VMs with the embedded luastd library and the registered Go
// modules, loads the desired state, and offers the typed API used by cellman
// and cellui (read views, apply, lifecycle, backup).
//
// The Lua host is split over a few files: lua.go (the VM, Compile and
// Call), lua_stdlib.go (the standard libraries, opened once and shared),
// lua_require.go (require, the Go module registry and the compiled luastd
// cache), lua_limits.go (size-capped string builtins, the coroutine nesting
// cap), lua_pattern.go (interruptible Lua patterns over internal/luapm),
// lua_syntax.go (the syntax nesting cap), lua_watchdog.go (the time and
// memory watchdog), lua_utf8.go (a Go utf8 library), libs.go (the
// gopher-lua-libs whitelist) and run.go (`cellman run`).
package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// VMOptions configures a sandboxed VM. The zero value gives the defaults.
type VMOptions struct {
	// Timeout bounds each DoChunk/Call; a runaway loop becomes an error
	// instead of a hung host. Zero means the value of CELLMAN_LUA_TIMEOUT
	// when set, else DefaultTimeout; negative means no time limit. It is
	// checked every 20 ms (lua_watchdog.go).
	Timeout time.Duration
	// CallStackSize caps recursion depth (default DefaultCallStack); deeper
	// calls fail with "stack overflow".
	CallStackSize int
	// Print receives print() output (default os.Stderr).
	Print io.Writer
	// Libs lists extra registered module groups to preload (see RegisterLib).
	Libs []string
	// MaxStringSize caps the result of string.rep, string.format,
	// string.gsub and table.concat in bytes (default DefaultMaxStringSize).
	MaxStringSize int
	// MemoryLimit is how far the Go heap may grow during one DoChunk/Call
	// before the run is cancelled, in bytes, measured from the live heap of
	// the last GC before the run. Zero means DefaultMemoryLimit, negative
	// disables the watchdog. The heap is process-wide, so VMs that run
	// concurrently share the budget.
	MemoryLimit int64
}

// Defaults of the sandbox limits.
const (
	DefaultTimeout       = 5 * time.Second
	DefaultCallStack     = 200
	DefaultMaxStringSize = 64 << 20
	DefaultMemoryLimit   = 512 << 20
)

// TimeoutEnv is the environment variable that overrides the default time
// limit of VMs whose VMOptions.Timeout is zero, as a Go duration ("2s");
// "0" disables the limit.
const TimeoutEnv = "CELLMAN_LUA_TIMEOUT"

// TimeoutFromEnv parses CELLMAN_LUA_TIMEOUT. It returns ok=false when the
// variable is unset or empty, and a negative duration for "0" (no limit).
func TimeoutFromEnv() (d time.Duration, ok bool, err error) {
	s := os.Getenv(TimeoutEnv)
	if s == "" {
		return 0, false, nil
	}
	d, err = time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, false, fmt.Errorf("%s: invalid duration %q", TimeoutEnv, s)
	}
	if d == 0 {
		d = -1
	}
	return d, true, nil
}

// Errors a limited run can end with; test them with errors.Is.
var (
	ErrTimeLimit   = errors.New("time limit exceeded")
	ErrMemoryLimit = errors.New("memory limit exceeded")
)

// VM is one sandboxed Lua state. It is not safe for concurrent use.
type VM struct {
	L      *lua.LState
	opts   VMOptions
	loaded *lua.LTable // the registry's _LOADED: require's cache
	pre    *lua.LTable // per-VM preloads (RegisterLib groups)
	// cancel stops the running top-level call with a cause (nil when no
	// call runs); see stop.
	cancel context.CancelCauseFunc
}

// stop ends the running call: the VM notices at its next instruction and
// the call returns cause. Go functions use it for ends that a Lua pcall
// must not catch, such as exit() in `cellman run`.
func (vm *VM) stop(cause error) {
	if vm.cancel != nil {
		vm.cancel(cause)
	}
}

// NewVM returns a fresh sandboxed state: base, table, string, math and
// coroutine libraries and a Go utf8 table; no os, io, debug, package,
// load*, dofile, collectgarbage; require resolves only embedded luastd
// modules, registered Go modules and the groups named in opts.Libs. Besides
// the limits of VMOptions, a chunk may nest at most 1000 syntax levels and
// chain at most 32 '..' operands (lua_syntax.go), and coroutines nest at
// most 200 deep (lua_limits.go).
func NewVM(opts VMOptions) *VM {
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
		if d, ok, err := TimeoutFromEnv(); ok && err == nil {
			opts.Timeout = d
		}
	}
	if opts.CallStackSize <= 0 {
		opts.CallStackSize = DefaultCallStack
	}
	if opts.Print == nil {
		opts.Print = os.Stderr
	}
	if opts.MaxStringSize <= 0 {
		opts.MaxStringSize = DefaultMaxStringSize
	}
	if opts.MemoryLimit == 0 {
		opts.MemoryLimit = DefaultMemoryLimit
	}
	L := lua.NewState(lua.Options{
		SkipOpenLibs:     true,
		CallStackSize:    opts.CallStackSize,
		RegistrySize:     256,
		RegistryMaxSize:  1 << 18,
		RegistryGrowStep: 2048,
		// A growing call stack: the fixed one is 17 KiB per VM. Its
		// overflow is a bare "lua callstack overflow" panic (gopher-lua
		// never reports it full), which luaError positions.
		MinimizeStackMemory: true,
	})
	// package is deliberately not opened: require is our own Go function
	// (lua_require.go), so nothing reachable from Lua names a search path,
	// the loaders or the loaded table. _LOADED holds _G and the library
	// tables; "package" never exists.
	vm := &VM{L: L, opts: opts}
	vm.openStdlib()
	g := L.G.Global
	vm.installLimits()
	g.RawSetString("print", L.NewFunction(vm.luaPrint))
	g.RawSetString("require", L.NewFunction(vm.require))
	vm.preloadLibs()
	return vm
}

// Options returns the effective options (defaults filled in).
func (vm *VM) Options() VMOptions { return vm.opts }

// Close releases the state.
func (vm *VM) Close() {
	vm.L.Close()
}

// SetGlobal sets a global variable of the VM.
func (vm *VM) SetGlobal(name string, v lua.LValue) { vm.L.SetGlobal(name, v) }

// luaPrint is print() writing to VMOptions.Print: the built-in one writes to
// the host's os.Stdout.
func (vm *VM) luaPrint(L *lua.LState) int {
	n := L.GetTop()
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte('\t')
		}
		b.WriteString(L.ToStringMeta(L.Get(i)).String())
	}
	b.WriteByte('\n')
	io.WriteString(vm.opts.Print, b.String())
	return 0
}

// Compile parses and compiles src under the chunk name, for running in any
// VM with NewFunctionFromProto (protos are immutable and shareable). A
// syntax error reads "<chunk>:<line>: <message> near '<token>'".
func Compile(name string, src []byte) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		var perr *lua.ApiError
		if pe, ok := err.(*parse.Error); ok {
			tok := ""
			if pe.Token != "" {
				tok = fmt.Sprintf(" near '%s'", pe.Token)
			}
			line := pe.Pos.Line
			if line == parse.EOF {
				// The parser ran out of input; its token is the last
				// one read, so name the end of the file instead.
				line, tok = lastLine(src), " near EOF"
			}
			return nil, fmt.Errorf("%s:%d: %s%s", name, line, pe.Message, tok)
		}
		if errors.As(err, &perr) {
			return nil, errors.New(luaErrorText(perr))
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := checkSyntaxDepth(name, chunk); err != nil {
		return nil, err
	}
	proto, err := lua.Compile(chunk, name)
	var cerr *lua.CompileError
	if errors.As(err, &cerr) {
		line := cerr.Line
		if line <= 0 {
			line = 1
		}
		return nil, fmt.Errorf("%s:%d: %s", name, line, cerr.Message)
	}
	if err != nil {
		return nil, err
	}
	noTailCalls(proto)
	return proto, nil
}

// noTailCalls turns the tail calls of proto and its nested functions into
// ordinary calls. gopher-lua counts the tail calls of a frame and writes
// one traceback line for each, in one uninterruptible Go call, whenever an
// error crosses a protected call: an endless "return f()" stopped by the
// time limit built a traceback of half a gigabyte per second it had run.
// As ordinary calls they are bounded by the call stack and end in "stack
// overflow" at once; the compiler already follows each tail call with
// "RETURN A 0", so the results are unchanged. The price: recursion through
// tail calls is as deep as any other (VMOptions.CallStackSize).
func noTailCalls(proto *lua.FunctionProto) {
	for i, inst := range proto.Code {
		if int(inst>>26) == lua.OP_TAILCALL {
			proto.Code[i] = inst&0x3ffffff | uint32(lua.OP_CALL)<<26
		}
	}
	for _, p := range proto.FunctionPrototypes {
		noTailCalls(p)
	}
}

// lastLine is the number of the last line of src (1 for an empty one).
func lastLine(src []byte) int {
	n := bytes.Count(src, []byte("\n")) + 1
	if n > 1 && src[len(src)-1] == '\n' {
		n--
	}
	return n
}

// Load compiles src under the chunk name and returns it as a function of
// this VM, without running it.
func (vm *VM) Load(name string, src []byte) (*lua.LFunction, error) {
	proto, err := Compile(name, src)
	if err != nil {
		return nil, err
	}
	return vm.L.NewFunctionFromProto(proto), nil
}

// DoChunk compiles src under the chunk name and runs it within the limits.
// The error reads "<chunk>:<line>: <message>".
func (vm *VM) DoChunk(name string, src []byte) error {
	fn, err := vm.Load(name, src)
	if err != nil {
		return err
	}
	return vm.Call(fn, 0)
}

// DoFile runs the Lua file at path (the chunk name is path as given).
func (vm *VM) DoFile(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return vm.DoChunk(path, src)
}

// Call runs fn with the stack arguments already pushed (nargs of them)
// within the VM's limits, discarding results. A run stopped by a limit
// returns an error wrapping ErrTimeLimit or ErrMemoryLimit whose text reads
// "<chunk>:<line>: time limit of 5s exceeded" or "<chunk>:<line>: memory
// limit of 512 MiB exceeded". A Call made while another one of the same VM
// is running (from a Go function) runs under the outer call's limits.
func (vm *VM) Call(fn *lua.LFunction, nargs int) error {
	_, err := vm.call(fn, nargs, 0)
	return err
}

// CallValues calls fn with args within the VM's limits and returns its
// results.
func (vm *VM) CallValues(fn *lua.LFunction, args ...lua.LValue) ([]lua.LValue, error) {
	for _, a := range args {
		vm.L.Push(a)
	}
	return vm.call(fn, len(args), lua.MultRet)
}

func (vm *VM) call(fn *lua.LFunction, nargs, nret int) ([]lua.LValue, error) {
	L := vm.L
	args := make([]lua.LValue, nargs)
	for i := nargs; i > 0; i-- {
		args[nargs-i] = L.Get(-i)
	}
	L.Pop(nargs)
	base := L.GetTop()
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	if L.Context() != nil { // nested: the outer call owns the limits
		return luaResults(L, base, L.PCall(nargs, nret, nil))
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var deadline time.Time
	if vm.opts.Timeout > 0 {
		deadline = time.Now().Add(vm.opts.Timeout)
	}
	var memLimit uint64
	if vm.opts.MemoryLimit > 0 {
		memLimit = uint64(vm.opts.MemoryLimit)
	}
	if !deadline.IsZero() || memLimit > 0 {
		defer watchLimits(deadline, memLimit, cancel)()
	}
	vm.cancel = cancel
	defer func() { vm.cancel = nil }()
	L.SetContext(ctx)
	defer L.RemoveContext()
	vals, err := luaResults(L, base, L.PCall(nargs, nret, nil))
	if err == nil {
		return vals, nil
	}
	where := luaWhere(err)
	if le, ok := err.(*LuaError); ok && where == "" {
		where = strings.TrimSuffix(luaTraceWhere(le.Traceback), ": ")
	}
	switch cause := context.Cause(ctx); {
	case cause == nil:
	case errors.Is(cause, ErrTimeLimit):
		return nil, &limitError{where: where, msg: fmt.Sprintf("time limit of %s exceeded", vm.opts.Timeout), kind: ErrTimeLimit}
	case errors.Is(cause, ErrMemoryLimit):
		return nil, &limitError{where: where, msg: fmt.Sprintf("memory limit of %d MiB exceeded", vm.opts.MemoryLimit>>20), kind: ErrMemoryLimit}
	default: // stopped by a Go function (vm.stop)
		return nil, cause
	}
	return nil, err
}

// luaResults collects the values above base after a PCall and converts its
// error to the host's form.
func luaResults(L *lua.LState, base int, err error) ([]lua.LValue, error) {
	if err != nil {
		L.SetTop(base)
		return nil, luaError(err)
	}
	n := L.GetTop() - base
	if n <= 0 {
		return nil, nil
	}
	vals := make([]lua.LValue, n)
	for i := range vals {
		vals[i] = L.Get(base + 1 + i)
	}
	L.SetTop(base)
	return vals, nil
}

// LuaError is an error raised by Lua code: Msg is the message as raised
// ("site.lua:3: boom" for error("boom")), Traceback the Lua stack.
type LuaError struct {
	Msg       string
	Value     lua.LValue
	Traceback string
}

func (e *LuaError) Error() string { return e.Msg }

func luaError(err error) error {
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		msg := luaErrorText(ae)
		if msg == luaCallStackOverflow {
			msg = luaTraceWhere(ae.StackTrace) + "stack overflow"
		}
		return &LuaError{Msg: msg, Value: ae.Object, Traceback: ae.StackTrace}
	}
	return err
}

// luaCallStackOverflow is the panic of gopher-lua's growing call stack.
const luaCallStackOverflow = "lua callstack overflow"

// luaTraceWhere returns "<chunk>:<line>: " of the innermost Lua frame of a
// traceback, or "".
func luaTraceWhere(tb string) string {
	for _, line := range strings.Split(tb, "\n") {
		line = strings.TrimSpace(line)
		if i := strings.Index(line, ": in "); i > 0 && !strings.HasPrefix(line, "[G]") {
			return line[:i+2]
		}
	}
	return ""
}

// luaErrorText is the message of a Lua error without the traceback that
// gopher-lua appends.
func luaErrorText(ae *lua.ApiError) string {
	msg := ae.Error()
	if ae.Object != nil {
		msg = ae.Object.String()
	}
	if i := strings.Index(msg, "\nstack traceback:"); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}

// limitError is a run stopped by the time or memory limit.
type limitError struct {
	where, msg string
	kind       error
}

func (e *limitError) Error() string {
	if e.where == "" {
		return e.msg
	}
	return e.where + ": " + e.msg
}

func (e *limitError) Unwrap() error { return e.kind }

// luaWhere extracts "chunk:line" from a context-cancel error, which gopher-lua
// raises as "<chunk>:<line>: context deadline exceeded".
func luaWhere(err error) string {
	msg := err.Error()
	for _, suffix := range []string{": context deadline exceeded", ": context canceled"} {
		if i := strings.Index(msg, suffix); i >= 0 {
			return msg[:i]
		}
	}
	return ""
}
