package fs

import (
	"os"
	"path/filepath"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"cells/runtime/paths"
)

// TestLuaModule drives require("cells.fs") from Lua: results, and the
// nil, err convention with err.op, err.path, err.errno.
func TestLuaModule(t *testing.T) {
	base := t.TempDir()
	t.Setenv("CELLMAN_PREFIX", base)
	cells := paths.FromEnv().CellsDir
	os.MkdirAll(cells, 0o755)
	root, host := tree(t)
	root2 := filepath.Join(cells, "t", "root")
	os.MkdirAll(filepath.Dir(root2), 0o755)
	if err := os.Rename(root, root2); err != nil {
		t.Fatal(err)
	}
	root = root2
	os.WriteFile(filepath.Join(host, "src"), []byte("copied"), 0o644)
	L := lua.NewState()
	defer L.Close()
	L.PreloadModule(Name, Loader)
	L.SetGlobal("ROOT", lua.LString(root))
	L.SetGlobal("HOST", lua.LString(host))
	err := L.DoString(`
local fs = require("cells.fs")
local function eq(got, want)
  if got ~= want then error("got " .. tostring(got) .. ", want " .. tostring(want), 2) end
end
local ok, e = pcall(fs.root, "/")
if ok or not tostring(e):find("root must be under") then error("fs.root(\"/\") accepted: " .. tostring(e)) end
ok, e = pcall(fs.root, ROOT .. "/../../../..")
if ok then error("fs.root above the cells directory accepted") end
local r = fs.root(ROOT)
eq(r:path(), ROOT)
eq(r:write_file("/a/b.txt", "x", "0600"), true)
eq(r:write_file("/a/b.txt", "x"), false)
eq(r:read_file("/a/b.txt"), "x")
eq(r:stat("/a/b.txt").mode, 384)
eq(r:stat("/a").type, "dir")
eq(r:append_line("/a/b.txt", "y"), true)
eq(r:read_file("/a/b.txt"), "x\ny\n")
eq(r:symlink("/a", "/l"), true)
eq(r:lstat("/l").target, "/a")
eq(r:stat("/l/b.txt").type, "file")
eq(r:chmod("/a/b.txt", "0640"), true)
eq(r:stat("/a/b.txt").mode, 416)
eq(r:chown("/a/b.txt"), true)
eq(r:copy_from_host(HOST .. "/src", "/c"), true)
eq(r:read_file("/c"), "copied")
eq(r:mkdir_p("/d/e/f"), true)
eq(r:remove("/c"), true)
eq(r:remove("/c"), false)
eq(fs.host_read(HOST .. "/src"), "copied")
eq(fs.host_check(HOST .. "/src"), true)
local v, e = r:read_file("/missing")
eq(v, nil); eq(e.op, "read"); eq(e.path, "/missing"); eq(e.errno, "ENOENT")
eq(tostring(e), "read /missing: no such file or directory")
eq(e.cause, "no such file or directory")
v, e = r:write_file("relative", "x")
eq(v, nil); eq(tostring(e), "write relative: path must be absolute")
v, e = r:read_file("/pw") -- a link to the host's passwd: resolved inside, absent
eq(v, nil); eq(e.errno, "ENOENT")
v, e = fs.host_check(HOST .. "/nope")
eq(e.errno, "ENOENT"); eq(e.path, HOST .. "/nope")
v, e = r:mkdir_p("/etc/passwd/x")
eq(e.errno, "ENOTDIR")
`)
	if err != nil {
		t.Fatal(err)
	}
}
