package runtime

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"cells/kernel"
	"cells/runtime/paths"
)

// actionEnv is a fake-driver installation with one active cell "web" whose
// root is a temp dir, a host dir beside it (links planted in the root
// point there), and a manifest dir holding sources.
type actionEnv struct {
	root, host, manifest string
	vm                   *VM
}

// actionPrelude builds ctx for cell web and run(kind, args), which logs
// the describe line then runs the action. LOG and WARN collect lines.
const actionPrelude = `
LOG, WARN = {}, {}
actions = require("cells.actions")
ctx = require("cells.actions.context").new{
  cell = "web", root = ROOT, manifest_dir = MANIFEST, verbosity = 1,
  run = { uid = 1000, gid = 1000, groups = "1000,1001" },
  pkg_path = "http://pkgs.example/All", pkg_tool = PKG_TOOL, release = "10.0", arch = "amd64",
  log = function(l) LOG[#LOG + 1] = l end, warn = function(m) WARN[#WARN + 1] = m end,
}
function run(kind, args)
  local a = actions.get(kind)
  LOG[#LOG + 1] = a.describe(ctx, args)
  a.run(ctx, args)
end
function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  if ok then error("expected failure matching " .. pattern, 2) end
  if not tostring(err):find(pattern) then error("error " .. tostring(err) .. " does not match " .. pattern, 2) end
end
function eq(got, want)
  if got ~= want then error("got " .. tostring(got) .. ", want " .. tostring(want), 2) end
end
`

func newActionEnv(t *testing.T) *actionEnv {
	t.Helper()
	prefix := t.TempDir()
	t.Setenv("CELLMAN_PREFIX", prefix)
	t.Setenv("CELLS_DRIVER", "fake")
	p := paths.FromEnv()
	e := &actionEnv{root: p.CellRoot("web"), host: filepath.Join(prefix, "host"), manifest: filepath.Join(prefix, "etc/cellman")}
	for _, d := range []string{e.root + "/etc", e.host, e.manifest + "/assets"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d, err := kernel.Open(kernel.Options{StateDir: p.KernelState()})
	if err != nil {
		t.Fatal(err)
	}
	id, err := d.Create(kernel.CreateSpec{Name: "web", Root: e.root})
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d, err := kernel.Open(kernel.Options{StateDir: p.KernelState()}); err == nil {
			d.Destroy(id)
			d.Close()
		}
	})
	e.vm = NewVM(VMOptions{Timeout: 30 * time.Second, Libs: []string{HostLibs}})
	t.Cleanup(e.vm.Close)
	e.vm.SetGlobal("ROOT", lua.LString(e.root))
	e.vm.SetGlobal("HOST", lua.LString(e.host))
	e.vm.SetGlobal("MANIFEST", lua.LString(e.manifest))
	e.vm.SetGlobal("PKG_TOOL", lua.LString("pkg_add"))
	return e
}

func (e *actionEnv) run(t *testing.T, src string) {
	t.Helper()
	if err := e.vm.DoChunk("test.lua", []byte(actionPrelude+src)); err != nil {
		t.Fatal(err)
	}
}

func (e *actionEnv) write(t *testing.T, p, s string, mode os.FileMode) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(s), mode); err != nil {
		t.Fatal(err)
	}
}

func fileIs(t *testing.T, p, want string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Fatalf("%s = %q, want %q", p, b, want)
	}
}

func TestTokensRender(t *testing.T) {
	e := newActionEnv(t)
	t.Setenv("CELLS_TEST_SECRET", "s3cret")
	e.run(t, `
local tokens = require("cells.apply.tokens")
local tk = { a = "A", cell_name = "web" }
eq(tokens.render("x {{a}} {{  a  }} {{ cell_name }}", tk), "x A A web")
eq(tokens.render("no tokens { } }}", tk), "no tokens { } }}")
eq(tokens.render("{{{{ a }}", tk), "{{ a }}")
eq(tokens.render("{{{{{{a}}", tk), "{{A")
eq(tokens.render("{{{{{", tk), "{{{")
eq(tokens.render("{{a}}{{{{", tk), "A{{")
eq(tokens.render("v={{ a }}", { a = "{{ b }}" }), "v={{ b }}") -- values are not scanned again
fails("^invalid template token: a%-b$", tokens.render, "{{ a-b }}", tk)
fails("^invalid template token: $", tokens.render, "{{ }}", tk)
fails("^invalid template token: { a$", tokens.render, "{{{ a }}}", tk)
fails("^unknown template token: nope$", tokens.render, "{{nope}}", tk)
fails("^unterminated template token$", tokens.render, "x {{ a", tk)
local rt = ctx.tokens
eq(rt.cell_name, "web"); eq(rt.cell_root, ROOT); eq(rt.manifest_dir, MANIFEST)
eq(rt.release, "10.0"); eq(rt.arch, "amd64"); eq(rt.run_uid, "1000"); eq(rt.run_gid, "1000")
eq(rt.run_groups, "1000,1001")
local getenv = require("cells.proc").getenv
local m = tokens.merge(rt, { arch = "shadowed", secret = { __cellman_from_env = "CELLS_TEST_SECRET" },
  cell_name = { __cellman_from_env = "CELLS_TEST_SECRET" } }, getenv)
eq(m.arch, "shadowed"); eq(m.secret, "s3cret"); eq(m.cell_name, "s3cret"); eq(m.release, "10.0")
eq(rt.arch, "amd64") -- per-action tokens never leak into the runtime table
fails("^environment variable not set for token_env: CELLS_TEST_UNSET_X$", tokens.merge, rt,
  { x = { __cellman_from_env = "CELLS_TEST_UNSET_X" } }, getenv)
eq(ctx:render("{{ cell_name }}:{{{{"), "web:{{")
`)
}

func TestFileActions(t *testing.T) {
	e := newActionEnv(t)
	e.write(t, e.manifest+"/assets/motd", "welcome to {{ cell_name }}\n", 0o600)
	e.write(t, e.manifest+"/assets/nginx.conf.in", "user {{ user }}; root {{ cell_root }}; key {{ key }}; lit {{{{ x }}\n", 0o644)
	e.write(t, e.root+"/etc/rc.conf", "sshd=YES\n", 0o644)
	t.Setenv("CELLS_TEST_KEY", "k1")
	e.run(t, `
run("dir", { path = "/srv/{{ cell_name }}/data", mode = "0750" })
run("line", { path = "/etc/rc.conf", text = "nginx=YES" })
run("line", { path = "/etc/rc.conf", text = "sshd=YES" })
run("symlink", { target = "/srv/web", linkpath = "/var/www" })
run("copy", { source = "./assets/motd", target = "/etc/motd", mode = "0640" })
run("file", { path = "/etc/hello", content = "hi {{ arch }}" })
run("template", { source = "assets/nginx.conf.in", target = "/etc/nginx.conf",
  tokens = { user = "www", key = { __cellman_from_env = "CELLS_TEST_KEY" } } })
local want = {
  "dir /srv/web/data", "applied ownership/mode: /srv/web/data",
  "line /etc/rc.conf", "line /etc/rc.conf",
  "symlink /var/www -> /srv/web",
  "copy " .. MANIFEST .. "/./assets/motd -> /etc/motd", "applied ownership/mode: /etc/motd",
  "file /etc/hello",
  "template: " .. MANIFEST .. "/assets/nginx.conf.in -> /etc/nginx.conf",
}
eq(table.concat(LOG, "\n"), table.concat(want, "\n"))
fails("^target path must be absolute in apply action: etc/x$", run, "file", { path = "etc/x", content = "" })
fails("^COPY source unreadable: " .. MANIFEST:gsub("%p", "%%%0") .. "/missing %(no such file or directory%)$", run, "copy", { source = "missing", target = "/x" })
fails("^template source is not readable: /nonexistent %(no such file or directory%)$", run, "template", { source = "/nonexistent", target = "/x" })
fails("^invalid mode: 0999$", run, "file", { path = "/etc/m", content = "", mode = "0999" })
fails("^unknown template token: nope$", run, "file", { path = "/etc/{{ nope }}", content = "" })
`)
	if fi, err := os.Stat(e.root + "/srv/web/data"); err != nil || fi.Mode().Perm() != 0o750 || !fi.IsDir() {
		t.Fatalf("dir: %v %v", fi, err)
	}
	fileIs(t, e.root+"/etc/rc.conf", "sshd=YES\nnginx=YES\n")
	if tg, _ := os.Readlink(e.root + "/var/www"); tg != "/srv/web" {
		t.Fatalf("symlink target %q", tg)
	}
	fileIs(t, e.root+"/etc/motd", "welcome to {{ cell_name }}\n") // copy does not render
	if fi, _ := os.Stat(e.root + "/etc/motd"); fi.Mode().Perm() != 0o640 {
		t.Fatalf("copy mode %v", fi.Mode())
	}
	fileIs(t, e.root+"/etc/hello", "hi amd64")
	fileIs(t, e.root+"/etc/nginx.conf", "user www; root "+e.root+"; key k1; lit {{ x }}\n")
}

func TestUntarAction(t *testing.T) {
	e := newActionEnv(t)
	src := filepath.Join(e.host, "src")
	e.write(t, src+"/app-1.0/bin/app", "#!/bin/sh\n", 0o755)
	out, err := exec.Command("tar", "-czf", e.manifest+"/app.tar.gz", "-C", src, "app-1.0").CombinedOutput()
	if err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	e.run(t, `
run("untar", { source = "app.tar.gz", target = "/opt/app", strip = 1 })
eq(LOG[1], "untar " .. MANIFEST .. "/app.tar.gz -> /opt/app")
fails("^UNTAR source unreadable: /nope%.tar %(no such file or directory%)$", run, "untar", { source = "/nope.tar", target = "/opt" })
`)
	fileIs(t, e.root+"/opt/app/bin/app", "#!/bin/sh\n")
}

// TestActionsStayInRoot plants links to the host inside the cell root and
// aims every writing action through them and through "..".
func TestActionsStayInRoot(t *testing.T) {
	e := newActionEnv(t)
	e.write(t, e.host+"/victim", "host data\n", 0o644)
	e.write(t, e.manifest+"/src", "payload", 0o644)
	os.Symlink(e.host, e.root+"/hostdir")                           // absolute, to the host
	os.Symlink("../../../../../../../../"+e.host, e.root+"/etc/up") // relative, climbing
	os.Symlink(e.host+"/victim", e.root+"/etc/victimlink")          // final component
	e.run(t, `
local targets = { "/hostdir/victim", "/etc/up/victim", "/../../../../" .. HOST .. "/victim",
  "/etc/victimlink", "/hostdir/new/x" }
for _, p in ipairs(targets) do
  pcall(run, "file", { path = p, content = "pwned" })
  pcall(run, "copy", { source = "src", target = p })
  pcall(run, "line", { path = p, text = "pwned" })
  pcall(run, "dir", { path = p .. "dir" })
  pcall(run, "symlink", { target = "/x", linkpath = p .. "link" })
  pcall(run, "template", { source = "src", target = p })
  pcall(run, "file", { path = p, content = "x", mode = "0777" })
end
`)
	fileIs(t, e.host+"/victim", "host data\n")
	ents, _ := os.ReadDir(e.host)
	if len(ents) != 1 {
		names := []string{}
		for _, x := range ents {
			names = append(names, x.Name())
		}
		t.Fatalf("host dir gained entries: %v", names)
	}
	if fi, _ := os.Stat(e.host + "/victim"); fi.Mode().Perm() != 0o644 {
		t.Fatalf("host file mode changed: %v", fi.Mode())
	}
	// The ".." path landed inside the root.
	fileIs(t, filepath.Join(e.root, e.host, "victim"), "x")
}

func TestOwnerGroupFromCell(t *testing.T) {
	e := newActionEnv(t)
	e.write(t, e.root+"/etc/passwd", "root:*:0:0::/root:/bin/sh\nwww:*:1234:4321::/var/www:/sbin/nologin\n", 0o644)
	e.write(t, e.root+"/etc/group", "wheel:*:0:root\nwebgrp:*:2345:www\n", 0o644)
	// The host's passwd must not be consulted: a planted link to it is ignored.
	os.Remove(e.root + "/etc/master.passwd")
	e.run(t, `
eq(ctx:uid("www"), 1234); eq(ctx:gid("webgrp"), 2345)
eq(ctx:uid("@run_uid"), 1000); eq(ctx:gid("@run_gid"), 1000); eq(ctx:uid("77"), 77)
fails("^invalid owner: a b$", ctx.uid, ctx, "a b")
fails("^invalid group: x/y$", ctx.gid, ctx, "x/y")
fails("^cannot resolve owner 'nobody' in " .. ROOT:gsub("%p", "%%%0") .. "/etc/passwd$", ctx.uid, ctx, "nobody")
fails("^cannot resolve group 'nogrp' in " .. ROOT:gsub("%p", "%%%0") .. "/etc/group$", ctx.gid, ctx, "nogrp")
`)
	if os.Geteuid() != 0 {
		t.Log("not root: chown through the action is not exercised")
		return
	}
	e.run(t, `run("file", { path = "/srv/f", content = "x", owner = "www", group = "webgrp", mode = "0600" })`)
	fi, err := os.Stat(e.root + "/srv/f")
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 1234 || st.Gid != 2345 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("owner %d:%d mode %v", st.Uid, st.Gid, fi.Mode())
	}
}

func TestExecActions(t *testing.T) {
	e := newActionEnv(t)
	e.write(t, e.manifest+"/setup.sh", "echo \"$1|$2|$FOO|$PKG_PATH|$CELLMAN_RUN_UID|$(pwd)\" > \"$OUT\"\n", 0o644)
	tool := filepath.Join(e.host, "fakepkg")
	e.write(t, tool, "#!/bin/sh\necho \"$PKG_PATH $*\" >> \"$(dirname \"$0\")/pkg.log\"\n", 0o755)
	t.Setenv("SECRET_OF_CELLMAN", "leak")
	out := filepath.Join(e.host, "out")
	e.vm.SetGlobal("OUT", lua.LString(out))
	e.vm.SetGlobal("TOOL", lua.LString(tool))
	e.run(t, `
eq(ctx:wrapper("true", { env = { B = "it's", A = "1" }, cwd = "/tmp" }),
  "export PKG_PATH='http://pkgs.example/All'; export CELLMAN_RUN_UID='1000'; export CELLMAN_RUN_GID='1000'; " ..
  "export CELLMAN_RUN_GROUPS='1000,1001'; export A='1'; export B='it'\\''s'; cd '/tmp' || exit 1; true")
run("exec", { command = "echo {{ cell_name }} > exec.out; echo \"$PATH|$HOME|${SECRET_OF_CELLMAN-unset}\" > env.out" })
eq(LOG[1], "cell exec web: echo web > exec.out; echo \"$PATH|$HOME|${SECRET_OF_CELLMAN-unset}\" > env.out")
run("script", { path = "setup.sh", args = { "a b", "{{ arch }}" }, env = { FOO = "it's", OUT = OUT }, cwd = "/tmp", timeout = 10 })
eq(LOG[2], "cell script: " .. MANIFEST .. "/setup.sh")
fails("^command failed with exit status 3$", run, "exec", { command = "exit 3" })
fails("^command failed with exit status 2: boom$", run, "exec", { command = "echo boom >&2; exit 2" })
fails("^command terminated by signal 9$", run, "exec", { command = "kill -9 $$" })
fails("^script is not readable: " .. MANIFEST:gsub("%p", "%%%0") .. "/nope%.sh %(no such file or directory%)$", run, "script", { path = "nope.sh" })
run("script", { path = "setup.sh", env = { OUT = "/dev/null" }, ignore_exit = true, cwd = "/nonexistent-dir" })
eq(WARN[1], "command failed but ignore_exit=true (status=256)")
fails("^pkg: pkg_add not found in cell web$", run, "pkg", { packages = { "nginx" } })
ctx.pkg_tool = TOOL
run("pkg", { packages = { "nginx", "php-{{ arch }}" } })
eq(LOG[#LOG], TOOL .. " in cell web (PKG_PATH=http://pkgs.example/All)")
ctx.pkg_tool = TOOL .. " install  -y"
run("pkg", { packages = { "curl" } })
`)
	fileIs(t, e.root+"/exec.out", "web\n")
	fileIs(t, e.root+"/env.out", "/usr/bin:/bin:/usr/sbin:/sbin:/usr/pkg/bin:/usr/pkg/sbin:/usr/local/bin:/usr/local/sbin|/|unset\n")
	fileIs(t, out, "a b|amd64|it's|http://pkgs.example/All|1000|/tmp\n")
	// PKG_TOOL may carry leading arguments.
	fileIs(t, e.host+"/pkg.log", "http://pkgs.example/All nginx php-amd64\nhttp://pkgs.example/All install -y curl\n")
}

func TestScriptTimeout(t *testing.T) {
	e := newActionEnv(t)
	e.write(t, e.manifest+"/slow.sh", "sleep 20\n", 0o644)
	start := time.Now()
	e.run(t, `
fails("^command timed out after 1 seconds$", run, "script", { path = "slow.sh", timeout = 1 })
ctx.default_timeout = 1 -- an exec without a timeout of its own gets the default
fails("^command timed out after 1 seconds$", run, "exec", { command = "sleep 20" })
`)
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("timeout took %v", d)
	}
}

func TestPatchAction(t *testing.T) {
	if _, err := exec.LookPath("patch"); err != nil {
		t.Skip("needs patch(1) on the host (the fake driver runs in-cell commands on the host)")
	}
	e := newActionEnv(t)
	// With the fake driver the "cell" is the host, so the in-cell path is
	// the root's host path.
	e.write(t, e.root+"/srv/conf", "a\nb\nc\n", 0o644)
	e.vm.SetGlobal("DIR", lua.LString(e.root+"/srv"))
	e.run(t, `
local diff = "--- conf\n+++ conf\n@@ -1,3 +1,3 @@\n a\n-b\n+B {{ arch }}\n c\n"
run("patch", { path = DIR, content = diff })
eq(LOG[1], "patch -p0 -d " .. DIR)
fails("^command failed with exit status", run, "patch", { path = DIR, content = "--- nofile\n+++ nofile\n@@ -1 +1 @@\n-x\n+y\n", strip = 0 })
`)
	fileIs(t, e.root+"/srv/conf", "a\nB amd64\nc\n")
}

func TestCustomAction(t *testing.T) {
	e := newActionEnv(t)
	e.run(t, `
actions.register {
  kind = "greeting",
  fields = {
    { name = "path", type = "string", required = true, path = true },
    { name = "who", type = "string", required = true },
    { name = "mode", type = "mode" },
  },
  positional = { "path", "who" },
  options = { "mode" },
  describe = function(ctx, args) return "greeting " .. ctx:render(args.path) end,
  run = function(ctx, args)
    local p = ctx:target(args.path)
    ctx:must(ctx.fs:write_file(p, "hello " .. ctx:render(args.who) .. "\n"))
    ctx:apply_meta(p, args.mode)
  end,
}
-- The DSL half: the builder and the validator know the kind.
local dsl = require("cells.dsl.actions")
local raw = dsl.builder("greeting")("/etc/greeting", "{{ cell_name }}", { mode = "0600" })
eq(raw.kind, "greeting"); eq(raw.who, "{{ cell_name }}")
local vctx = { file = "x.lua", line = 1, fail = function(self, m) error(m, 0) end }
local doc = dsl.validate(vctx, raw, 1)
fails("key .bogus. is unknown", dsl.validate, vctx, { kind = "greeting", path = "/x", who = "y", bogus = 1 }, 1)
fails("missing required key 'who'", dsl.validate, vctx, { kind = "greeting", path = "/x" }, 1)
-- The runtime half: get() finds it, the engine's contract runs it.
run("greeting", doc.args)
eq(LOG[1], "greeting /etc/greeting")
fails("is built in", actions.register, { kind = "file", run = function() end })
`)
	fileIs(t, e.root+"/etc/greeting", "hello web\n")
	if fi, _ := os.Stat(e.root + "/etc/greeting"); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
}

func TestActionsCoverBuiltins(t *testing.T) {
	e := newActionEnv(t)
	e.run(t, `
local names = require("cells.dsl.builtin").names
for _, k in ipairs(names) do
  local a = actions.get(k)
  if a == nil or a.kind ~= k or type(a.run) ~= "function" or type(a.describe) ~= "function" then
    error("action kind " .. k .. " has no runtime half")
  end
end
eq(#names, #actions.builtin)
`)
}

// TestLoadCustomActions ships a kind the way an operator does, as a file
// in <DSL dir>/actions, and loads it into a VM.
func TestLoadCustomActions(t *testing.T) {
	e := newActionEnv(t)
	dir := ActionsDir(paths.FromEnv())
	if dir != filepath.Join(os.Getenv("CELLMAN_PREFIX"), "etc/cellman/actions") {
		t.Fatalf("ActionsDir = %s", dir)
	}
	if err := LoadCustomActions(e.vm, dir); err != nil {
		t.Fatalf("missing dir: %v", err)
	}
	e.write(t, dir+"/10-motd.lua", `
require("cells.actions").register {
  kind = "motd",
  fields = { { name = "text", type = "string", required = true } },
  positional = { "text" },
  describe = function(ctx, args) return "motd" end,
  run = function(ctx, args) ctx:must(ctx.fs:write_file("/etc/motd", ctx:render(args.text) .. "\n")) end,
}
`, 0o644)
	e.write(t, dir+"/README", "not lua", 0o644)
	if err := LoadCustomActions(e.vm, dir); err != nil {
		t.Fatal(err)
	}
	e.run(t, `
local doc = require("cells.dsl.actions").validate({ file = "x.lua", line = 1, fail = function(_, m) error(m, 0) end },
  { kind = "motd", text = "hi {{ cell_name }}" }, 1)
run("motd", doc.args)
eq(LOG[1], "motd")
`)
	fileIs(t, e.root+"/etc/motd", "hi web\n")
	e.write(t, dir+"/20-bad.lua", "require('cells.actions').register{ kind = 'bad' }\n", 0o644)
	if err := LoadCustomActions(e.vm, dir); err == nil || !strings.Contains(err.Error(), "20-bad.lua:1: action bad: run must be function") {
		t.Fatalf("bad file: %v", err)
	}
}
