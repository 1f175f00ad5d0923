package proc

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestLuaModule(t *testing.T) {
	id, _ := fakeCell(t)
	t.Setenv("CELLS_TEST_VAR", "v1")
	L := lua.NewState()
	defer L.Close()
	L.PreloadModule(Name, Loader)
	L.SetGlobal("ID", lua.LNumber(id))
	err := L.DoString(`
local proc = require("cells.proc")
local function eq(got, want)
  if got ~= want then error("got " .. tostring(got) .. ", want " .. tostring(want), 2) end
end
local r = proc.exec_in_cell("t", { argv = { "/bin/sh", "-c", "cat; echo e >&2; exit 4" }, stdin = "in", capture_stdout = true })
eq(r.code, 4); eq(r.signal, 0); eq(r.timed_out, false); eq(r.stdout, "in"); eq(r.stderr, "e\n"); eq(r.raw, 1024)
r = proc.exec_in_cell(ID, { argv = { "sleep", "5" }, timeout = 0.2 })
eq(r.timed_out, true)
local v, e = proc.exec_in_cell("nope", { argv = { "true" } })
eq(v, nil); eq(tostring(e), "exec in cell nope: cell not found")
eq(proc.getenv("CELLS_TEST_VAR"), "v1")
eq(proc.getenv("CELLS_TEST_UNSET_VAR_X"), nil)
eq(type(proc.self().uid), "number")
`)
	if err != nil {
		t.Fatal(err)
	}
}
