package spec

import (
	"reflect"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// docsFrom evaluates a Lua expression into a documents table, as the DSL
// would leave it, so the Go decoder's own checks can be exercised. The
// expression writes documents with named fields, for reading; positional
// turns them into the positional form of the DSL (Decode's field order),
// leaving any other key as it is.
func docsFrom(t *testing.T, expr string) *lua.LTable {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	if err := L.DoString(positional + "docs = convert(" + expr + ")"); err != nil {
		t.Fatal(err)
	}
	return L.GetGlobal("docs").(*lua.LTable)
}

const positional = `
local F = {
  head = { "kind", "name", "file", "line" },
  cell = { "kind", "name", "file", "line", "autostart", "depends_on", "mounts", "healthcheck", "create", "supervise" },
  volume = { "kind", "name", "file", "line", "mode" },
  apply = { "kind", "name", "file", "line", "actions" },
  create = { "profile", "reserved_ports", "rlimit_nofile", "rlimit_as", "rlimit_core" },
  supervise = { "cmd", "run_as", "log" },
  log = { "facility", "stdout_level", "stderr_level", "tag" },
  action = { "kind", "file", "line", "args", "sources" },
}
local function pos(t, fields, sub)
  if type(t) ~= "table" then return t end
  local out = {}
  for k, v in pairs(t) do
    local idx
    for i, f in ipairs(fields) do if f == k then idx = i end end
    if idx then
      if sub and sub[k] then v = sub[k](v) end
      out[idx] = v
    else
      out[k] = v
    end
  end
  return out
end
local cell_sub = {
  create = function(v) return pos(v, F.create) end,
  supervise = function(v) return pos(v, F.supervise, { log = function(l) return pos(l, F.log) end }) end,
}
local apply_sub = {
  actions = function(list)
    if type(list) ~= "table" then return list end
    local out = {}
    for k, a in pairs(list) do out[k] = pos(a, F.action) end
    return out
  end,
}
function convert(docs)
  local out = {}
  for k, d in pairs(docs) do
    if type(d) == "table" then
      local kind = d.kind
      if kind == "cell" then d = pos(d, F.cell, cell_sub)
      elseif kind == "apply" then d = pos(d, F.apply, apply_sub)
      elseif kind == "volume" then d = pos(d, F.volume)
      else d = pos(d, F.head) end
    end
    out[k] = d
  end
  return out
end
`

func TestDecodeErrors(t *testing.T) {
	const site = `file = "f.lua", line = 3, `
	for _, tc := range []struct{ name, expr, want string }{
		{"not array", `{ x = 1 }`, "documents: expected array table"},
		{"item type", `{ 1 }`, "documents: item 1 is not a table"},
		{"kind", `{ { ` + site + `kind = "service", name = "x" } }`, `f.lua:3: service 'x': key 'kind': unknown document kind "service"`},
		{"missing name", `{ { ` + site + `kind = "cell" } }`, `f.lua:3: document 1: key 'name': missing`},
		{"line", `{ { file = "f.lua", line = 1.5, kind = "cell", name = "x" } }`, `f.lua:0: document 1: key 'line': expected a line number`},
		{"cell unknown", `{ { ` + site + `kind = "cell", name = "x", bogus = 1 } }`, `f.lua:3: cell 'x': key 'bogus': is unknown`},
		{"cell extra position", `{ { ` + site + `kind = "cell", name = "x", [11] = 1 } }`, `f.lua:3: cell 'x': key '[11]': is unknown`},
		{"cell autostart", `{ { ` + site + `kind = "cell", name = "x", autostart = "yes" } }`, `f.lua:3: cell 'x': key 'autostart': must be boolean`},
		{"cell deps", `{ { ` + site + `kind = "cell", name = "x", depends_on = { 1 } } }`, `f.lua:3: cell 'x': key 'depends_on': array item 1 must be string`},
		{"cell deps holes", `{ { ` + site + `kind = "cell", name = "x", depends_on = { [2] = "a" } } }`, `f.lua:3: cell 'x': key 'depends_on': expected array table`},
		{"cell mount", `{ { ` + site + `kind = "cell", name = "x", mounts = { "a:/dev" } } }`, `f.lua:3: cell 'x': key 'mounts': mount target is not allowed: /dev`},
		{"create type", `{ { ` + site + `kind = "cell", name = "x", create = 1 } }`, `f.lua:3: cell 'x': key 'create': expected table, got number`},
		{"create unknown", `{ { ` + site + `kind = "cell", name = "x", create = { cpu = "1" } } }`, `f.lua:3: cell 'x': key 'create.cpu': is unknown`},
		{"create value", `{ { ` + site + `kind = "cell", name = "x", create = { profile = 1 } } }`, `f.lua:3: cell 'x': key 'create.profile': expected string, got number`},
		{"log unknown", `{ { ` + site + `kind = "cell", name = "x", supervise = { log = { x = "1" } } } }`, `f.lua:3: cell 'x': key 'supervise.log.x': is unknown`},
		{"volume unknown", `{ { ` + site + `kind = "volume", name = "v", size = "1G" } }`, `f.lua:3: volume 'v': key 'size': is unknown`},
		{"apply actions", `{ { ` + site + `kind = "apply", name = "a" } }`, `f.lua:3: apply 'a': key 'actions': expected array table, got nil`},
		{"action type", `{ { ` + site + `kind = "apply", name = "a", actions = { 1 } } }`, `f.lua:3: apply 'a': key 'actions': action 1 must be table`},
		{"action float", `{ { ` + site + `kind = "apply", name = "a", actions = { { kind = "x", file = "f.lua", line = 4, args = { n = 1.5 } } } } }`,
			`f.lua:4: apply 'a': action 1 (x): key 'args': n: number 1.5 is not an integer`},
		{"action huge", `{ { ` + site + `kind = "apply", name = "a", actions = { { kind = "x", file = "f.lua", line = 4, args = { n = 2^53 } } } } }`,
			`f.lua:4: apply 'a': action 1 (x): key 'args': n: integer 9007199254740992 is out of range (|n| < 2^53)`},
		{"action function", `{ { ` + site + `kind = "apply", name = "a", actions = { { kind = "x", file = "f.lua", line = 4, args = { f = print } } } } }`,
			`f.lua:4: apply 'a': action 1 (x): key 'args': f: unsupported value of type function`},
		{"action mixed", `{ { ` + site + `kind = "apply", name = "a", actions = { { kind = "x", file = "f.lua", line = 4, args = { l = { 1, x = 2 } } } } } }`,
			`f.lua:4: apply 'a': action 1 (x): key 'args': l: table mixes array items and named keys`},
		{"action args list", `{ { ` + site + `kind = "apply", name = "a", actions = { { kind = "x", file = "f.lua", line = 4, args = { 1 } } } } }`,
			`f.lua:4: apply 'a': action 1 (x): key 'args': expected table of named fields`},
		{"action from_env", `{ { ` + site + `kind = "apply", name = "a", actions = { { kind = "x", file = "f.lua", line = 4, args = { e = { __cellman_from_env = "1X" } } } } } }`,
			`f.lua:4: apply 'a': action 1 (x): key 'args': e: invalid environment variable name in from_env: 1X`},
		{"action sources", `{ { ` + site + `kind = "apply", name = "a", actions = { { kind = "x", file = "f.lua", line = 4, args = { s = 1 }, sources = { "s" } } } } }`,
			`f.lua:4: apply 'a': action 1 (x): key 'sources': field 's' is not a string argument`},
		{"action unknown", `{ { ` + site + `kind = "apply", name = "a", actions = { { kind = "x", file = "f.lua", line = 4, args = {}, extra = 1 } } } }`,
			`f.lua:4: apply 'a': action 1 (x): key 'extra': is unknown`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(docsFrom(t, tc.expr))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestDecodeCycleIsBounded(t *testing.T) {
	docs := docsFrom(t, `(function() local c = {} c.c = c return { { file = "f.lua", line = 1, kind = "apply", name = "a",
		actions = { { kind = "x", file = "f.lua", line = 1, args = { c = c } } } } } end)()`)
	_, err := Decode(docs)
	if err == nil {
		t.Fatal("a cyclic value decoded")
	}
}

func TestDecodeValues(t *testing.T) {
	docs := docsFrom(t, `{ { file = "f.lua", line = 1, kind = "apply", name = "a", actions = {
		{ kind = "custom", file = "f.lua", line = 2, args = {
			s = "x", i = -3, b = true, l = { "a", 2, false }, m = { z = 1, a = { "n" } }, e = { __cellman_from_env = "HOME" }, empty = {} } } } } }`)
	st, err := Decode(docs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Value{
		"s": String("x"), "i": Int(-3), "b": Bool(true),
		"l": List{String("a"), Int(2), Bool(false)},
		"m": Map{"z": Int(1), "a": List{String("n")}},
		"e": FromEnv("HOME"), "empty": List{},
	}
	if got := st.Applies[0].Actions[0].Args; !reflect.DeepEqual(got, want) {
		t.Fatalf("args = %#v\nwant %#v", got, want)
	}
}
