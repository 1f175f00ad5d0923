-- cells.dsl.actions: the action registry. Every action kind, built-in or
-- registered by an operator, is a table
--
--   { kind = "copy",
--     fields = { { name = "source", type = "string", required = true, source = true }, ... },
--     positional = { "source", "target" },   -- builder arguments, in order
--     options = { "mode", "owner", "group" }, -- keys of the trailing options table
--     deprecated = { key = "message" },       -- keys refused with a message
--     -- the apply engine adds plan/run functions to the same table
--   }
--
-- validate() checks a raw action table { kind = "copy", source = ..., ... }
-- against the kind's fields; builders made by builder() produce raw tables,
-- so helper calls and raw tables go through the same checks.
local check = require("cells.dsl.check")
local schema = require("cells.dsl.schema")
local value = require("cells.dsl.value")

local M = {}

M.kinds = {}  -- kind name -> definition
M.names = {}  -- kind names in registration order
M.sites = {}  -- raw table built by a helper -> { file, line }

local types = {
  string = value.string, mode = value.mode, owner = value.owner, group = value.group,
  uint = value.uint, bool = value.bool, strings = value.strings, packages = value.packages,
  env = value.env, tokens = value.tokens, any = value.any,
}
M.types = types

-- register adds (or replaces) an action kind. It checks the definition
-- itself and returns it.
function M.register(def)
  if type(def) ~= "table" then error("action definition must be table", 2) end
  if not check.token_name(def.kind) or def.kind == "kind" then
    error("action kind must match [A-Za-z0-9_]+: " .. tostring(def.kind), 2)
  end
  if type(def.fields) ~= "table" or not check.is_array(def.fields) then
    error("action " .. def.kind .. ": fields must be an array of field tables", 2)
  end
  def.byname = {}
  def.keys = {}
  for i, f in ipairs(def.fields) do
    if type(f) ~= "table" or type(f.name) ~= "string" or not types[f.type] then
      error("action " .. def.kind .. ": field " .. i .. " needs a name and a known type", 2)
    end
    if f.name == "kind" or def.byname[f.name] then
      error("action " .. def.kind .. ": field name '" .. f.name .. "' is reserved or duplicate", 2)
    end
    def.byname[f.name] = f
    def.keys[#def.keys + 1] = f.name
  end
  for _, list in ipairs({ def.positional or {}, def.options or {} }) do
    for _, n in ipairs(list) do
      if not def.byname[n] then
        error("action " .. def.kind .. ": builder names unknown field '" .. n .. "'", 2)
      end
    end
  end
  def.deprecated = def.deprecated or {}
  if not M.kinds[def.kind] then M.names[#M.names + 1] = def.kind end
  M.kinds[def.kind] = def
  return def
end

local function is_empty_table(v)
  return type(v) == "table" and next(v) == nil
end

-- validate checks the raw action table t, the index-th action of the apply
-- document named by ctx, and returns the action document:
--   { kind = k, file = f, line = n, args = { field = value, ... }, sources = { field, ... } }
function M.validate(ctx, t, index)
  local base = ctx
  ctx = base:sub("action " .. tostring(index))
  if type(t) ~= "table" then ctx:fail("action must be table") end
  local kind = t.kind
  if kind == nil then ctx:fail("missing required key 'kind'") end
  if type(kind) ~= "string" then ctx:fail("key 'kind' must be string") end
  local def = M.kinds[kind]
  if not def then
    local msg = "unknown action kind: " .. kind
    local s = schema.suggest(kind, M.names)
    if s then msg = msg .. " (did you mean '" .. s .. "'?)" end
    ctx:fail(msg)
  end
  ctx = base:sub("action " .. tostring(index) .. " (" .. kind .. ")")
  local known = { "kind" }
  for _, k in ipairs(def.keys) do known[#known + 1] = k end
  for k in pairs(t) do
    if type(k) == "string" and def.deprecated[k] then ctx:fail(def.deprecated[k]) end
  end
  local bad = schema.unknown(t, known, "")
  if bad then ctx:fail(bad) end
  local args, sources = {}, {}
  for _, f in ipairs(def.fields) do
    local v = t[f.name]
    if v == nil or (is_empty_table(v) and not f.required and f.type ~= "any") then
      if f.required then ctx:fail("missing required key '" .. f.name .. "'") end
      v = f.default
    else
      local out, err = types[f.type](v, f)
      if out == nil then ctx:fail(err) end
      v = out
    end
    args[f.name] = v
    if f.source and v ~= nil then sources[#sources + 1] = f.name end
  end
  return { kind = kind, file = ctx.file, line = ctx.line, args = args, sources = sources }
end

-- builder returns the helper function of a kind: positional arguments fill
-- def.positional, one more table argument holds def.options.
function M.builder(kind)
  local def = M.kinds[kind]
  return function(...)
    local ctx = check.ctx(kind .. "()")
    local n = select("#", ...)
    local args = { ... }
    local np = #def.positional
    local t = { kind = kind }
    if def.varargs then
      t = def.varargs(ctx, n, args)
      M.sites[t] = { ctx.file, ctx.line }
      return t
    end
    local max = np + ((def.options and #def.options > 0) and 1 or 0)
    if n > max then ctx:fail(kind .. " takes at most " .. max .. " arguments, got " .. n) end
    for i, name in ipairs(def.positional) do t[name] = args[i] end
    local opts = args[np + 1]
    if opts ~= nil then
      if type(opts) ~= "table" then ctx:fail(kind .. " options must be table") end
      for k in pairs(opts) do
        if type(k) == "string" and def.deprecated[k] then ctx:fail(def.deprecated[k]) end
      end
      local bad = schema.unknown(opts, def.options, "")
      if bad then ctx:fail(bad) end
      for k, v in pairs(opts) do t[k] = v end
    end
    M.sites[t] = { ctx.file, ctx.line }
    return t
  end
end

require("cells.dsl.builtin")(M)

return M
