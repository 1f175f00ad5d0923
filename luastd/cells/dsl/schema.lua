-- cells.dsl.schema: the known keys of every DSL table, and the strict key
-- check with a "did you mean" hint (edit distance <= 2 against the known keys).
local only_keys = require("cells.site").only_keys

local M = {}

-- Known keys, in documentation order.
M.cell = { "autostart", "depends_on", "mounts", "healthcheck", "create", "supervise" }
M.create = { "profile", "reserved_ports", "rlimit_nofile", "rlimit_as", "rlimit_core" }
M.supervise = { "cmd", "run_as", "log" }
M.log = { "facility", "stdout_level", "stderr_level", "tag" }
M.volume = { "mode" }
M.mount = { "target", "mode" }

-- distance is the Levenshtein distance between a and b, giving up (returning
-- limit + 1) as soon as every cell of a row exceeds limit.
local function distance(a, b, limit)
  local la, lb = #a, #b
  if math.abs(la - lb) > limit then return limit + 1 end
  local prev = {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    local cur = { [0] = i }
    local best = i
    local ca = a:byte(i)
    for j = 1, lb do
      local cost = (ca == b:byte(j)) and 0 or 1
      local v = prev[j - 1] + cost
      if prev[j] + 1 < v then v = prev[j] + 1 end
      if cur[j - 1] + 1 < v then v = cur[j - 1] + 1 end
      cur[j] = v
      if v < best then best = v end
    end
    if best > limit then return limit + 1 end
    prev = cur
  end
  return prev[lb]
end
M.distance = distance

-- suggest returns the known key closest to key (distance <= 2; ties go to
-- the earlier key in the list), or nil.
function M.suggest(key, known)
  local best, bestd = nil, 3
  for _, k in ipairs(known) do
    local d = distance(key, k, 2)
    if d < bestd then best, bestd = k, d end
  end
  return best
end

-- unknown_message formats the error for an unknown key; path is the dotted
-- prefix ("" or "create.").
function M.unknown_message(key, path, known)
  local msg = "key '" .. path .. key .. "' is unknown"
  local s = M.suggest(key, known)
  if s then msg = msg .. " (did you mean '" .. path .. s .. "'?)" end
  return msg
end

local function describe(k)
  if type(k) == "string" then return k end
  if type(k) == "number" then return "[" .. tostring(k) .. "]" end
  return "[" .. type(k) .. "]"
end

-- keyorder sorts named keys first (they carry a hint), then the rest.
local function keyorder(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    if ta == "string" then return true end
    if tb == "string" then return false end
    return ta < tb
  end
  if ta == "string" or ta == "number" then return a < b end
  return false
end

-- known reports whether key is in the list. A linear scan: the lists are
-- short, and building a lookup set would cost every DSL file (each runs in
-- a fresh VM) more than the scans it saves.
local function known_key(list, key)
  for i = 1, #list do
    if list[i] == key then return true end
  end
  return false
end
M.known = known_key

-- unknown returns the error message for the first (in sorted order) key of t
-- that is not in known, or nil when every key is known. The common path
-- (every key known) is one call of the Go helper cells.site.only_keys.
function M.unknown(t, known, path)
  if only_keys(t, known) then return nil end
  local first
  for k in pairs(t) do
    if (type(k) ~= "string" or not known_key(known, k)) and (first == nil or keyorder(k, first)) then
      first = k
    end
  end
  if first == nil then return nil end
  if type(first) ~= "string" then
    return "key '" .. (path or "") .. describe(first) .. "' is unknown (expected named keys)"
  end
  return M.unknown_message(first, path or "", known)
end

return M
