-- cells.dsl.check: value checkers of the DSL. Each checker returns nil when
-- the value is valid, else the error message (upstream's wording where
-- upstream has one). ctx() captures the operator's call site so that fail()
-- raises "<file>:<line>: <what>: <message>".
local site = require("cells.site")

local M = {}

local Ctx = {}
Ctx.__index = Ctx

-- ctx returns an error context for the document or action `what`
-- ("cell 'web'"), located at the innermost operator (non-luastd) frame.
function M.ctx(what)
  local file, line = site.where()
  return setmetatable({ file = file, line = line, what = what }, Ctx)
end

-- at returns a context at an explicit site.
function M.at(file, line, what)
  return setmetatable({ file = file, line = line, what = what }, Ctx)
end

-- sub returns a context for a part of this one ("action 2 (copy)").
function Ctx:sub(what)
  return setmetatable({ file = self.file, line = self.line, what = self.what .. ": " .. what }, Ctx)
end

-- fail raises the error; level 0 keeps Lua from prepending a luastd position.
function Ctx:fail(msg)
  local prefix = self.file .. ":" .. tostring(self.line) .. ": "
  if self.what and self.what ~= "" then prefix = prefix .. self.what .. ": " end
  error(prefix .. msg, 0)
end

-- Names of cells, volumes, applies and depends_on entries.
function M.name(s)
  return type(s) == "string" and s ~= "" and not s:find("[^A-Za-z0-9._-]")
end

function M.name_message(kind, s)
  return "invalid " .. kind .. " name '" .. tostring(s) .. "' (allowed: A-Za-z0-9._-)"
end

-- is_array reports whether t has exactly the keys 1..n (n may be 0).
function M.is_array(t)
  local n = #t
  local count = 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k > n or k ~= math.floor(k) then return false end
    count = count + 1
  end
  return count == n
end

-- tostr converts a string-typed key's value as upstream's lua_isstring does:
-- strings pass, numbers become their decimal text (integral numbers without
-- a fraction). Returns nil for other types.
function M.tostr(v)
  if type(v) == "string" then return v end
  if type(v) == "number" then
    if v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then
      return string.format("%d", v)
    end
    return tostring(v)
  end
  return nil
end

local profiles = { low = true, medium = true, high = true }

function M.profile(s)
  if profiles[s] then return nil end
  return "invalid profile '" .. s .. "' (expected low|medium|high)"
end

function M.ports(s)
  local seen, n = {}, 0
  for tok in (s .. ","):gmatch("([^,]*),") do
    if not tok:match("^[0-9]+$") or #tok > 5 then
      return "invalid reserved port: " .. tok
    end
    local p = tonumber(tok)
    if p < 1 or p > 65535 then return "invalid reserved port: " .. tok end
    if seen[p] then return "duplicate reserved port: " .. tostring(p) end
    seen[p] = true
    n = n + 1
    if n > 32 then return "too many reserved ports (max 32)" end
  end
  return nil
end

-- rlimit accepts "unlimited" or a decimal that fits in 64 bits.
function M.rlimit(which, s)
  if s == "unlimited" then return nil end
  if s:match("^[0-9]+$") and (#s < 20 or (#s == 20 and s <= "18446744073709551615")) then
    return nil
  end
  return "invalid rlimit " .. which .. ": " .. s
end

local facilities = {}
for _, f in ipairs({ "auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail",
  "news", "syslog", "user", "uucp", "local0", "local1", "local2", "local3", "local4",
  "local5", "local6", "local7" }) do
  facilities[f] = true
end

function M.facility(s)
  if facilities[s] then return nil end
  return "invalid log facility: " .. s
end

local levels = { emerg = true, alert = true, crit = true, err = true, warning = true,
  notice = true, info = true, debug = true }

function M.level(s)
  if levels[s] then return nil end
  if s:match("^[0-9]+$") then
    if tonumber(s) <= 7 then return nil end
    return "log level out of range: " .. s
  end
  return "invalid log level: " .. s
end

function M.tag(s)
  if #s >= 1 and #s <= 63 and not s:find("[%c]") then return nil end
  return "invalid log tag"
end

-- run_as checks the syntax of host:user[:group], cell:user[:group] and
-- uid:uid[:gid]; resolving the names happens when the cell starts.
function M.run_as(s)
  local generic = "invalid run_as '" .. s ..
      "' (expected host:user[:group], cell:user[:group], or uid:uid[:gid])"
  local kind, rest = s:match("^([a-z]+):(.*)$")
  if not kind then return generic end
  local parts = {}
  for p in (rest .. ":"):gmatch("([^:]*):") do parts[#parts + 1] = p end
  if kind == "uid" then
    if #parts > 2 then return "invalid run_as '" .. s .. "' (expected uid:uid[:gid])" end
    for _, p in ipairs(parts) do
      if not p:match("^[0-9]+$") or #p > 10 or tonumber(p) > 4294967295 then
        return "invalid run_as '" .. s .. "' (expected uid:uid[:gid])"
      end
    end
    return nil
  end
  if kind == "host" then
    if #parts > 2 then return generic end
    for _, p in ipairs(parts) do
      if not M.name(p) then return "invalid run_as '" .. s .. "' (host user/group token)" end
    end
    return nil
  end
  if kind == "cell" then
    if #parts > 2 then return generic end
    if not M.name(parts[1]) then return "invalid cell user in run_as: " .. parts[1] end
    if parts[2] and not M.name(parts[2]) then return "invalid cell group in run_as: " .. parts[2] end
    return nil
  end
  return generic
end

-- Environment variable and template token names.
function M.env_name(s)
  return type(s) == "string" and s:match("^[A-Za-z_][A-Za-z0-9_]*$") ~= nil
end

function M.token_name(s)
  return type(s) == "string" and s:match("^[A-Za-z0-9_]+$") ~= nil
end

-- clean reports whether an absolute path has no empty, "." or ".."
-- components and no trailing slash ("/" itself is clean).
function M.clean(p)
  if p == "/" then return true end
  if p:sub(-1) == "/" then return false end
  -- A local, not an inline (p:sub(2) .. "/"):gmatch(...): gopher-lua
  -- v1.1.2 miscompiles that expression as a generic-for iterator.
  local rest = p:sub(2) .. "/"
  for comp in rest:gmatch("([^/]*)/") do
    if comp == "" or comp == "." or comp == ".." then return false end
  end
  return true
end

-- volume_mode accepts an octal mode of 1 to 4 digits.
function M.volume_mode(s)
  if s:match("^[0-7]+$") and #s <= 4 then return nil end
  return "invalid volume mode: " .. s
end

return M
