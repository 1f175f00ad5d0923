package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"cells/spec"
)

// TestSharedDSLConcurrent loads many files that use every builder, in
// parallel VMs sharing the DSL builders, and expects what sequential VMs
// with their own builders give. Run it with -race: a shared table written
// by a call would show there.
func TestSharedDSLConcurrent(t *testing.T) {
	dir := t.TempDir()
	n := 0
	for i := 0; i < 8; i++ {
		for _, src := range loadSeeds {
			// Only seeds that load alone; names made unique per copy.
			if _, err := loadSource("seed.lua", []byte(src), loadOptions{}); err != nil {
				continue
			}
			p := fmt.Sprintf("n%d", n)
			src = strings.NewReplacer(`cell("`, `cell("`+p, `apply("`, `apply("`+p, `volume("data", { mode`, `volume("`+p+`data", { mode`, `"c" ..`, `"`+p+`c" ..`).Replace(src)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d.lua", n)), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	want, err := loadState(dir, loadOptions{workers: 1, ownDSL: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Cells) == 0 || len(want.Applies) == 0 || len(want.Volumes) == 0 {
		t.Fatalf("seeds declare %d cells, %d applies, %d volumes", len(want.Cells), len(want.Applies), len(want.Volumes))
	}
	for round := 0; round < 3; round++ {
		got, err := loadState(dir, loadOptions{workers: 8})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: parallel load with shared builders differs", round)
		}
	}
}

// TestSharedDSLIsolation: what one file does to the builders it was given,
// or to the DSL state it can reach, is not seen by the next file.
func TestSharedDSLIsolation(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.lua": `
local acts = require("cells.dsl.actions")
acts.register({ kind = "mine", fields = { { name = "v", type = "string" } }, positional = { "v" } })
require("cells.site").state().kinds.other = { {} }
require("cells.dsl").cell = nil
local f = file("/etc/x", "y")
f.mode = "0600"
setmetatable(cell, { __index = function() return 1 end }) -- this state's function metatable
assert(cell.x == 1)
assert(getfenv == nil and setfenv == nil)
local m = acts.builder("mine")("v")
-- The shared builders do not run on this state's globals.
type, pairs, error, string = nil, nil, nil, nil
apply("a", { m, f })
cell("a", {})
`,
		"b.lua": `
apply("b", { file("/etc/x", "y") })
cell("b", {})
assert(type(mine) == "nil" and getmetatable(cell) == nil)
local ok, err = pcall(apply, "c", { { kind = "mine", v = "x" } })
assert(not ok and err:find("unknown action kind: mine", 1, true), err)
ok, err = pcall(apply, "d", { { kind = "other" } })
assert(not ok and err:find("unknown action kind: other", 1, true), err)
`,
	})
	st, err := loadState(dir, loadOptions{workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	a, b := st.Apply("a"), st.Apply("b")
	if a == nil || b == nil || len(a.Actions) != 2 || a.Actions[0].Kind != "mine" || a.Actions[1].Kind != "file" || a.Actions[1].Args["mode"] != spec.String("0600") {
		t.Fatalf("applies: %+v %+v", a, b)
	}
	if len(b.Actions) != 1 || b.Actions[0].Kind != "file" || b.Actions[0].Args["mode"] != nil {
		t.Fatalf("apply b: %+v", b.Actions)
	}
}

// TestSharedDSLCustomActions: kinds from <DSL dir>/actions get builder
// globals in every file and validate through the shared builders, as with
// a VM that loads its own DSL; a file's globals do not change them.
func TestSharedDSLCustomActions(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"actions/greet.lua": `require("cells.actions").register {
  kind = "greet",
  fields = { { name = "who", type = "string", required = true }, { name = "mode", type = "mode" } },
  positional = { "who" },
  options = { "mode" },
  run = function() end,
}`,
		"a.lua": `type = nil apply("a", { greet("x", { mode = "0600" }), file("/f", "c") })`,
		"b.lua": `apply("b", { { kind = "greet", who = "y" } })`,
	})
	shared, err := loadState(dir, loadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadState(dir, loadOptions{ownDSL: true}); err == nil {
		t.Fatalf("a VM with its own DSL reads the file's globals: type = nil must break it")
	}
	a := shared.Apply("a")
	if a == nil || len(a.Actions) != 2 || a.Actions[0].Kind != "greet" || a.Actions[0].Args["mode"] != spec.String("0600") {
		t.Fatalf("apply a: %+v", a)
	}
	writeFiles(t, dir, map[string]string{"a.lua": `apply("a", { greet("x", { mode = "0600" }), file("/f", "c") })`})
	shared, err = loadState(dir, loadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	own, err := loadState(dir, loadOptions{ownDSL: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shared, own) {
		t.Fatal("shared and own builders differ with custom actions")
	}
}

// TestSharedDSLNames: the globals cells.dsl installs are the ones every
// VM has room for (dslGlobalNames), and a VM without the DSL sees none of
// them.
func TestSharedDSLNames(t *testing.T) {
	entries, err := sharedDSL()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.name)
	}
	sort.Strings(got)
	want := append([]string(nil), dslGlobalNames...)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("cells.dsl installs %v; dslGlobalNames has %v", got, want)
	}
	out, err := runChunk(t, VMOptions{}, "g.lua", `local n = 0 for k in pairs(_G) do if k == "cell" or k == "file" then n = n + 1 end end print(n, cell, rawget(_G, "file"))`)
	if err != nil || out != "0\tnil\tnil\n" {
		t.Fatalf("a VM without the DSL: %q %v", out, err)
	}
}
