-- cells.dsl.check: value checkers of the DSL. Each checker returns nil when
-- the value is valid, else the error message (upstream's wording where
-- upstream has one). ctx() captures the operator's call site so that fail()
-- raises "<file>:<line>: <what>: <message>".
--
-- Lexical tests come from require("cells.site") (Go): gopher-lua compiles a
-- Lua pattern on every call, and every DSL file runs in a fresh VM.
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

-- Here is the context of the cell and volume builders: { file, line, what }
-- by position, since a keyed table costs gopher-lua two Go maps and every
-- DSL file makes a few. Code that takes a context from elsewhere (validate,
-- varargs builders) gets the keyed kind from ctx() or at().
local Here = {}
Here.__index = Here

-- here returns a positional context for `what` at the operator's call site.
function M.here(what)
  local file, line = site.where()
  return setmetatable({ file, line, what }, Here)
end

-- raise raises "<file>:<line>: [<what>: ]<msg>"; level 0 keeps Lua from
-- prepending a luastd position. Builders on the hot path call it with the
-- site from site.where() instead of building a context table.
function M.raise(file, line, what, msg)
  local prefix = tostring(file) .. ":" .. tostring(line) .. ": "
  if what and what ~= "" then prefix = prefix .. what .. ": " end
  error(prefix .. msg, 0)
end

-- fail raises the error at the context's site.
function Ctx:fail(msg)
  M.raise(self.file, self.line, self.what, msg)
end

function Here:fail(msg)
  M.raise(self[1], self[2], self[3], msg)
end

-- The lexical tests are not re-exported: the other DSL modules call
-- cells.site directly (every key of a module table costs each DSL file).

function M.name_message(kind, s)
  return "invalid " .. kind .. " name '" .. tostring(s) .. "' (allowed: A-Za-z0-9._-)"
end

-- is_array reports whether t has exactly the keys 1..n (n may be 0). The
-- Go helper answers for tables without a metatable (the common case,
-- without a Lua loop); a metatable's __len is Lua's to honour.
local site_is_array = site.is_array

function M.is_array(t)
  local r = site_is_array(t)
  if r ~= nil then return r end
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
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then
    if v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then
      return string.format("%d", v)
    end
    return tostring(v)
  end
  return nil
end

function M.profile(s)
  if s == "low" or s == "medium" or s == "high" then return nil end
  return "invalid profile '" .. s .. "' (expected low|medium|high)"
end

function M.ports(s)
  local parts = site.split(s, ",")
  if #parts > 32 then return "too many reserved ports (max 32)" end
  -- At most 32 ports: duplicates by a scan of the earlier ones, not a
  -- set (a keyed table costs gopher-lua two Go maps).
  local nums = {}
  for i = 1, #parts do
    local tok = parts[i]
    if not site.is_digits(tok) or #tok > 5 then return "invalid reserved port: " .. tok end
    local p = tonumber(tok)
    if p < 1 or p > 65535 then return "invalid reserved port: " .. tok end
    for j = 1, i - 1 do
      if nums[j] == p then return "duplicate reserved port: " .. tostring(p) end
    end
    nums[i] = p
  end
  return nil
end

-- rlimit accepts "unlimited" or a decimal that fits in 64 bits.
function M.rlimit(which, s)
  if s == "unlimited" then return nil end
  if site.is_digits(s) and (#s < 20 or (#s == 20 and s <= "18446744073709551615")) then
    return nil
  end
  return "invalid rlimit " .. which .. ": " .. s
end

local facilities = { "auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail",
  "news", "syslog", "user", "uucp", "local0", "local1", "local2", "local3", "local4",
  "local5", "local6", "local7" }
local levels = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" }

local function member(list, s)
  for i = 1, #list do
    if list[i] == s then return true end
  end
  return false
end

function M.facility(s)
  if member(facilities, s) then return nil end
  return "invalid log facility: " .. s
end

function M.level(s)
  if member(levels, s) then return nil end
  if site.is_digits(s) then
    if #s <= 2 and tonumber(s) <= 7 then return nil end
    return "log level out of range: " .. s
  end
  return "invalid log level: " .. s
end

function M.tag(s)
  if #s >= 1 and #s <= 63 and not site.has_control(s) then return nil end
  return "invalid log tag"
end

-- run_as checks the syntax of host:user[:group], cell:user[:group] and
-- uid:uid[:gid]; resolving the names happens when the cell starts.
function M.run_as(s)
  local generic = "invalid run_as '" .. s ..
      "' (expected host:user[:group], cell:user[:group], or uid:uid[:gid])"
  local parts = site.split(s, ":")
  local kind = table.remove(parts, 1)
  if #parts == 0 then return generic end
  if kind == "uid" then
    if #parts > 2 then return "invalid run_as '" .. s .. "' (expected uid:uid[:gid])" end
    for _, p in ipairs(parts) do
      if not site.is_digits(p) or #p > 10 or tonumber(p) > 4294967295 then
        return "invalid run_as '" .. s .. "' (expected uid:uid[:gid])"
      end
    end
    return nil
  end
  if kind == "host" then
    if #parts > 2 then return generic end
    for _, p in ipairs(parts) do
      if not site.is_name(p) then return "invalid run_as '" .. s .. "' (host user/group token)" end
    end
    return nil
  end
  if kind == "cell" then
    if #parts > 2 then return generic end
    if not site.is_name(parts[1]) then return "invalid cell user in run_as: " .. parts[1] end
    if parts[2] and not site.is_name(parts[2]) then
      return "invalid cell group in run_as: " .. parts[2]
    end
    return nil
  end
  return generic
end

-- volume_mode accepts an octal mode of 1 to 4 digits.
function M.volume_mode(s)
  if site.is_octal(s) and #s <= 4 then return nil end
  return "invalid volume mode: " .. s
end

return M
