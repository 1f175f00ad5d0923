package runtime

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestCloneTable: a clone has the contents, pairs() order and metatable of
// its template, and shares no storage with it.
func TestCloneTable(t *testing.T) {
	if !canCloneTables {
		t.Fatal("ltable no longer mirrors gopher-lua's LTable: update it (NewVM falls back to filling tables)")
	}
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(`tmpl = setmetatable({ 10, 20, b = 1, a = 2, [true] = 3, [1.5] = 4 }, { m = 1 })`); err != nil {
		t.Fatal(err)
	}
	tmpl := L.GetGlobal("tmpl").(*lua.LTable)
	c := cloneTable(tmpl)
	L.SetGlobal("c", c)
	out := func(expr string) string {
		t.Helper()
		if err := L.DoString(`r = ` + expr); err != nil {
			t.Fatal(err)
		}
		return L.GetGlobal("r").String()
	}
	order := `(function(t) local s = "" for k, v in pairs(t) do s = s .. tostring(k) .. "=" .. tostring(v) .. " " end return s end)`
	if a, b := out(order+"(tmpl)"), out(order+"(c)"); a != b {
		t.Fatalf("pairs order: template %q, clone %q", a, b)
	}
	if out(`getmetatable(c) == getmetatable(tmpl)`) != "true" {
		t.Fatal("metatable not kept")
	}
	L.DoString(`c.a = 9 c[3] = 30 c.z = 1 c[true] = nil tmpl.b = 7`)
	if got := out(order + "(tmpl)"); got != "1=10 2=20 b=7 a=2 true=3 1.5=4 " {
		t.Fatalf("template changed through the clone: %q", got)
	}
	if got := out(`tostring(c.a) .. tostring(c.b) .. tostring(c[3]) .. tostring(c.z) .. tostring(c[true])`); got != "91301nil" {
		t.Fatalf("clone: %q", got)
	}
}
