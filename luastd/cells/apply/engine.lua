-- cells.apply.engine: executes a plan (reference 4.5, 4.8). Volumes first,
-- then the target cells in dependency order; the first failing target stops
-- the run and keeps its old hashes, earlier targets keep their new ones.
--
-- host = {
--   state = { ensure_volume(name, mode) -> path | nil, err,
--             ensure_cell(name) -> true | nil, err,
--             write(name, { manifest, service, policy, apply }) -> true | nil, err },
--             -- apply = nil deletes apply.sha256
--   lifecycle = { start(name, healthcheck) -> true | nil, err, -- with dependencies
--                 stop(name), restart(name), healthcheck(name) -> true | nil, err,
--                 id(name) -> kernel id, identity(name, own) -> { uid, gid, groups } },
--   env = { goos, release, arch, pkg_path, pkg_tool, cell_root(name) },
--   info = function(line),       -- a log line (printed at -v)
--   verbosity = 0..2,
-- }
local run_actions = require("cells.apply.actions")

local M = {}

local function must(ok, err)
  if ok == nil or ok == false then error(err or "unknown error", 0) end
  return ok
end

function M.volumes(plan, host)
  for _, v in ipairs(plan.volumes) do
    local path = must(host.state.ensure_volume(v.name, v.mode))
    local line = "volume runtime ensure " .. path
    if v.mode ~= nil and v.mode ~= "" then line = line .. " mode=" .. v.mode end
    host.info(line)
  end
end

-- cell converges one target (the steps of reference 4.5).
function M.cell(p, desired, host, options)
  local lc = host.lifecycle
  local name = p.name
  must(host.state.ensure_cell(name))
  local auto, running = p.autostart, p.running
  if not auto and running then
    must(lc.stop(name)); running = false
  end
  local started_for_apply, checked = false, false
  if p.apply_needed then
    if not running then
      must(lc.start(name, false)); running = true; started_for_apply = true
    end
    run_actions.run(name, desired, host, options)
    if auto then
      must(lc.restart(name)); checked = true
    else
      must(lc.stop(name)); running = false
    end
  end
  if auto then
    if not running then
      must(lc.start(name, true)); running = true; checked = true
    elseif not checked and (p.service_changed or (p.policy_changed and options.restart_changed)) then
      must(lc.restart(name)); checked = true
    end
  elseif running then
    must(lc.stop(name)); running = false
  end
  -- Every running autostart cell is health-checked once per apply: by its
  -- start or restart above, or here.
  if auto and running and not checked and p.healthcheck then
    must(lc.healthcheck(name))
  end
  must(host.state.write(name, p.hashes))
end

-- run executes plan; it raises on the first failure. before(i) is called
-- before the i-th target (the engine's caller logs the target's lines).
function M.run(plan, desired, host, options, before)
  M.volumes(plan, host)
  for i, p in ipairs(plan.cells) do
    if before then before(i) end
    M.cell(p, desired, host, options)
  end
end

return M
