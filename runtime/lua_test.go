package runtime

import (
	"bytes"
	"errors"
	"io"
	"os"
	"regexp"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// runChunk runs src as chunk name in a fresh VM and returns what print
// wrote and the error.
func runChunk(t *testing.T, opts VMOptions, name, src string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	opts.Print = &out
	vm := NewVM(opts)
	t.Cleanup(vm.Close)
	err := vm.DoChunk(name, []byte(src))
	return out.String(), err
}

// TestSandboxGlobals checks what a DSL file can and cannot reach.
func TestSandboxGlobals(t *testing.T) {
	for _, tc := range []struct{ name, src, out string }{
		{"no os", `print(os)`, "nil\n"},
		{"no io", `print(io)`, "nil\n"},
		{"no debug", `print(debug)`, "nil\n"},
		{"no package", `print(package)`, "nil\n"},
		{"no load", `print(load, loadstring, loadfile, dofile)`, "nil\tnil\tnil\tnil\n"},
		{"no collectgarbage", `print(collectgarbage)`, "nil\n"},
		{"no module/fenv", `print(module, setfenv, getfenv, newproxy)`, "nil\tnil\tnil\tnil\n"},
		{"no channel", `print(channel)`, "nil\n"},
		{"_G has none", `local n = 0 for _, k in ipairs({"os","io","debug","package","load","loadfile","dofile","collectgarbage"}) do if _G[k] ~= nil then n = n + 1 end end print(n)`, "0\n"},
		{"string", `print(("abc"):upper(), string.format("%05.1f|%q", 3.14159, "a\"b"), ("a,b"):find(",", 1, true))
print(("x=1"):match("(%w)=(%d)"))`, "ABC\t003.1|\"a\\\"b\"\t2\t2\nx\t1\n"},
		{"string.rep small", `print(("ab"):rep(3), string.rep("x", 0), string.rep("", 1e9))`, "ababab\t\t\n"},
		{"gsub", `print(("hello world"):gsub("o", "0"))
print(("abc"):gsub("%w", "%0%0"))
print(("abc"):gsub("", "-"))
print(("a b c"):gsub("%w", {a = 1, b = true and "B"}))
print(("x y"):gsub("(%w)", function(c) return c:upper() end, 1))
print(("abc"):gsub("^a", "A"))
print(("a.b"):gsub("%.", "%%"))`, "hell0 w0rld\t2\naabbcc\t3\n-a-b-c-\t4\n1 B c\t3\nX y\t1\nAbc\t1\na%b\t1\n"},
		{"gmatch", `local t = {} for k, v in ("a=1, b=2"):gmatch("(%w+)=(%w+)") do t[#t+1] = k .. v end print(table.concat(t, ";"))`, "a1;b2\n"},
		{"table", `local t = {3, 1, 2} table.sort(t) table.insert(t, 4) print(table.concat(t, ","), #t, table.remove(t))`, "1,2,3,4\t4\t4\n"},
		{"math", `print(math.floor(3.7), math.max(1, 5, 2), math.huge > 1e308, math.abs(-2))`, "3\t5\ttrue\t2\n"},
		{"coroutine", `local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end) print(co(1), co(5))`, "2\t10\n"},
		{"utf8", `print(utf8.char(72, 233, 8364), utf8.len("héllo"), utf8.codepoint("é"), utf8.offset("aé b", 3))
for p, c in utf8.codes("aé") do io_ = (io_ or "") .. p .. ":" .. c .. " " end print(io_)
print(#utf8.charpattern > 0, utf8.len("\255"))`, "Hé€\t5\t233\t4\n1:97 2:233 \ntrue\tnil\t1\n"},
		{"require utf8", `print(require("utf8") == utf8, require("string") == string)`, "true\ttrue\n"},
		{"pcall error", `print(pcall(error, "x", 0))`, "false\tx\n"},
		{"string metatable hidden", `print(getmetatable(""))`, "false\n"},
		{"string lib edits do not reach methods", `string.upper = nil print(("a"):upper())`, "A\n"},
		{"tostring/tonumber", `print(tostring(12), tonumber("0x10"), type(print), select("#", 1, 2))`, "12\t16\tfunction\t2\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runChunk(t, VMOptions{}, "t.lua", tc.src)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if out != tc.out {
				t.Errorf("output\n got: %q\nwant: %q", out, tc.out)
			}
		})
	}
}

// TestSandboxRequire checks that require reaches only the embedded luastd,
// the registered Go modules and the opted-in libraries.
func TestSandboxRequire(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, src, err string }{
		{"os", `require("os")`, `^r.lua:1: module 'os' not found$`},
		{"io", `require("io")`, `^r.lua:1: module 'io' not found$`},
		{"debug", `require("debug")`, `^r.lua:1: module 'debug' not found$`},
		{"package", `require("package")`, `^r.lua:1: module 'package' not found$`},
		{"path", `require("` + dir + `/x")`, `^r.lua:1: module '.*/x' not found$`},
		{"relative path", `require("./x")`, `^r.lua:1: module './x' not found$`},
		{"dotted fs name", `require("runtime.lua_test")`, `^r.lua:1: module 'runtime.lua_test' not found$`},
		{"not a string", `require({})`, `^r.lua:1: bad argument #1 to require \(string expected, got table\)$`},
		{"lib not opted in", `require("json")`, `^r.lua:1: module 'json' not found$`},
		{"unknown cells module", `require("cells.nope")`, `^r.lua:1: module 'cells.nope' not found$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runChunk(t, VMOptions{}, "r.lua", tc.src)
			if err == nil || !regexp.MustCompile(tc.err).MatchString(err.Error()) {
				t.Fatalf("err = %v, want match %s", err, tc.err)
			}
		})
	}
	t.Run("luastd", func(t *testing.T) {
		out, err := runChunk(t, VMOptions{}, "r.lua", `local dsl = require("cells.dsl") print(type(dsl.install), require("cells.dsl") == dsl)`)
		if err != nil || out != "function\ttrue\n" {
			t.Fatalf("out %q err %v", out, err)
		}
	})
	t.Run("registered Go module", func(t *testing.T) {
		Register(Module{Name: "cells.test_echo", Loader: func(L *lua.LState) int {
			L.Push(L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{"echo": func(L *lua.LState) int {
				L.Push(L.Get(1))
				return 1
			}}))
			return 1
		}})
		out, err := runChunk(t, VMOptions{}, "r.lua", `print(require("cells.test_echo").echo("hi"))`)
		if err != nil || out != "hi\n" {
			t.Fatalf("out %q err %v", out, err)
		}
	})
	t.Run("loader error", func(t *testing.T) {
		Register(Module{Name: "cells.test_broken", Loader: func(L *lua.LState) int {
			L.RaiseError("broken on purpose")
			return 0
		}})
		_, err := runChunk(t, VMOptions{}, "r.lua", "\nrequire('cells.test_broken')")
		if err == nil || !strings.Contains(err.Error(), "broken on purpose") {
			t.Fatalf("err = %v", err)
		}
		// The failed module is not cached as loaded.
		_, err = runChunk(t, VMOptions{}, "r.lua", "pcall(require, 'cells.test_broken') require('cells.test_broken')")
		if err == nil || !strings.Contains(err.Error(), "broken on purpose") {
			t.Fatalf("second require: err = %v", err)
		}
	})
	t.Run("preload injection impossible", func(t *testing.T) {
		// There is no package table to write a preload into.
		_, err := runChunk(t, VMOptions{}, "r.lua", `package = {preload = {evil = function() return 1 end}} return require("evil")`)
		if err == nil || !strings.Contains(err.Error(), "module 'evil' not found") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestFreshStatePerVM checks that nothing one VM does leaks into the next:
// globals, library tables, the string metatable and luastd module tables.
func TestFreshStatePerVM(t *testing.T) {
	_, err := runChunk(t, VMOptions{}, "a.lua", `
LEAK = 1
string.leak = 2
math.pi = 3
require("cells.dsl").leak = 4
require("cells.site").state().documents[1] = "x"
`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runChunk(t, VMOptions{}, "b.lua", `print(LEAK, string.leak, ("").leak, math.pi == 3, require("cells.dsl").leak, #require("cells.site").state().documents)`)
	if err != nil {
		t.Fatal(err)
	}
	if out != "nil\tnil\tnil\tfalse\tnil\t0\n" {
		t.Fatalf("second VM sees %q", out)
	}
}

// TestConcurrentVMs runs VMs in parallel: they share the template's
// library functions and the string metatable, which must stay read-only
// (run with -race).
func TestConcurrentVMs(t *testing.T) {
	const src = `
local n = 0
for k, v in pairs(string) do n = n + 1 end
for k, v in pairs(math) do n = n + 1 end
string.upper = nil
math.floor = function() return 0 end
local s = ("a,b,c"):gsub(",", ";"):rep(2) .. ("x"):format() .. utf8.char(233)
for w in s:gmatch("[^;]+") do n = n + #w end
local co = coroutine.wrap(function() coroutine.yield(1) end) co()
require("cells.dsl")
return n
`
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			var err error
			for i := 0; i < 10 && err == nil; i++ {
				vm := NewVM(VMOptions{Print: &bytes.Buffer{}, MaxStringSize: []int{0, 1 << 20}[i%2]})
				err = vm.DoChunk("c.lua", []byte(src))
				vm.Close()
			}
			errs <- err
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestPrintDefaultStderr checks that print goes to the host's stderr when
// VMOptions.Print is unset, never to its stdout (cellman's output).
func TestPrintDefaultStderr(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stderr := os.Stderr
	os.Stderr = w
	vm := NewVM(VMOptions{})
	os.Stderr = stderr
	defer vm.Close()
	err = vm.DoChunk("p.lua", []byte(`print("to", "stderr")`))
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	if string(got) != "to\tstderr\n" {
		t.Fatalf("stderr got %q", got)
	}
}

func TestPrintWriter(t *testing.T) {
	out, err := runChunk(t, VMOptions{}, "p.lua", `print("a", 1, nil, true, setmetatable({}, {__tostring = function() return "T" end}))`)
	if err != nil {
		t.Fatal(err)
	}
	if out != "a\t1\tnil\ttrue\tT\n" {
		t.Fatalf("print wrote %q", out)
	}
}

// TestLuaErrorPositions checks that errors name the chunk and line.
func TestLuaErrorPositions(t *testing.T) {
	for _, tc := range []struct{ name, chunk, src, want string }{
		{"error", "site.lua", "\n\nerror('boom')", "site.lua:3: boom"},
		{"error level 0", "site.lua", "error('plain', 0)", "plain"},
		{"error table", "site.lua", "error({code = 1})", "table: "},
		{"runtime", "dir/site.lua", "local x\nreturn x.y", "dir/site.lua:2: attempt to index a non-table object(nil) with key 'y'"},
		{"syntax", "site.lua", "x = = 1", "site.lua:1: syntax error near '='"},
		{"syntax eof", "site.lua", "if true then", "site.lua:1: syntax error near EOF"},
		{"call nil", "site.lua", "\nnope()", "site.lua:2: attempt to call a non-function object"},
		{"arg error", "site.lua", "string.rep()", "site.lua:1: bad argument #1 to rep (string expected, got "},
		{"luastd", "site.lua", `require("cells.dsl").install(_G) cell(1)`, "site.lua:1: "},
		{"too many locals", "site.lua", "local t = " + strings.Repeat("{", 300) + strings.Repeat("}", 300), "site.lua:1: register overflow"},
		{"nested tables", "site.lua", "\nlocal t = " + strings.Repeat("{", 1e6) + strings.Repeat("}", 1e6), "site.lua:2: chunk has too many syntax levels (more than 1000)"},
		{"nested blocks", "site.lua", strings.Repeat("do ", 1e5) + strings.Repeat("end ", 1e5), "site.lua:1: chunk has too many syntax levels"},
		{"long concat", "site.lua", "return 1" + strings.Repeat(" .. 1", 1e5), "site.lua:1: too many operands of '..' (100001, max 32): use table.concat"},
		{"concat 33", "site.lua", "\nreturn 1" + strings.Repeat(" .. 1", 32), "site.lua:2: too many operands of '..' (33, max 32)"},
		{"nested functions", "site.lua", "f = " + strings.Repeat("function() return ", 2000) + "1" + strings.Repeat(" end", 2000), "site.lua:1: chunk has too many syntax levels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runChunk(t, VMOptions{}, tc.chunk, tc.src)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want prefix %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "stack traceback") {
				t.Errorf("message carries a traceback: %q", err)
			}
			var le *LuaError
			if strings.HasPrefix(tc.name, "syntax") || strings.HasPrefix(tc.name, "nested") || strings.HasPrefix(tc.name, "long concat") || strings.HasPrefix(tc.name, "concat") || tc.name == "too many locals" {
				return // compile errors are plain errors
			}
			if !errors.As(err, &le) {
				t.Errorf("err is %T, want *LuaError", err)
			}
		})
	}
}

// TestLuastdChunkNames checks that luastd code runs under its embedded
// path as the chunk name, so its errors read "luastd/cells/...:<line>:".
func TestLuastdChunkNames(t *testing.T) {
	for name, m := range luastdIndex() {
		proto, err := m.compile()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := "luastd/" + m.path; proto.SourceName != want {
			t.Errorf("%s: chunk name %q, want %q", name, proto.SourceName, want)
		}
	}
	// An error under a luastd frame: install(env) writes the builders
	// into env, whose __newindex fails; the traceback names the frame.
	_, err := runChunk(t, VMOptions{}, "site.lua", `
local env = setmetatable({}, {__newindex = function() error("probe") end})
require("cells.dsl").install(env)`)
	var le *LuaError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want a Lua error", err)
	}
	if !regexp.MustCompile(`(?m)^\s*luastd/cells/dsl\.lua:\d+: in `).MatchString(le.Traceback) {
		t.Fatalf("err = %v, traceback without a luastd/cells/dsl.lua frame:\n%s", err, le.Traceback)
	}
}

// hostile is a script that must end in a clear error naming file:line,
// quickly, without hurting the host.
type hostile struct {
	name string
	opts VMOptions
	src  string
	want string // regexp on the error text
	is   error  // errors.Is target, if any
}

func runHostile(t *testing.T, cases []hostile) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := runChunk(t, tc.opts, "bad.lua", tc.src)
			if err == nil {
				t.Fatal("no error")
			}
			t.Logf("%s: %v", time.Since(start).Round(time.Millisecond), err)
			if !regexp.MustCompile(tc.want).MatchString(err.Error()) {
				t.Errorf("err = %q, want match %s", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v) = false", tc.is)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

func TestTimeLimit(t *testing.T) {
	ms := 200 * time.Millisecond
	runHostile(t, []hostile{
		{"while true", VMOptions{Timeout: ms}, "local x = 1\nwhile true do x = x + 1 end", `^bad.lua:2: time limit of 200ms exceeded$`, ErrTimeLimit},
		{"empty loop", VMOptions{Timeout: ms}, "while true do end", `^bad.lua:1: time limit of 200ms exceeded$`, ErrTimeLimit},
		{"pcall loop", VMOptions{Timeout: ms}, "while true do pcall(error, 'x') end", `^bad.lua:1: time limit`, ErrTimeLimit},
		{"in coroutine", VMOptions{Timeout: ms}, "coroutine.wrap(function()\nwhile true do end end)()", `bad.lua:2: time limit`, ErrTimeLimit},
		{"in gsub callback", VMOptions{Timeout: ms}, "(\"x\"):gsub('x', function()\nwhile true do end end)", `bad.lua:2: time limit`, ErrTimeLimit},
		{"in sort comparator", VMOptions{Timeout: ms}, "table.sort({3,2,1}, function(a, b)\nwhile true do end end)", `bad.lua:2: time limit`, ErrTimeLimit},
		{"pattern backtracking", VMOptions{Timeout: ms}, "local s = ('a'):rep(60)\nreturn s:find(('a*'):rep(20) .. 'b')", `^bad.lua:2: time limit`, ErrTimeLimit},
		{"gsub backtracking", VMOptions{Timeout: ms}, "local s = ('a'):rep(60)\nreturn s:gsub(('a-'):rep(20) .. 'b', '')", `^bad.lua:2: time limit`, ErrTimeLimit},
		{"match backtracking", VMOptions{Timeout: ms}, "local s = ('a'):rep(60)\nreturn s:match(('.*'):rep(20) .. 'b')", `^bad.lua:2: time limit`, ErrTimeLimit},
	})
}

func TestTimeLimitEnv(t *testing.T) {
	t.Setenv(TimeoutEnv, "150ms")
	if got := NewVM(VMOptions{}).Options().Timeout; got != 150*time.Millisecond {
		t.Fatalf("timeout = %s", got)
	}
	runHostile(t, []hostile{{"env", VMOptions{}, "while true do end", `^bad.lua:1: time limit of 150ms exceeded$`, ErrTimeLimit}})
	// An explicit option wins over the environment.
	if got := NewVM(VMOptions{Timeout: time.Second}).Options().Timeout; got != time.Second {
		t.Fatalf("explicit timeout = %s", got)
	}
	t.Setenv(TimeoutEnv, "0")
	if got := NewVM(VMOptions{}).Options().Timeout; got >= 0 {
		t.Fatalf("CELLMAN_LUA_TIMEOUT=0 gives %s, want no limit", got)
	}
	t.Setenv(TimeoutEnv, "")
	if got := NewVM(VMOptions{}).Options().Timeout; got != DefaultTimeout {
		t.Fatalf("unset gives %s", got)
	}
	t.Setenv(TimeoutEnv, "soon")
	if _, _, err := TimeoutFromEnv(); err == nil || err.Error() != `CELLMAN_LUA_TIMEOUT: invalid duration "soon"` {
		t.Fatalf("err = %v", err)
	}
}

// TestTimeLimitPerCall checks that the limit applies to each call, and that
// the VM is usable after a call hit it.
func TestTimeLimitPerCall(t *testing.T) {
	vm := NewVM(VMOptions{Timeout: 100 * time.Millisecond, Print: &bytes.Buffer{}})
	defer vm.Close()
	if err := vm.DoChunk("a.lua", []byte("while true do end")); !errors.Is(err, ErrTimeLimit) {
		t.Fatalf("err = %v", err)
	}
	if err := vm.DoChunk("b.lua", []byte("function f(n) return n * 2 end")); err != nil {
		t.Fatalf("after timeout: %v", err)
	}
	vals, err := vm.CallValues(vm.L.GetGlobal("f").(*lua.LFunction), lua.LNumber(21))
	if err != nil || len(vals) != 1 || vals[0] != lua.LNumber(42) {
		t.Fatalf("CallValues = %v, %v", vals, err)
	}
	if vm.L.GetTop() != 0 {
		t.Fatalf("stack left with %d values", vm.L.GetTop())
	}
}

func TestCallStackLimit(t *testing.T) {
	runHostile(t, []hostile{
		{"recursion", VMOptions{}, "local function f(n) return 1 + f(n + 1) end\nf(1)", `^bad.lua:1: stack overflow$`, nil},
		{"tail recursion", VMOptions{}, "local function f() return f() end\nf()", `^bad.lua:1: stack overflow$`, nil},
		{"tail recursion in pcall", VMOptions{}, "local function f() return f() end\nlocal ok, e = pcall(f)\nerror(e, 0)", `^bad.lua:3: stack overflow$`, nil},
		{"method tail recursion", VMOptions{}, "local t = {}\nfunction t:m(n) return self:m(n + 1) end\nt:m(1)", `^bad.lua:2: stack overflow$`, nil},
		{"mutual recursion", VMOptions{}, "local g\nlocal function f() return 1 + g() end\ng = function() return 1 + f() end\nf()", `^bad.lua:[23]: stack overflow`, nil},
		{"via pcall", VMOptions{}, "local function f() local ok, e = pcall(f) if not ok then error(e, 0) end end\nf()", `^bad.lua:1: stack overflow$`, nil},
		{"via __index", VMOptions{}, "local t = setmetatable({}, {__index = function(t, k) return t[k] end})\nreturn t.x", `^bad.lua:1: stack overflow`, nil},
		{"via tostring", VMOptions{}, "local t t = setmetatable({}, {__tostring = function(x) return tostring(x) end})\nreturn tostring(t)", `^bad.lua:1: stack overflow`, nil},
		{"via gsub", VMOptions{}, "local function f() return (\"x\"):gsub('x', f) end\nf()", `^bad.lua:1: stack overflow$`, nil},
		{"via sort", VMOptions{}, "local function f(a, b) table.sort({1, 2, 3}, f) return a < b end\nf(1, 2)", `^bad.lua:1: stack overflow$`, nil},
		{"via coroutines", VMOptions{}, "local function f() coroutine.wrap(f)() end\nf()", `^bad.lua:1: stack overflow \(more than 200 nested coroutines\)$`, nil},
		{"via coroutine.resume", VMOptions{}, "local function f() local ok, e = coroutine.resume(coroutine.create(f)) if not ok then error(e, 0) end end\nf()", `^bad.lua:1: stack overflow \(more than 200 nested coroutines\)$`, nil},
		{"small cap", VMOptions{CallStackSize: 20}, "local function f(n) if n == 0 then return 0 end return 1 + f(n - 1) end\nf(50)", `^bad.lua:1: stack overflow$`, nil},
	})
	// Tail calls still return all their results.
	out, err := runChunk(t, VMOptions{}, "tail.lua", `
local function g(...) return ... end
local function f(n, ...) if n == 0 then return g(...) end return f(n - 1, ...) end
print(f(100, "a", nil, 3))
print(select("#", f(10)))
print(pcall(f, 10, "x"))`)
	if err != nil || out != "a\tnil\t3\n0\ntrue\tx\n" {
		t.Fatalf("tail calls: out %q err %v", out, err)
	}
	// Recursion within the cap works.
	out, err = runChunk(t, VMOptions{CallStackSize: 100}, "ok.lua", "local function f(n) if n == 0 then return 0 end return 1 + f(n - 1) end print(f(80))")
	if err != nil || out != "80\n" {
		t.Fatalf("out %q err %v", out, err)
	}
}

// TestMemoryGuards checks the builtins that can build a huge value in one Go
// call, which no deadline interrupts, and the heap watchdog.
func TestMemoryGuards(t *testing.T) {
	small := VMOptions{MaxStringSize: 1 << 20}
	runHostile(t, []hostile{
		{"string.rep 2^30", VMOptions{}, "\nreturn string.rep('x', 2^30)", `^bad.lua:2: string.rep: result too large \(max 67108864 bytes\)$`, nil},
		{"rep method 1e9", VMOptions{}, "return ('x'):rep(1e9)", `^bad.lua:1: string.rep: result too large`, nil},
		{"rep huge count", VMOptions{}, "return ('xy'):rep(2^53)", `^bad.lua:1: string.rep: result too large`, nil},
		{"rep inf", VMOptions{}, "return ('x'):rep(math.huge)", `^bad.lua:1: string.rep: result too large`, nil},
		{"rep method own cap", small, "return ('x'):rep(2e6)", `^bad.lua:1: string.rep: result too large \(max 1048576 bytes\)$`, nil},
		{"format method own cap", small, "return ('%s%s'):format(('x'):rep(6e5), ('x'):rep(6e5))", `^bad.lua:1: string.format: result too large \(max 1048576 bytes\)$`, nil},
		{"format width", VMOptions{}, "return string.format('%99999999d', 1)", `^bad.lua:1: invalid format \(width or precision too long\)$`, nil},
		{"format precision", VMOptions{}, "return string.format('%.99999999f', 1)", `^bad.lua:1: invalid format \(width or precision too long\)$`, nil},
		{"format star", VMOptions{}, "return string.format('%*d', 1e9, 1)", `^bad.lua:1: invalid format`, nil},
		{"format arg index", VMOptions{}, "return string.format('%[1]d', 1)", `^bad.lua:1: invalid format`, nil},
		{"format %q amplification", small, "local s = ('\\0'):rep(500000)\nreturn string.format('%q', s)", `^bad.lua:2: string.format: result too large`, nil},
		{"format many wide", small, "local f = ('%99d'):rep(20000)\nreturn string.format(f, unpack((function() local t = {} for i = 1, 20000 do t[i] = 1 end return t end)()))", `^bad.lua:2: string.format: result too large`, nil},
		{"table.concat", small, "local t = {} for i = 1, 20000 do t[i] = ('x'):rep(100) end\nreturn table.concat(t)", `^bad.lua:2: table.concat: result too large \(max 1048576 bytes\)$`, nil},
		{"table.concat sep", small, "local t = {} for i = 1, 2000 do t[i] = 'x' end\nreturn table.concat(t, ('y'):rep(1000))", `^bad.lua:2: table.concat: result too large`, nil},
		{"gsub amplification", small, "local s = ('x'):rep(100000)\nreturn s:gsub('x', ('y'):rep(100))", `^bad.lua:2: string.gsub: result too large`, nil},
		{"gsub empty pattern", small, "local s = ('x'):rep(100000)\nreturn s:gsub('', ('y'):rep(20))", `^bad.lua:2: string.gsub: result too large`, nil},
		{"gsub capture amplification", small, "local s = ('x'):rep(100000)\nreturn s:gsub('(x)', '%1%1%1%1%1%1%1%1%1%1%1%1%1')", `^bad.lua:2: string.gsub: result too large`, nil},
		{"concat doubling", VMOptions{MemoryLimit: 64 << 20}, "local s = ('x'):rep(2^20)\nwhile true do s = s .. s end", `^bad.lua:2: (memory limit of 64 MiB exceeded|string concatenation: result too large)`, nil},
		{"table growth", VMOptions{MemoryLimit: 64 << 20, Timeout: 30 * time.Second}, "local t = {}\nwhile true do t[#t + 1] = {1, 2, 3} end", `^bad.lua:2: memory limit of 64 MiB exceeded$`, ErrMemoryLimit},
		{"string table growth", VMOptions{MemoryLimit: 64 << 20, Timeout: 30 * time.Second}, "local t, i = {}, 0\nwhile true do i = i + 1 t[i] = ('x'):rep(1000) .. i end", `^bad.lua:2: memory limit of 64 MiB exceeded$`, ErrMemoryLimit},
		{"unpack huge", VMOptions{}, "local t = {} for i = 1, 3e5 do t[i] = i end\nreturn unpack(t)", `^bad.lua:2: registry overflow$`, nil},
		{"string.char many", VMOptions{}, "local t = {} for i = 1, 3e5 do t[i] = 65 end\nreturn string.char(unpack(t))", `^bad.lua:2: registry overflow$`, nil},
	})
	// Garbage is not growth: with a live heap far larger than the limit,
	// the collector lets more garbage than the limit pile up, and the
	// watchdog must not take that for a blow-up.
	t.Run("garbage with a large live heap", func(t *testing.T) {
		ballast := make([]byte, 256<<20)
		for i := range ballast {
			if i%4096 == 0 {
				ballast[i] = 1 // touch it: a real, live heap
			}
		}
		_, err := runChunk(t, VMOptions{MemoryLimit: 128 << 20, Timeout: time.Minute}, "garbage.lua",
			"for i = 1, 1000 do local s = ('x'):rep(500000) .. i end")
		goruntime.KeepAlive(ballast)
		if err != nil {
			t.Fatalf("500 MB of garbage under a 128 MiB limit: %v", err)
		}
	})
	// A concatenation of 32 operands is fine; its size is bounded by the
	// operands' (each at most MaxStringSize) and the watchdog acts next.
	t.Run("concat of 32 big strings", func(t *testing.T) {
		// The baseline is the live heap of the last GC: collect the
		// previous subtest's ballast so this run is measured alone.
		goruntime.GC()
		_, err := runChunk(t, VMOptions{MemoryLimit: 64 << 20}, "cat.lua",
			"local s = ('x'):rep(2^20)\nlocal t = s"+strings.Repeat("..s", 31)+"\nlocal u = t..t\nwhile true do end")
		if err == nil || err.Error() != "cat.lua:4: memory limit of 64 MiB exceeded" {
			t.Fatalf("err = %v", err)
		}
	})
	// Results under the caps work.
	out, err := runChunk(t, small, "ok.lua", `
local s = ("x"):rep(1000)
local t = {} for i = 1, 100 do t[i] = s end
print(#table.concat(t, ","), #s:gsub("x", "yy"), #string.format("%99d|%s", 1, s), #string.format("%q", s))`)
	if err != nil || out != "100099\t2000\t1100\t1002\n" {
		t.Fatalf("out %q err %v", out, err)
	}
}

// BenchmarkNewVM is the cost of one fresh sandboxed VM.
func BenchmarkNewVM(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewVM(VMOptions{}).Close()
	}
}

// BenchmarkNewVMRequireDSL is a fresh VM plus require("cells.dsl") (the
// protos are compiled once per process), what every DSL file costs before
// its own code runs.
func BenchmarkNewVMRequireDSL(b *testing.B) {
	b.ReportAllocs()
	src := []byte(`require("cells.dsl").install(_G)`)
	for b.Loop() {
		vm := NewVM(VMOptions{})
		if err := vm.DoChunk("bench.lua", src); err != nil {
			b.Fatal(err)
		}
		vm.Close()
	}
}

// TestTypeNames pins type(), which the sandbox replaces with a version that
// returns preboxed names (luaType), to gopher-lua's results and error.
func TestTypeNames(t *testing.T) {
	out, err := runChunk(t, VMOptions{}, "t.lua", `local co = coroutine.create(function() end)
print(type(nil), type(1), type(""), type({}), type(print), type(true), type(co))
type()`)
	if want := "nil\tnumber\tstring\ttable\tfunction\tboolean\tthread\n"; out != want {
		t.Errorf("out = %q, want %q", out, want)
	}
	if err == nil || err.Error() != "t.lua:3: bad argument #1 to type (value expected)" {
		t.Errorf("err = %v", err)
	}
}
