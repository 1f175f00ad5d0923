-- cells.dsl.cell: the cell(name, table) builder. It validates every key and
-- value (upstream-cells §3.2, §3.3, §3.5, strict) and returns the cell
-- document: a fresh table that later changes to the operator's table cannot
-- reach. Documents are positional (field order in spec/decode.go): a keyed
-- table costs gopher-lua two Go maps and a slice, in every DSL file.
local check = require("cells.dsl.check")
local site = require("cells.site")
local schema = require("cells.dsl.schema")
local mount = require("cells.dsl.mount")

local M = {}

-- optional string key: nil stays nil, numbers become text (as upstream).
local function str(ctx, t, key, path)
  local v = t[key]
  if v == nil then return nil end
  if type(v) == "string" then return v end -- the common case, without a call
  local s = check.tostr(v)
  if s == nil then ctx:fail("key '" .. path .. key .. "' must be string") end
  return s
end

-- validated runs checker(s) on a non-empty value and fails with the key.
local function validated(ctx, path, s, checker)
  if s == nil or s == "" then return s end
  local err = checker(s)
  if err then ctx:fail(path .. ": " .. err) end
  return s
end

-- rlimit is validated for check.rlimit, which also takes the limit's name.
local function rlimit(ctx, path, which, s)
  if s == nil or s == "" then return s end
  local err = check.rlimit(which, s)
  if err then ctx:fail(path .. ": " .. err) end
  return s
end

local function string_array(ctx, t, key)
  local v = t[key]
  if v == nil then return {} end
  if type(v) ~= "table" or not check.is_array(v) then
    ctx:fail("key '" .. key .. "': expected array table")
  end
  local out = {}
  for i = 1, #v do
    if type(v[i]) ~= "string" then
      ctx:fail("key '" .. key .. "': array item " .. i .. " must be string")
    end
    out[i] = v[i]
  end
  return out
end

-- create_section returns { profile, reserved_ports, rlimit_nofile,
-- rlimit_as, rlimit_core }, or nil without a create section.
local function create_section(ctx, t)
  local c = t.create
  if c == nil then return nil end
  if type(c) ~= "table" then ctx:fail("create section must be table") end
  local bad = schema.unknown(c, schema.create, "create.")
  if bad then ctx:fail(bad) end
  local p = "create."
  local profile = str(ctx, c, "profile", p)
  local ports = str(ctx, c, "reserved_ports", p)
  local nofile = str(ctx, c, "rlimit_nofile", p)
  local as = str(ctx, c, "rlimit_as", p)
  local core = str(ctx, c, "rlimit_core", p)
  -- One constructor: gopher-lua sizes the table once. The last call is in
  -- parentheses so that it gives exactly one value.
  return {
    validated(ctx, "create.profile", profile, check.profile),
    validated(ctx, "create.reserved_ports", ports, check.ports),
    rlimit(ctx, "create.rlimit_nofile", "nofile", nofile),
    rlimit(ctx, "create.rlimit_as", "as", as),
    (rlimit(ctx, "create.rlimit_core", "core", core)),
  }
end

-- log_section returns { facility, stdout_level, stderr_level, tag }, or nil.
local function log_section(ctx, l)
  if l == nil then return nil end
  if type(l) ~= "table" then ctx:fail("supervise.log must be table") end
  local bad = schema.unknown(l, schema.log, "supervise.log.")
  if bad then ctx:fail(bad) end
  local p = "supervise.log."
  local facility = str(ctx, l, "facility", p)
  local out = str(ctx, l, "stdout_level", p)
  local err = str(ctx, l, "stderr_level", p)
  local tag = str(ctx, l, "tag", p)
  return {
    validated(ctx, "supervise.log.facility", facility, check.facility),
    validated(ctx, "supervise.log.stdout_level", out, check.level),
    validated(ctx, "supervise.log.stderr_level", err, check.level),
    (validated(ctx, "supervise.log.tag", tag, check.tag)),
  }
end

-- supervise_section returns { cmd, run_as, log }, or nil.
local function supervise_section(ctx, t)
  local sv = t.supervise
  if sv == nil then return nil end
  if type(sv) ~= "table" then ctx:fail("supervise section must be table") end
  local bad = schema.unknown(sv, schema.supervise, "supervise.")
  if bad then ctx:fail(bad) end
  local cmd = str(ctx, sv, "cmd", "supervise.")
  local run_as = str(ctx, sv, "run_as", "supervise.")
  return { cmd, validated(ctx, "supervise.run_as", run_as, check.run_as), (log_section(ctx, sv.log)) }
end

local function mounts(ctx, t)
  local specs = string_array(ctx, t, "mounts")
  local out, targets = {}, {}
  for i, s in ipairs(specs) do
    local src, target, mode = mount.parse(s)
    if not src then ctx:fail("mounts[" .. i .. "]: " .. target) end
    out[i] = src .. ":" .. target .. ":" .. mode
    targets[i] = target
  end
  local err = mount.overlap(targets)
  if err then ctx:fail("mounts: " .. err) end
  return out
end

local function depends_on(ctx, t)
  local deps = string_array(ctx, t, "depends_on")
  -- Duplicates: a scan of the earlier entries for short lists (most are),
  -- a set for long ones; a keyed table costs gopher-lua two Go maps.
  local n = #deps
  local seen = n > 8 and {} or nil
  for i = 1, n do
    local d = deps[i]
    if not site.is_name(d) then ctx:fail("depends_on[" .. i .. "]: " .. check.name_message("cell", d)) end
    local dup
    if seen then
      dup = seen[d]
      seen[d] = true
    else
      for j = 1, i - 1 do
        if deps[j] == d then dup = true; break end
      end
    end
    if dup then ctx:fail("depends_on[" .. i .. "]: duplicate entry '" .. d .. "'") end
  end
  return deps
end

-- build validates cell(name, t) and returns the document (without site).
function M.build(name, t)
  local ctx = check.here("cell '" .. tostring(name) .. "'")
  if type(name) ~= "string" then ctx[3] = nil; ctx:fail("cell name must be string") end
  if not site.is_name(name) then ctx[3] = nil; ctx:fail(check.name_message("cell", name)) end
  if type(t) ~= "table" then ctx:fail("cell table expected, got " .. type(t)) end
  local bad = schema.unknown(t, schema.cell, "")
  if bad then ctx:fail(bad) end
  local autostart = t.autostart
  if autostart ~= nil and type(autostart) ~= "boolean" then
    ctx:fail("key 'autostart' must be boolean")
  end
  local deps = depends_on(ctx, t)
  local specs = mounts(ctx, t)
  local healthcheck = str(ctx, t, "healthcheck", "")
  local create = create_section(ctx, t)
  local supervise = supervise_section(ctx, t)
  return { "cell", name, ctx[1], ctx[2], autostart, deps, specs, healthcheck, create, supervise }
end

return M
