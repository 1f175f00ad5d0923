-- cells.apply.plan: the planner, a pure function of the desired state, the
-- observed runtime and the options (reference 4.2, 4.4). It reads nothing
-- and writes nothing: the same inputs give the same plan, byte for byte.
--
-- desired = {
--   cells   = { { name, autostart, healthcheck, run_as, depends_on = {..},
--                 service, policy, manifest }, ... }   -- every cell, dependency order
--   volumes = { { name, mode }, ... }                  -- load order; mode "0750" or nil
--   applies = { [name] = { name, file, manifest_dir, hash, actions = { { kind, file,
--                 line, args, sources }, ... } } }    -- apply documents of the targets
-- }
-- observed = {
--   goos    = "linux" | "netbsd",
--   running = { [name] = { id = n, root = s } },   -- one kernel list
--   runtime = { [name] = true },                   -- /var/cellman/cells/<name> exists
--   hashes  = { [name] = { manifest, service, policy, apply } },  -- stored, absent = nil
--   volumes = { [name] = { exists = bool, mode = n } },           -- mode = st_mode & 07777
-- }
-- options = { targets = { names } or nil (all), dry_run, force, restart_changed }
--
-- plan(desired, observed, options) returns the plan or nil, err:
-- plan = {
--   dry_run, force, restart_changed, changes = bool,
--   volumes = { { name, mode, exists, changed }, ... },
--   cells = { { name, autostart, healthcheck = bool, running, runtime_exists,
--               service_changed, policy_changed, config_changed,
--               has_apply, apply_needed, apply_removed, apply_state, changed,
--               actions = { { index, kind, run }, ... },
--               hashes = { manifest, service, policy, apply } }, ... },
-- }
local M = {}

-- parse_mode returns the numeric value of an octal mode string or nil.
function M.parse_mode(s)
  if type(s) ~= "string" or not s:match("^[0-7]+$") or #s > 4 then return nil end
  return tonumber(s, 8)
end

local function volume_rows(desired, observed)
  local rows = {}
  for _, v in ipairs(desired.volumes or {}) do
    local o = (observed.volumes or {})[v.name] or {}
    local changed = not o.exists
    if v.mode ~= nil and v.mode ~= "" then
      local m = M.parse_mode(v.mode)
      if m == nil then return nil, "invalid volume mode: " .. tostring(v.mode) end
      if o.exists and o.mode ~= m then changed = true end
    end
    rows[#rows + 1] = { name = v.name, mode = v.mode, exists = o.exists and true or false, changed = changed }
  end
  return rows
end

-- targets returns the target cells in dependency order.
local function target_cells(desired, options)
  local cells = desired.cells or {}
  if options.targets == nil then return cells end
  local want, byname = {}, {}
  for _, c in ipairs(cells) do byname[c.name] = c end
  for _, n in ipairs(options.targets) do
    if not byname[n] then return nil, "cell not found in desired state: " .. n end
    want[n] = true
  end
  local out = {}
  for _, c in ipairs(cells) do
    if want[c.name] then out[#out + 1] = c end
  end
  return out
end

local function cell_row(c, desired, observed, options)
  local stored = (observed.hashes or {})[c.name] or {}
  local doc = (desired.applies or {})[c.name]
  local r = {
    name = c.name,
    autostart = c.autostart and true or false,
    healthcheck = (c.healthcheck or "") ~= "",
    running = (observed.running or {})[c.name] ~= nil,
    runtime_exists = (observed.runtime or {})[c.name] and true or false,
    has_apply = doc ~= nil,
  }
  r.service_changed = stored.service == nil or stored.service ~= c.service
  r.policy_changed = stored.policy == nil or stored.policy ~= c.policy
  r.config_changed = stored.manifest == nil or stored.manifest ~= c.manifest
      or r.service_changed or r.policy_changed
  r.apply_needed = doc ~= nil and (options.force and true or stored.apply == nil or stored.apply ~= doc.hash)
  r.apply_removed = doc == nil and stored.apply ~= nil
  if doc == nil then
    r.apply_state = r.apply_removed and "REMOVED" or "NONE"
  else
    r.apply_state = r.apply_needed and "PENDING" or "UNCHANGED"
  end
  local lifecycle
  if r.autostart then
    lifecycle = not r.running or r.service_changed or r.policy_changed
  else
    lifecycle = r.running or r.apply_needed
  end
  r.changed = not r.runtime_exists or r.config_changed or r.apply_needed or r.apply_removed or lifecycle
  r.actions = {}
  for i, a in ipairs(doc and doc.actions or {}) do
    r.actions[i] = { index = i, kind = a.kind, run = r.apply_needed }
  end
  r.hashes = { manifest = c.manifest, service = c.service, policy = c.policy, apply = doc and doc.hash or nil }
  return r
end

function M.plan(desired, observed, options)
  options = options or {}
  observed = observed or {}
  local p = {
    dry_run = options.dry_run and true or false,
    force = options.force and true or false,
    restart_changed = options.restart_changed and true or false,
    changes = false,
  }
  local err
  p.volumes, err = volume_rows(desired, observed)
  if not p.volumes then return nil, err end
  local targets
  targets, err = target_cells(desired, options)
  if not targets then return nil, err end
  p.cells = {}
  for i, c in ipairs(targets) do p.cells[i] = cell_row(c, desired, observed, p) end
  for _, v in ipairs(p.volumes) do p.changes = p.changes or v.changed end
  for _, c in ipairs(p.cells) do p.changes = p.changes or c.changed end
  return p
end

return M
