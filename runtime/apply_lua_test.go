package runtime

import (
	"os"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// runLuaTest runs a Lua test file of testdata in a fresh VM; the global
// fail(msg) records a test failure. extra preloads fake modules.
func runLuaTest(t *testing.T, file string, extra map[string]string) {
	t.Helper()
	vm := NewVM(VMOptions{})
	t.Cleanup(vm.Close)
	for name, src := range extra {
		fn, err := vm.Load(name, []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rets, err := vm.CallValues(fn)
		if err != nil || len(rets) != 1 {
			t.Fatalf("%s: %v", name, err)
		}
		vm.loaded.RawSetString(name, rets[0])
	}
	var failures []string
	vm.SetGlobal("fail", vm.L.NewFunction(func(L *lua.LState) int {
		failures = append(failures, L.CheckString(1))
		return 0
	}))
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.DoChunk(file, src); err != nil {
		t.Fatal(err)
	}
	if len(failures) > 0 {
		t.Error(strings.Join(failures, "\n"))
	}
}

func TestApplyPlanLua(t *testing.T) {
	runLuaTest(t, "testdata/apply_plan_test.lua", nil)
}

// fakeActions stand in for the actions engineer's modules: kind "fake"
// logs "run fake <say>" into ACTION_LOG and fails when FAIL_ACTION = say.
var fakeActions = map[string]string{
	"cells.actions": `
local fake = {
  kind = "fake",
  describe = function(ctx, args) return "fake " .. args.say end,
  run = function(ctx, args)
    ACTION_LOG[#ACTION_LOG + 1] = "run fake " .. args.say
    if FAIL_ACTION == args.say then error("failed " .. args.say, 0) end
  end,
}
return { get = function(kind) if kind == "fake" then return fake end end }`,
	"cells.actions.context": `
return { new = function(opts)
  return { cell = opts.cell, exec = function(self, cmd) ACTION_LOG[#ACTION_LOG + 1] = "exec " .. cmd end }
end }`,
}

func TestApplyEngineLua(t *testing.T) {
	runLuaTest(t, "testdata/apply_engine_test.lua", fakeActions)
}
