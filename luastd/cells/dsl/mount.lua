-- cells.dsl.mount: mount specifications "<source>:<target>:<mode>", built by
-- volume(name, {target=...}) and host(path, {target=...}) or written raw,
-- with every check that needs no runtime (upstream-cells §3.5).
local check = require("cells.dsl.check")
local site = require("cells.site")
local schema = require("cells.dsl.schema")

local M = {}

-- target_error returns the message for a target that cannot be mounted on.
local function target_error(t)
  if t:sub(1, 1) ~= "/" then return "mount target must be absolute: " .. t end
  if t == "/" or t == "/dev" or t:sub(1, 5) == "/dev/" or t == "/.overlay"
      or t:sub(1, 10) == "/.overlay/" then
    return "mount target is not allowed: " .. t
  end
  if not site.is_clean_abs(t) then return "mount target is not a clean path: " .. t end
  if site.has_control(t) then return "mount target contains control characters: " .. t end
  return nil
end

-- parse checks one mount specification and returns source, target, mode, or
-- nil and the error message. The mode defaults to rw.
function M.parse(s)
  if s == "" then return nil, "empty mount specification" end
  local parts = site.split(s, ":")
  if #parts > 3 then
    return nil, "invalid mount specification '" .. s .. "' (too many ':')"
  end
  if #parts < 2 then
    return nil, "invalid mount specification '" .. s .. "' (expected source:/target[:ro|rw])"
  end
  local src, target, mode = parts[1], parts[2], parts[3] or "rw"
  if src == "" then return nil, "mount source cannot be empty" end
  if src == "/" then return nil, "host mount source is not allowed: /" end
  if src:sub(1, 1) == "/" then
    if not site.is_clean_abs(src) then return nil, "host mount source is not a clean path: " .. src end
  elseif not site.is_name(src) then
    return nil, "invalid volume mount source: " .. src
  end
  local terr = target_error(target)
  if terr then return nil, terr end
  if mode ~= "ro" and mode ~= "rw" then return nil, "mount mode must be ro or rw: " .. mode end
  return src, target, mode
end

-- overlap returns the message for the first pair of targets (in declaration
-- order) where one equals or lies under the other, or nil.
function M.overlap(targets)
  for i = 1, #targets do
    for j = i + 1, #targets do
      local a, b = targets[i], targets[j]
      if a == b or b:sub(1, #a + 1) == a .. "/" or a:sub(1, #b + 1) == b .. "/" then
        return "overlapping mount targets are not allowed: " .. a .. " and " .. b
      end
    end
  end
  return nil
end

-- build is the mount builder behind volume(name, opts) and host(path, opts):
-- it returns the specification string. ctx names the builder call.
function M.build(ctx, source, opts)
  if type(opts) ~= "table" then ctx:fail("mount options must be table") end
  local bad = schema.unknown(opts, schema.mount, "")
  if bad then ctx:fail(bad) end
  if type(opts.target) ~= "string" then ctx:fail("mount options require string target") end
  if opts.target:sub(1, 1) ~= "/" then ctx:fail("mount target must be absolute path") end
  local mode = opts.mode
  if mode == nil then mode = "rw" end
  if type(mode) ~= "string" then ctx:fail("mount mode must be string ro|rw") end
  if mode ~= "ro" and mode ~= "rw" then ctx:fail("mount mode must be ro or rw") end
  local spec = source .. ":" .. opts.target .. ":" .. mode
  local ok, err = M.parse(spec)
  if not ok then ctx:fail(err) end
  return spec
end

-- host is the host(path, opts) builder.
function M.host(path, opts)
  local ctx = check.ctx("host(" .. string.format("%q", tostring(path)) .. ")")
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then
    ctx:fail("host mount source must be absolute path")
  end
  return M.build(ctx, path, opts)
end

return M
