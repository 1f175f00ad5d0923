-- cells.dsl.actions: the action registry. Every action kind, built-in or
-- registered by an operator, is a table
--
--   { kind = "copy",
--     fields = { { name = "source", type = "string", required = true, source = true }, ... },
--     positional = { "source", "target" },   -- builder arguments, in order
--     options = { "mode", "owner", "group" }, -- keys of the trailing options table
--     deprecated = { key = "message" },       -- keys refused with a message
--     varargs = function(ctx, n, args) ... end, -- optional: a builder of its own
--     -- the apply engine adds plan/run functions to the same table
--   }
--
-- Field types: string mode owner group uint bool strings packages env
-- tokens any (cells.dsl.value). Field flags: required, default, source (a
-- host file whose bytes are part of the apply hash), path (an absolute path
-- inside the cell), nonempty, message (the error for a wrong type).
-- register() turns each field into the record form
-- { name, type, required, default, source, path, nonempty, message }.
--
-- validate() checks a raw action table { kind = "copy", source = ..., ... }
-- against the kind's fields; builders made by builder() produce raw tables,
-- so helper calls and raw tables go through the same checks.
local check = require("cells.dsl.check")
local schema = require("cells.dsl.schema")
local value = require("cells.dsl.value")
local builtin = require("cells.dsl.builtin")

local M = {}

M.sites = {}  -- raw table built by a helper -> { file, line }
M.names = {}  -- kind names, built-ins first, then in registration order
for i, k in ipairs(builtin.names) do M.names[i] = k end

M.types = {
  string = value.string, mode = value.mode, owner = value.owner, group = value.group,
  uint = value.uint, bool = value.bool, strings = value.strings, packages = value.packages,
  env = value.env, tokens = value.tokens, any = value.any,
}

local registered = {}

-- finish fills the derived parts of a definition whose fields are records.
local function finish(def)
  def.known = { "kind" }
  for i, f in ipairs(def.fields) do def.known[i + 1] = f[1] end
  def.positional = def.positional or {}
  def.options = def.options or {}
  def.deprecated = def.deprecated or {}
  registered[def.kind] = true
  return def
end

-- kinds maps a kind name to its definition. Built-in definitions are built
-- on first use: each DSL file runs in a fresh VM, and most use few kinds.
M.kinds = setmetatable({}, {
  __index = function(t, kind)
    local make = builtin.defs[kind]
    if not make or registered[kind] then return nil end
    local def = finish(make())
    rawset(t, kind, def)
    return def
  end,
})

local function field_record(kind, i, f)
  if type(f) ~= "table" or type(f.name) ~= "string" or not M.types[f.type] then
    error("action " .. kind .. ": field " .. i .. " needs a name and a known type", 3)
  end
  return { f.name, f.type, f.required and true or nil, f.default, f.source and true or nil,
    f.path and true or nil, f.nonempty and true or nil, f.message }
end

-- register adds (or replaces) an action kind, after checking the
-- definition, and returns it with its fields in record form.
function M.register(def)
  if type(def) ~= "table" then error("action definition must be table", 2) end
  local kind = def.kind
  if not check.token_name(kind) or kind == "kind" then
    error("action kind must match [A-Za-z0-9_]+: " .. tostring(kind), 2)
  end
  if type(def.fields) ~= "table" or not check.is_array(def.fields) then
    error("action " .. kind .. ": fields must be an array of field tables", 2)
  end
  local seen, records = {}, {}
  for i, f in ipairs(def.fields) do
    local r = field_record(kind, i, f)
    if r[1] == "kind" or seen[r[1]] then
      error("action " .. kind .. ": field name '" .. r[1] .. "' is reserved or duplicate", 2)
    end
    seen[r[1]] = true
    records[i] = r
  end
  for _, list in ipairs({ def.positional or {}, def.options or {} }) do
    for _, n in ipairs(list) do
      if not seen[n] then
        error("action " .. kind .. ": builder names unknown field '" .. n .. "'", 2)
      end
    end
  end
  def.fields = records
  if not builtin.defs[kind] and not registered[kind] then M.names[#M.names + 1] = kind end
  finish(def)
  rawset(M.kinds, kind, def)
  return def
end

local function deprecated_key(def, t)
  for k, msg in pairs(def.deprecated) do
    if t[k] ~= nil then return msg end
  end
  return nil
end

-- validate checks the raw action table t, the index-th action of the apply
-- document named by ctx (a table with file, line, what and fail), and
-- returns the action document:
--   { kind = k, file = f, line = n, args = { field = value, ... }, sources = { field, ... } }
-- A table made by a helper carries the helper's site, which errors name;
-- a raw table is located at ctx. Error labels are built only on failure:
-- every DSL file runs this for each of its actions.
function M.validate(ctx, t, index)
  local s = type(t) == "table" and M.sites[t]
  local file, line = ctx.file, ctx.line
  if s then file, line = s[1], s[2] end
  local function fail(kind, msg)
    local label = "action " .. tostring(index)
    if kind then label = label .. " (" .. kind .. ")" end
    check.raise(file, line, ctx.what, label .. ": " .. msg)
  end
  if type(t) ~= "table" then fail(nil, "action must be table") end
  local kind = t.kind
  if kind == nil then fail(nil, "missing required key 'kind'") end
  if type(kind) ~= "string" then fail(nil, "key 'kind' must be string") end
  local def = M.kinds[kind]
  if not def then
    local msg = "unknown action kind: " .. kind
    local sug = schema.suggest(kind, M.names)
    if sug then msg = msg .. " (did you mean '" .. sug .. "'?)" end
    fail(nil, msg)
  end
  if next(def.deprecated) ~= nil then
    local dep = deprecated_key(def, t)
    if dep then fail(kind, dep) end
  end
  local bad = schema.unknown(t, def.known, "")
  if bad then fail(kind, bad) end
  local args, sources = {}, nil
  local types = M.types
  for _, f in ipairs(def.fields) do
    local name = f[1]
    local v = t[name]
    if v == nil or (f[2] ~= "any" and not f[3] and type(v) == "table" and next(v) == nil) then
      if f[3] then fail(kind, "missing required key '" .. name .. "'") end
      v = f[4]
    else
      local out, err = types[f[2]](v, f)
      if out == nil then fail(kind, err) end
      v = out
    end
    if v ~= nil then
      args[name] = v
      if f[5] then
        sources = sources or {}
        sources[#sources + 1] = name
      end
    end
  end
  return { kind = kind, file = file, line = line, args = args, sources = sources }
end

-- builder returns the helper function of a kind: positional arguments fill
-- def.positional, one more table argument holds def.options. A definition
-- may instead provide varargs(ctx, n, args) returning the raw table.
function M.builder(kind)
  return function(...)
    local def = M.kinds[kind]
    local file, line = check.where()
    local n = select("#", ...)
    local t
    if def.varargs then
      t = def.varargs(check.at(file, line, kind .. "()"), n, { ... })
    else
      local np = #def.positional
      local max = np + ((#def.options > 0) and 1 or 0)
      if n > max then
        check.raise(file, line, kind .. "()", kind .. " takes at most " .. max .. " arguments, got " .. n)
      end
      t = { kind = kind }
      local pos = def.positional
      for i = 1, np do t[pos[i]] = (select(i, ...)) end
      local opts = (select(np + 1, ...))
      if opts ~= nil then
        if type(opts) ~= "table" then check.raise(file, line, kind .. "()", kind .. " options must be table") end
        if next(def.deprecated) ~= nil then
          local dep = deprecated_key(def, opts)
          if dep then check.raise(file, line, kind .. "()", dep) end
        end
        local bad = schema.unknown(opts, def.options, "")
        if bad then check.raise(file, line, kind .. "()", bad) end
        for k, v in pairs(opts) do t[k] = v end
      end
    end
    M.sites[t] = { file, line }
    return t
  end
end

return M
