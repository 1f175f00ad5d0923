package runtime

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestApplyLayoutNative checks the Go render of cells.apply.layout against
// the Lua reference on random tables: widths, shrinking at random terminal
// widths (and none), empty and non-string values, truncation.
func TestApplyLayoutNative(t *testing.T) {
	vm := NewVM(VMOptions{Libs: []string{HostLibs}})
	t.Cleanup(vm.Close)
	fn, err := vm.Load("layout_cmp", []byte(`
local layout = require("cells.apply.layout")
assert(layout.render ~= layout.render_lua, "the apply VM has the Go render")
local native = require("cells.apply.native").render
return function(cols, rows, width)
  local copy = {}
  for i, r in ipairs(rows) do
    copy[i] = {}
    for k, v in pairs(r) do copy[i][k] = v end
  end
  return native(cols, rows, width), layout.render_lua(cols, copy, width)
end`))
	if err != nil {
		t.Fatal(err)
	}
	rets, err := vm.CallValues(fn)
	if err != nil {
		t.Fatal(err)
	}
	cmp := rets[0].(*lua.LFunction)
	L := vm.L
	rng := rand.New(rand.NewSource(5))
	words := []string{"", "a", "web", "PENDING", "UNCHANGED", "0750", "a-rather-long-cell-name", "YES", "NO", "1/1000"}
	for iter := 0; iter < 400; iter++ {
		ncol := 1 + rng.Intn(6)
		cols := L.CreateTable(ncol, 0)
		for i := 0; i < ncol; i++ {
			c := L.CreateTable(0, 3)
			c.RawSetString("title", lua.LString(strings.ToUpper(words[rng.Intn(len(words))])+fmt.Sprint(i)))
			if rng.Intn(3) > 0 {
				c.RawSetString("min", lua.LNumber(rng.Intn(10)))
			}
			if rng.Intn(2) == 0 {
				c.RawSetString("shrink", lua.LTrue)
			}
			cols.Append(c)
		}
		nrow := rng.Intn(8)
		rows := L.CreateTable(nrow, 0)
		for r := 0; r < nrow; r++ {
			row := L.CreateTable(ncol, 0)
			for i := 1; i <= ncol; i++ {
				switch rng.Intn(8) {
				case 0: // nil
				case 1:
					row.RawSetInt(i, lua.LNumber(rng.Intn(5000)))
				case 2:
					row.RawSetInt(i, lua.LBool(rng.Intn(2) == 0))
				default:
					row.RawSetInt(i, lua.LString(words[rng.Intn(len(words))]))
				}
			}
			rows.Append(row)
		}
		var width lua.LValue = lua.LNil
		if rng.Intn(4) > 0 {
			width = lua.LNumber(rng.Intn(80))
		}
		out, err := vm.CallValues(cmp, cols, rows, width)
		if err != nil {
			t.Fatal(err)
		}
		if out[0].String() != out[1].String() {
			t.Fatalf("iteration %d (width %v): Go render\n%s\nLua render\n%s", iter, width, out[0], out[1])
		}
	}
}
