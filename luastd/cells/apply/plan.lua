-- cells.apply.plan: the planner, a pure function of the desired state, the
-- observed runtime and the options (reference 4.2, 4.4). It reads nothing
-- and writes nothing: the same inputs give the same plan, byte for byte.
--
-- desired = {
--   cells   = { { name, autostart, healthcheck, service, policy, manifest }, ... }
--                                                      -- every cell, dependency order
--   volumes = { { name, mode }, ... }                  -- load order; mode "0750" or nil
--   applies = { [name] = { name, file, manifest_dir, hash, actions = { { kind, file,
--                 line, args, sources }, ... } } }    -- apply documents of the targets
-- }
-- observed = {
--   goos    = "linux" | "netbsd",
--   running = { [name] = { id = n, root = s } },   -- one kernel list
--   runtime = { [name] = true },                   -- /var/cellman/cells/<name> exists
--   service_down = { [name] = true },              -- running, service declared, no monitor
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
--               actions = { { index, kind, run }, ... },  -- read-only, shared
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

local empty = {}

-- action_rows returns the action rows of a document of actions with the
-- run flag run; the rows are shared by every cell with the same kinds in
-- the same order (cache: kind list key -> rows), they are read-only.
local function action_rows(actions, run, cache)
  local n = #actions
  if n == 0 then return empty end
  local rows = {}
  for i = 1, n do
    local kind = actions[i].kind
    local per = cache[i]
    if per == nil then per = {}; cache[i] = per end
    local row = per[kind]
    if row == nil then row = { index = i, kind = kind, run = run }; per[kind] = row end
    rows[i] = row
  end
  return rows
end

-- cell_row plans one target c; o is the observed state, applies the
-- desired apply documents, cache the shared action rows by run flag.
local function cell_row(c, o, applies, force, cache)
  local name = c.name
  local stored = o.hashes[name] or empty
  local doc = applies[name]
  local service, policy, manifest = c.service, c.policy, c.manifest
  local autostart = c.autostart and true or false
  local running = o.running[name] ~= nil
  local runtime_exists = o.runtime[name] and true or false
  -- A running cell whose supervised service has no monitor is not what was
  -- declared either: it counts as a service change (restart).
  local service_changed = stored.service == nil or stored.service ~= service
      or (running and o.service_down[name] == true)
  local policy_changed = stored.policy == nil or stored.policy ~= policy
  local config_changed = stored.manifest == nil or stored.manifest ~= manifest
      or service_changed or policy_changed
  local apply_needed, apply_removed, apply_state, hash = false, false, nil, nil
  if doc == nil then
    apply_removed = stored.apply ~= nil
    apply_state = apply_removed and "REMOVED" or "NONE"
  else
    hash = doc.hash
    apply_needed = force or stored.apply == nil or stored.apply ~= hash
    apply_state = apply_needed and "PENDING" or "UNCHANGED"
  end
  local lifecycle
  if autostart then
    lifecycle = not running or service_changed or policy_changed
  else
    lifecycle = running or apply_needed
  end
  return {
    name = name,
    autostart = autostart,
    healthcheck = (c.healthcheck or "") ~= "",
    running = running,
    runtime_exists = runtime_exists,
    has_apply = doc ~= nil,
    service_changed = service_changed,
    policy_changed = policy_changed,
    config_changed = config_changed,
    apply_needed = apply_needed,
    apply_removed = apply_removed,
    apply_state = apply_state,
    changed = not runtime_exists or config_changed or apply_needed or apply_removed or lifecycle,
    actions = doc and action_rows(doc.actions or empty, apply_needed, cache[apply_needed]) or {},
    hashes = { manifest = manifest, service = service, policy = policy, apply = hash },
  }
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
  local o = {
    hashes = observed.hashes or empty,
    running = observed.running or empty,
    runtime = observed.runtime or empty,
    service_down = observed.service_down or empty,
  }
  local applies, force = desired.applies or empty, p.force
  local cache = { [true] = {}, [false] = {} }
  local cells, changes = {}, false
  for _, v in ipairs(p.volumes) do changes = changes or v.changed end
  for i = 1, #targets do
    local r = cell_row(targets[i], o, applies, force, cache)
    cells[i] = r
    changes = changes or r.changed
  end
  p.cells, p.changes = cells, changes
  return p
end

return M
