package runtime

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runScript writes src to <tmp>/script.lua and runs it.
func runScript(t *testing.T, src string, args ...string) (path string, code int, stdout, stderr string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "script.lua")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code = RunScript(path, args, &out, &errOut)
	return path, code, out.String(), errOut.String()
}

func TestRunScript(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    string
		args   []string
		code   int
		stdout string
		stderr string // regexp; SCRIPT is the script path
	}{
		{name: "args", src: `print(#arg, arg[1], arg[2]) print(select("#", ...), ...) print(arg[0] == SCRIPT_PATH)`,
			args: []string{"a", "b c"}, stdout: "2\ta\tb c\n2\ta\tb c\nfalse\n"},
		{name: "no args", src: `print(#arg, ...)`, stdout: "0\n"},
		{name: "exit 0", src: "print('before') exit() print('after')", stdout: "before\n"},
		{name: "exit 3", src: "exit(3)", code: 3},
		{name: "exit false", src: "exit(false)", code: 1},
		{name: "exit true", src: "exit(true)", code: 0},
		{name: "exit through pcall", src: "print(pcall(exit, 4)) print('not reached')", code: 4},
		{name: "exit in coroutine", src: "coroutine.wrap(function() exit(5) end)() print('not reached')", code: 5},
		{name: "exit in function", src: "local function f() exit(6) end\nf()", code: 6},
		{name: "exit bad status", src: "\nexit(300)", code: 1, stderr: `^cellman: SCRIPT:2: bad argument #1 to exit \(exit status must be an integer from 0 to 255\)\n$`},
		{name: "error", src: "print('x')\n\nerror('boom')", code: 1, stdout: "x\n", stderr: `^cellman: SCRIPT:3: boom\n$`},
		{name: "error level 0", src: "error('plain', 0)", code: 1, stderr: `^cellman: plain\n$`},
		{name: "runtime error", src: "local t\nlocal x = t.field", code: 1, stderr: `^cellman: SCRIPT:2: attempt to index a non-table object\(nil\) with key 'field'\n$`},
		{name: "syntax error", src: "print(", code: 1, stderr: `^cellman: SCRIPT:1: syntax error near EOF\n$`},
		{name: "memory guard", src: "\nlocal s = ('x'):rep(2^31)", code: 1, stderr: `^cellman: SCRIPT:2: string.rep: result too large`},
		{name: "no os", src: "os.exit(0)", code: 1, stderr: `^cellman: SCRIPT:1: attempt to index a non-table object\(nil\) with key 'exit'\n$`},
		{name: "no io", src: "print(io, os, debug, package, load, dofile, loadfile)", stdout: "nil\tnil\tnil\tnil\tnil\tnil\tnil\n"},
		{name: "require os", src: `require("os")`, code: 1, stderr: `^cellman: SCRIPT:1: module 'os' not found\n$`},
		{name: "require io", src: `require("io")`, code: 1, stderr: `^cellman: SCRIPT:1: module 'io' not found\n$`},
		{name: "require cmd", src: `require("cmd")`, code: 1, stderr: `^cellman: SCRIPT:1: module 'cmd' not found\n$`},
		{name: "require http", src: `require("http")`, code: 1, stderr: `^cellman: SCRIPT:1: module 'http' not found\n$`},
		{name: "require ioutil", src: `require("ioutil")`, code: 1, stderr: `module 'ioutil' not found`},
		{name: "require plugin", src: `require("plugin")`, code: 1, stderr: `module 'plugin' not found`},
		{name: "json", src: `local json = require("json")
local s = assert(json.encode({name = "web", ports = {80, 443}}))
local v = assert(json.decode(s))
print(v.name, v.ports[1], v.ports[2])
local x, err = json.decode("{bad")
print(x, err ~= nil)`, stdout: "web\t80\t443\nnil\ttrue\n"},
		{name: "yaml", src: `local yaml = require("yaml")
local v = assert(yaml.decode("cells:\n  - name: web\n    cpu: 2\n"))
print(v.cells[1].name, v.cells[1].cpu)
print((assert(yaml.encode({a = 1}))))`, stdout: "web\t2\na: 1\n\n"},
		{name: "whitelist", src: `for _, m in ipairs({"json", "yaml", "strings", "filepath", "time", "regexp", "inspect", "base64", "crypto", "humanize", "shellescape"}) do assert(type(require(m)) == "table", m) end
print(require("strings").split("a,b", ",")[2], require("filepath").join("a", "b"), require("base64").StdEncoding:encode_to_string("hi"))
print(require("crypto").sha256("x"):sub(1, 8), require("shellescape").quote("a b"), require("regexp").match("^c+$", "ccc"))
print(require("humanize").ibytes(2048), require("inspect")({1}), type(require("time").unix()))`,
			stdout: "b\ta/b\taGk=\n2d711642\t'a b'\ttrue\n2.0 KiB\t{ 1 }\tnumber\n"},
		{name: "json deep", src: "local json = require('json')\nlocal t = {} local c = t for i = 1, 1e5 do c.x = {} c = c.x end\njson.encode(t)", code: 1,
			stderr: `^cellman: SCRIPT:3: json.encode: value nested more than 1000 deep\n$`},
		{name: "json exponential", src: "local json = require('json')\nlocal x = {'a'} for i = 1, 60 do x = {x, x} end\njson.encode(x)", code: 1,
			stderr: `^cellman: SCRIPT:3: json.encode: result too large \(max 67108864 bytes\)\n$`},
		{name: "json encoder deep", src: "local json, strings = require('json'), require('strings')\nlocal t = {} local c = t for i = 1, 1e5 do c.x = {} c = c.x end\nlocal e = json.new_encoder(strings.new_builder())\ne:encode(t)", code: 1,
			stderr: `^cellman: SCRIPT:4: json.Encoder:encode: value nested more than 1000 deep\n$`},
		{name: "json cycle", src: "local t = {} t.t = t\nprint(require('json').encode(t))", stdout: "nil\tjson: error calling MarshalJSON for type json.jsonValue: json: error calling MarshalJSON for type json.jsonValue: cannot encode recursively nested tables to JSON\n"},
		{name: "yaml deep", src: "local t = {} local c = t for i = 1, 1e5 do c.x = {} c = c.x end\nrequire('yaml').encode(t)", code: 1,
			stderr: `^cellman: SCRIPT:2: yaml.encode: value nested more than 1000 deep\n$`},
		{name: "json nested ok", src: "local t = {} local c = t for i = 1, 100 do c.x = {} c = c.x end\nprint(#require('json').encode(t))", stdout: "602\n"},
		{name: "strings.split too many", src: "local s = ('ab'):rep(3e6)\nrequire('strings').split(s, '')", code: 1,
			stderr: `^cellman: SCRIPT:2: strings.split: too many parts \(max 4194304\)\n$`},
		{name: "strings.fields too many", src: "local s = ('a '):rep(5e6)\nrequire('strings').fields(s)", code: 1,
			stderr: `^cellman: SCRIPT:2: strings.fields: too many parts \(max 4194304\)\n$`},
		{name: "strings.split ok", src: "local st = require('strings')\nprint(#st.split('a,b,,c', ','), #st.split('abc', ''), #st.fields(' a  b\\tc '))", stdout: "4\t3\t3\n"},
		{name: "luastd", src: `print(type(require("cells.dsl").install))`, stdout: "function\n"},
		{name: "utf8", src: `print(utf8.len("été"))`, stdout: "3\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.ReplaceAll(tc.src, "SCRIPT_PATH", `"nope"`)
			path, code, stdout, stderr := runScript(t, src, tc.args...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if stdout != tc.stdout {
				t.Errorf("stdout\n got: %q\nwant: %q", stdout, tc.stdout)
			}
			want := "^$"
			if tc.stderr != "" {
				want = strings.ReplaceAll(tc.stderr, "SCRIPT", regexp.QuoteMeta(path))
			}
			if !regexp.MustCompile(want).MatchString(stderr) {
				t.Errorf("stderr %q, want match %s", stderr, want)
			}
		})
	}
}

func TestRunScriptArgZero(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.lua")
	if err := os.WriteFile(path, []byte("print(arg[0])"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := RunScript(path, nil, &out, &errOut); code != 0 || out.String() != path+"\n" {
		t.Fatalf("code %d stdout %q stderr %q", code, out.String(), errOut.String())
	}
}

func TestRunScriptMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.lua")
	var out, errOut bytes.Buffer
	if code := RunScript(path, nil, &out, &errOut); code != 1 {
		t.Fatalf("exit status %d", code)
	}
	if want := "cellman: cannot open " + path + ": no such file or directory\n"; errOut.String() != want {
		t.Fatalf("stderr %q, want %q", errOut.String(), want)
	}
	if out.Len() != 0 {
		t.Fatalf("stdout %q", out.String())
	}
}

// TestRunScriptTimeout checks that run scripts have no time limit by
// default and honour CELLMAN_LUA_TIMEOUT.
func TestRunScriptTimeout(t *testing.T) {
	t.Setenv(TimeoutEnv, "")
	// Longer than nothing, well under any test deadline: must not be cut.
	_, code, stdout, stderr := runScript(t, `require("time").sleep(0.3) print("done")`)
	if code != 0 || stdout != "done\n" {
		t.Fatalf("code %d stdout %q stderr %q", code, stdout, stderr)
	}
	t.Setenv(TimeoutEnv, "200ms")
	start := time.Now()
	path, code, _, stderr := runScript(t, "local n = 0\nwhile true do n = n + 1 end")
	if code != 1 || stderr != "cellman: "+path+":2: time limit of 200ms exceeded\n" {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	// time.sleep wakes up when the limit fires.
	start = time.Now()
	_, code, _, stderr = runScript(t, `require("time").sleep(30)`)
	if code != 1 || !strings.Contains(stderr, "time limit of 200ms exceeded") || time.Since(start) > 5*time.Second {
		t.Fatalf("code %d stderr %q after %s", code, stderr, time.Since(start))
	}
	t.Setenv(TimeoutEnv, "later")
	_, code, _, stderr = runScript(t, `print(1)`)
	if code != 1 || stderr != "cellman: CELLMAN_LUA_TIMEOUT: invalid duration \"later\"\n" {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
}
