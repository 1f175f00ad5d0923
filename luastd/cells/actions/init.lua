-- cells.actions: the runtime half of the action kinds (see
-- notes/apply-contract.md). Each kind is a table
--   { kind = "<kind>",
--     describe = function(ctx, args) -> the verbose log line, e.g. "file /etc/motd",
--     run = function(ctx, args) -- raises error(msg, 0) on failure }
-- The built-in kinds live in cells/actions/<kind>.lua, one file each.
--
-- get(kind) returns a kind (built-ins first, then registered ones).
-- register{ kind =, fields =, positional =, options =, deprecated =,
--           varargs =, describe =, run = } adds an operator's kind: the DSL
-- half (fields, builder shape: validated by cells.dsl.actions.register) and
-- the runtime half (describe, run), in one call. Fields are tables
-- { name =, type =, required =, default =, source =, path =, nonempty =,
-- message = } (types: string mode owner group uint bool strings packages
-- env tokens any). Arguments reach run() validated, unrendered: render
-- them with ctx:render / ctx:target / ctx:source.
local M = {}

M.builtin = { "pkg", "exec", "dir", "line", "symlink", "copy", "untar", "file", "patch",
  "template", "script" }

local is_builtin = {}
for _, k in ipairs(M.builtin) do is_builtin[k] = true end

local custom = {}

function M.get(kind)
  if is_builtin[kind] then return require("cells.actions." .. kind) end
  return custom[kind]
end

local function copy_fields(fields)
  if type(fields) ~= "table" then return fields end
  local out = {}
  for i, f in ipairs(fields) do
    if type(f) == "table" then
      local c = {}
      for k, v in pairs(f) do c[k] = v end
      out[i] = c
    else
      out[i] = f
    end
  end
  return out
end

-- fail raises msg at the operator's file:line (the first frame outside
-- luastd), as DSL errors do.
local function fail(msg)
  local file, line = require("cells.site").where()
  error(file .. ":" .. line .. ": " .. msg, 0)
end

function M.register(def)
  if type(def) ~= "table" then fail("action definition must be table") end
  local kind = def.kind
  if type(kind) ~= "string" then fail("action kind must be string") end
  if is_builtin[kind] then fail("action kind " .. kind .. " is built in") end
  if type(def.run) ~= "function" then fail("action " .. kind .. ": run must be function") end
  if def.describe ~= nil and type(def.describe) ~= "function" then
    fail("action " .. kind .. ": describe must be function")
  end
  -- The DSL registry turns fields into its record form: give it a copy.
  require("cells.dsl.actions").register {
    kind = kind, fields = copy_fields(def.fields), positional = def.positional,
    options = def.options, deprecated = def.deprecated, varargs = def.varargs,
  }
  local rt = { kind = kind, describe = def.describe, run = def.run }
  custom[kind] = rt
  return rt
end

return M
