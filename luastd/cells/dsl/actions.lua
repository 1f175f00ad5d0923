-- cells.dsl.actions: the action registry. An operator registers a kind
-- with a definition table
--
--   { kind = "copy",
--     fields = { { name = "source", type = "string", required = true, source = true }, ... },
--     positional = { "source", "target" },   -- builder arguments, in order
--     options = { "mode", "owner", "group" }, -- keys of the trailing options table
--     deprecated = { key = "message" },       -- keys refused with a message
--     varargs = function(ctx, n, args) ... end, -- optional: a builder of its own
--   }
--
-- M.kinds maps each built-in kind to its specification in positional form;
-- the kinds registered in a VM are in that VM's site.state().kinds, which
-- lookups try first:
--
--   { fields, positional, options, deprecated, varargs }  -- any but fields may be nil
--
-- Nothing here changes a table of this module after prime(): runtime loads
-- the DSL once, primes it, and hands the same builder functions to every
-- DSL file VM (see runtime/load_shared.go). Everything a call produces or
-- records per VM (documents, helper sites, registered kinds) goes to the
-- calling VM's site.state().
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
local site = require("cells.site")
local schema = require("cells.dsl.schema")
local value = require("cells.dsl.value")
local builtin = require("cells.dsl.builtin")

local M = {}

local state = site.state

-- names returns the kind names: the built-ins, then the kinds registered in
-- the calling VM, in registration order.
function M.names()
  local names, custom = {}, state().names
  local b = builtin.names
  for i = 1, #b do names[i] = b[i] end
  for i = 1, #custom do names[#names + 1] = custom[i] end
  return names
end

-- type_names are the field types; each names its checker in cells.dsl.value.
local type_names = { "string", "mode", "owner", "group", "uint", "bool", "strings", "packages",
  "env", "tokens", "any" }

local function known_type(name)
  for i = 1, #type_names do
    if type_names[i] == name then return true end
  end
  return false
end

-- none stands for a definition's missing positional or options list; it is
-- never handed out, so nothing can change it.
local none = {}

-- Positions in a kind's specification (see M.kinds); KNOWN is added when
-- the specification is installed.
local FIELDS, POSITIONAL, OPTIONS, DEPRECATED, VARARGS, KNOWN = 1, 2, 3, 4, 5, 6

-- with_known adds to spec the keys an action table of the kind may have:
-- "kind", then the field names.
local function with_known(spec)
  local known = { "kind" }
  local fields = spec[FIELDS]
  for i = 1, #fields do known[i + 1] = fields[i][1] end
  spec[KNOWN] = known
  return spec
end

local only_keys = site.only_keys

-- unknown_key returns the error message for the first unknown key of the
-- action table t (see schema.unknown), or nil. The common case, every key
-- a field, is one call of the Go helper.
local function unknown_key(spec, t)
  if only_keys(t, spec[KNOWN]) then return nil end
  return schema.unknown(t, spec[KNOWN], "")
end

-- kinds maps a built-in kind name to its specification, built on first
-- use (a VM that loads this module for itself uses few kinds) or by prime().
M.kinds = setmetatable({}, {
  __index = function(t, kind)
    local spec = builtin.spec(kind)
    if not spec then return nil end
    rawset(t, kind, with_known(spec))
    return spec
  end,
})

-- prime builds every built-in specification now, so that later lookups only
-- read this module's tables.
function M.prime()
  local b = builtin.names
  for i = 1, #b do local _ = M.kinds[b[i]] end
end

-- lookup returns the specification of kind: built in, else registered in
-- the calling VM, else nil.
local function lookup(kind)
  return M.kinds[kind] or state().kinds[kind]
end

-- def_error raises msg about an action definition at the operator's
-- file:line (the first frame outside luastd).
local function def_error(msg)
  local file, line = site.where()
  check.raise(file, line, nil, msg)
end

local function field_record(kind, i, f)
  if type(f) ~= "table" or type(f.name) ~= "string" or not known_type(f.type) then
    def_error("action " .. kind .. ": field " .. i .. " needs a name and a known type")
  end
  return { f.name, f.type, f.required and true or nil, f.default, f.source and true or nil,
    f.path and true or nil, f.nonempty and true or nil, f.message }
end

-- register adds (or replaces) an operator's action kind, after checking
-- the definition, and returns it with its fields in record form. A
-- built-in kind cannot be replaced.
function M.register(def)
  if type(def) ~= "table" then def_error("action definition must be table") end
  local kind = def.kind
  if not site.is_token_name(kind) or kind == "kind" then
    def_error("action kind must match [A-Za-z0-9_]+: " .. tostring(kind))
  end
  if builtin.spec(kind) then def_error("action kind " .. kind .. " is built in") end
  if type(def.fields) ~= "table" or not check.is_array(def.fields) then
    def_error("action " .. kind .. ": fields must be an array of field tables")
  end
  local seen, records = {}, {}
  for i, f in ipairs(def.fields) do
    local r = field_record(kind, i, f)
    if r[1] == "kind" or seen[r[1]] then
      def_error("action " .. kind .. ": field name '" .. r[1] .. "' is reserved or duplicate")
    end
    seen[r[1]] = true
    records[i] = r
  end
  for _, list in ipairs({ def.positional or {}, def.options or {} }) do
    for _, n in ipairs(list) do
      if not seen[n] then
        def_error("action " .. kind .. ": builder names unknown field '" .. n .. "'")
      end
    end
  end
  def.fields = records
  def.positional = def.positional or {}
  def.options = def.options or {}
  def.deprecated = def.deprecated or {}
  local st = state()
  if st.kinds[kind] == nil then st.names[#st.names + 1] = kind end
  st.kinds[kind] = with_known({ records, def.positional, def.options, def.deprecated, def.varargs })
  return def
end

-- deprecated_key returns the message of the first deprecated key of t.
local function deprecated_key(spec, t)
  local dep = spec[DEPRECATED]
  if dep == nil then return nil end
  for k, msg in pairs(dep) do
    if t[k] ~= nil then return msg end
  end
  return nil
end

-- fail raises the error of the index-th action at file:line; the label is
-- built here, on failure only.
local function fail(file, line, ctx, index, kind, msg)
  local label = "action " .. tostring(index)
  if kind then label = label .. " (" .. kind .. ")" end
  check.raise(file, line, ctx.what, label .. ": " .. msg)
end

-- check checks the raw action table t, the index-th action of the apply
-- document named by ctx (a table with file, line, what and fail), and
-- returns the action document in the positional form apply() keeps:
--   { kind, file, line, { field = value, ... }, { source field, ... } | nil }
-- (see spec/decode.go). A table made by a helper carries the helper's
-- site, which errors name; a raw table is located at ctx. Error labels are
-- built only on failure: every DSL file runs this for each of its actions.
function M.check(ctx, t, index)
  local file, line = ctx.file, ctx.line
  if type(t) ~= "table" then fail(file, line, ctx, index, nil, "action must be table") end
  local s = state().sites[t]
  if s then file, line = s[1], s[2] end
  local kind = t.kind
  if kind == nil then fail(file, line, ctx, index, nil, "missing required key 'kind'") end
  if type(kind) ~= "string" then fail(file, line, ctx, index, nil, "key 'kind' must be string") end
  local spec = lookup(kind)
  if not spec then
    local msg = "unknown action kind: " .. kind
    local sug = schema.suggest(kind, M.names())
    if sug then msg = msg .. " (did you mean '" .. sug .. "'?)" end
    fail(file, line, ctx, index, nil, msg)
  end
  local dep = deprecated_key(spec, t)
  if dep then fail(file, line, ctx, index, kind, dep) end
  local bad = unknown_key(spec, t)
  if bad then fail(file, line, ctx, index, kind, bad) end
  local args, sources = {}, nil
  local fields = spec[FIELDS]
  for i = 1, #fields do
    local f = fields[i]
    local name = f[1]
    local v = t[name]
    if v == nil or (f[2] ~= "any" and not f[3] and type(v) == "table" and next(v) == nil) then
      if f[3] then fail(file, line, ctx, index, kind, "missing required key '" .. name .. "'") end
      v = f[4]
    else
      local out, err = value[f[2]](v, f)
      if out == nil then fail(file, line, ctx, index, kind, err) end
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
  return { kind, file, line, args, sources }
end

-- validate is check() returning the action document with names:
--   { kind = k, file = f, line = n, args = { field = value, ... }, sources = { field, ... } }
function M.validate(ctx, t, index)
  local d = M.check(ctx, t, index)
  return { kind = d[1], file = d[2], line = d[3], args = d[4], sources = d[5] }
end

-- builder returns the helper function of a kind: positional arguments fill
-- the positional fields, one more table argument holds the options. A kind
-- may instead provide varargs(ctx, n, args) returning the raw table.
function M.builder(kind)
  if type(kind) ~= "string" or lookup(kind) == nil then
    local file, line = site.where()
    check.raise(file, line, "builder()", "unknown action kind: " .. tostring(kind))
  end
  return function(...)
    local spec = lookup(kind)
    local file, line = site.where()
    local n = select("#", ...)
    local t
    local varargs = spec[VARARGS]
    if varargs then
      t = varargs(check.at(file, line, kind .. "()"), n, { ... })
    else
      local pos, options = spec[POSITIONAL] or none, spec[OPTIONS] or none
      local np = #pos
      local max = np + ((#options > 0) and 1 or 0)
      if n > max then
        check.raise(file, line, kind .. "()", kind .. " takes at most " .. max .. " arguments, got " .. n)
      end
      t = { kind = kind }
      -- Built-in kinds have at most two positional arguments: no select()
      -- calls for them.
      local a1, a2, a3 = ...
      local opts
      if np == 0 then
        opts = a1
      elseif np == 1 then
        t[pos[1]] = a1
        opts = a2
      elseif np == 2 then
        t[pos[1]] = a1
        t[pos[2]] = a2
        opts = a3
      else
        for i = 1, np do t[pos[i]] = (select(i, ...)) end
        opts = (select(np + 1, ...))
      end
      if opts ~= nil then
        if type(opts) ~= "table" then check.raise(file, line, kind .. "()", kind .. " options must be table") end
        local dep = deprecated_key(spec, opts)
        if dep then check.raise(file, line, kind .. "()", dep) end
        local bad = schema.unknown(opts, options, "")
        if bad then check.raise(file, line, kind .. "()", bad) end
        for k, v in pairs(opts) do t[k] = v end
      end
    end
    state().sites[t] = { file, line }
    return t
  end
end

return M
