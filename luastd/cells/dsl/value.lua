-- cells.dsl.value: typed field checkers of action arguments. Each checker
-- takes (value, field record) and returns the normalised copy, or nil and
-- the error message. A field record is
-- { name, type, required, default, source, path, nonempty, message }. The copies are what the document keeps, so a table the
-- operator changes after the call cannot change the declared state.
local check = require("cells.dsl.check")
local site = require("cells.site")

local M = {}

local function templated(s) return s:find("{{", 1, true) ~= nil end

local function type_error(f, what)
  return nil, f[8] or ("key '" .. f[1] .. "' must be " .. what)
end

function M.string(v, f)
  if type(v) ~= "string" then return type_error(f, "string") end
  if f[6] and not templated(v) and v:sub(1, 1) ~= "/" then
    return nil, "target path must be absolute in apply action: " .. v
  end
  if f[7] and v == "" then return nil, "key '" .. f[1] .. "' must not be empty" end
  return v
end

function M.mode(v, f)
  if type(v) ~= "string" then return type_error(f, "string") end
  if not templated(v) and not (site.is_octal(v) and #v <= 4) then
    return nil, "invalid mode: " .. v
  end
  return v
end

local function ident(kind)
  return function(v, f)
    if type(v) ~= "string" then return type_error(f, "string") end
    if not templated(v) and v ~= "@run_uid" and v ~= "@run_gid" and not site.is_name(v) then
      return nil, "invalid " .. kind .. ": " .. v
    end
    return v
  end
end
M.owner = ident("owner")
M.group = ident("group")

function M.uint(v, f)
  if type(v) ~= "number" or v < 0 or v ~= math.floor(v) or v >= 2 ^ 53 then
    return type_error(f, "non-negative integer")
  end
  return v
end

function M.bool(v, f)
  if type(v) ~= "boolean" then return type_error(f, "boolean") end
  return v
end

function M.strings(v, f)
  if type(v) ~= "table" or not check.is_array(v) then
    return nil, "key '" .. f[1] .. "' must be array of strings"
  end
  local out = {}
  for i = 1, #v do
    if type(v[i]) ~= "string" then
      return nil, "key '" .. f[1] .. "': array item " .. i .. " must be string"
    end
    out[i] = v[i]
  end
  return out
end

function M.packages(v)
  if type(v) ~= "table" or not check.is_array(v) then
    return nil, "pkg action requires packages array"
  end
  if #v == 0 then return nil, "pkg action requires at least one package" end
  local out = {}
  for i = 1, #v do
    if type(v[i]) ~= "string" then return nil, "pkg list entries must be strings" end
    if v[i] == "" then return nil, "pkg list entries must not be empty" end
    out[i] = v[i]
  end
  return out
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) and (type(a) == "string" or type(a) == "number") then return a < b end
    return type(a) < type(b)
  end)
  return keys
end

function M.env(v)
  if type(v) ~= "table" then return nil, "env must be table" end
  local out = {}
  for _, k in ipairs(sorted_keys(v)) do
    local val = v[k]
    if type(k) ~= "string" or type(val) ~= "string" then
      return nil, "env keys and values must be strings"
    end
    if not site.is_env_name(k) then return nil, "invalid environment variable name: " .. k end
    out[k] = val
  end
  return out
end

-- is_from_env reports whether v is the table from_env() returns.
function M.is_from_env(v)
  if type(v) ~= "table" then return false end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  return n == 1 and type(v.__cellman_from_env) == "string"
end

function M.tokens(v)
  if type(v) ~= "table" then return nil, "template tokens must be table" end
  local out = {}
  for _, k in ipairs(sorted_keys(v)) do
    local val = v[k]
    if type(k) ~= "string" then return nil, "template token names must be strings" end
    if not site.is_token_name(k) then return nil, "invalid token name: " .. k end
    if type(val) == "string" then
      out[k] = val
    elseif M.is_from_env(val) and site.is_env_name(val.__cellman_from_env) then
      out[k] = { __cellman_from_env = val.__cellman_from_env }
    else
      return nil, "template token '" .. k .. "' must be string or from_env(\"ENV\")"
    end
  end
  return out
end

-- any accepts a canonical value tree: strings, integers (|n| < 2^53),
-- booleans, from_env() references, arrays and string-keyed tables, nested
-- at most 32 deep. Floats, functions and cycles are refused.
local function any(v, name, depth)
  if depth > 32 then return nil, "key '" .. name .. "': value nested too deeply" end
  local t = type(v)
  if t == "string" or t == "boolean" then return v end
  if t == "number" then
    if v ~= math.floor(v) or v <= -2 ^ 53 or v >= 2 ^ 53 then
      return nil, "key '" .. name .. "' must be an integer, got " .. tostring(v)
    end
    return v
  end
  if t ~= "table" then return nil, "key '" .. name .. "': unsupported value of type " .. t end
  if M.is_from_env(v) then
    if not site.is_env_name(v.__cellman_from_env) then
      return nil, "invalid environment variable name in from_env: " .. v.__cellman_from_env
    end
    return { __cellman_from_env = v.__cellman_from_env }
  end
  local out = {}
  if check.is_array(v) then
    for i = 1, #v do
      local c, err = any(v[i], name .. "[" .. i .. "]", depth + 1)
      if c == nil then return nil, err end
      out[i] = c
    end
    return out
  end
  for _, k in ipairs(sorted_keys(v)) do
    if type(k) ~= "string" then
      return nil, "key '" .. name .. "': table mixes array items and named keys"
    end
    local c, err = any(v[k], name .. "." .. k, depth + 1)
    if c == nil then return nil, err end
    out[k] = c
  end
  return out
end

function M.any(v, f) return any(v, f[1], 1) end

return M
