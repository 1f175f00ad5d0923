-- cells.dsl: the DSL of /etc/cellman/*.lua (cellman-spec(5)).
--
-- install(env) puts the builders into env (the globals of a DSL file):
-- cell volume host apply, the action helpers pkg exec dir line symlink copy
-- untar file patch template script, and from_env. Builders validate
-- strictly (unknown keys, types, values) and raise "<file>:<line>: ..."
-- errors naming the operator's call site. Every document is appended to
-- M.documents, which the Go loader decodes:
--
--   { "cell", name, file, line, autostart|nil, depends_on = {..},
--     mounts = {"src:/target:mode", ..}, healthcheck, create = {profile,
--     reserved_ports, rlimit_nofile, rlimit_as, rlimit_core}|nil,
--     supervise = {cmd, run_as, log = {facility, stdout_level, stderr_level, tag}|nil}|nil }
--   { "volume", name, file, line, mode }
--   { "apply", name, file, line, actions = { action documents } }
--
-- positional (names for reading only), with action documents as
-- cells.dsl.actions.validate returns them; spec/decode.go reads them.
--
-- The documents go to the calling VM's site.state().documents, not to a
-- table of this module: runtime shares one set of builders across the VMs
-- of the DSL files (see cells.dsl.actions), and install() returns the list.
local check = require("cells.dsl.check")
local site = require("cells.site")
local schema = require("cells.dsl.schema")
local mount = require("cells.dsl.mount")
local cell = require("cells.dsl.cell")
local actions = require("cells.dsl.actions")

local M = {}

M.actions = actions

local state = site.state

local function add(doc)
  local docs = state().documents
  docs[#docs + 1] = doc
  return doc
end

function M.cell(name, t)
  add(cell.build(name, t))
end

-- volume(name, {mode = ...}) declares a volume; volume(name, {target = ...})
-- builds a mount specification instead and declares nothing.
function M.volume(name, t)
  local ctx = check.here("volume '" .. tostring(name) .. "'")
  if type(name) ~= "string" then ctx[3] = nil; ctx:fail("volume name must be string") end
  if not site.is_name(name) then ctx[3] = nil; ctx:fail(check.name_message("volume", name)) end
  if t == nil then t = {} end
  if type(t) ~= "table" then ctx:fail("volume table expected, got " .. type(t)) end
  if t.target ~= nil then
    ctx[3] = "volume(\"" .. name .. "\") mount"
    return mount.build(ctx, name, t)
  end
  local bad = schema.unknown(t, schema.volume, "")
  if bad then ctx:fail(bad) end
  local mode
  if t.mode ~= nil then
    mode = check.tostr(t.mode)
    if mode == nil then ctx:fail("key 'mode' must be string") end
    local err = check.volume_mode(mode)
    if err then ctx:fail("mode: " .. err) end
  end
  add({ "volume", name, ctx[1], ctx[2], mode })
end

M.host = mount.host

-- apply(name, {a1, a2, ...}) or apply(name, {actions = {a1, ...}}).
function M.apply(name, t)
  local ctx = check.ctx("apply '" .. tostring(name) .. "'")
  if type(name) ~= "string" then ctx.what = nil; ctx:fail("apply name must be string") end
  if not site.is_name(name) then ctx.what = nil; ctx:fail(check.name_message("apply", name)) end
  if type(t) ~= "table" then ctx:fail("apply table expected, got " .. type(t)) end
  local list = t
  if t.actions ~= nil then
    list = t.actions
    if type(list) ~= "table" or not check.is_array(list) then
      ctx:fail("apply actions section must be array table when present")
    end
    local bad = schema.unknown(t, { "actions" }, "")
    if bad then ctx:fail(bad) end
  elseif not check.is_array(t) then
    local bad = schema.unknown(t, { "actions" }, "")
    ctx:fail(bad or "apply table must be an array of actions")
  end
  local docs = {}
  for i = 1, #list do
    docs[i] = actions.check(ctx, list[i], i)
  end
  add({ "apply", name, ctx.file, ctx.line, docs })
end

-- from_env("NAME") is a reference to an environment variable, resolved when
-- the action runs (template tokens).
function M.from_env(name)
  local ctx = check.ctx("from_env()")
  if not site.is_env_name(name) then
    ctx:fail("invalid environment variable name in from_env: " .. tostring(name))
  end
  return { __cellman_from_env = name }
end

M.builtins = require("cells.dsl.builtin").names

-- install puts the builders into env and returns the calling VM's
-- documents list.
function M.install(env)
  env.cell = M.cell
  env.volume = M.volume
  env.host = M.host
  env.apply = M.apply
  env.from_env = M.from_env
  -- Every registered kind: the built-ins, then the operator's own.
  local names = actions.names()
  for i = 1, #names do env[names[i]] = actions.builder(names[i]) end
  return state().documents
end

return M
