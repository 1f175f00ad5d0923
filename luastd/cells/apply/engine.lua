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
--                 healthchecks(names) -> { [i] = true | err } (optional: the
--                   healthchecks of names, possibly concurrent; none is started
--                   after one known to fail, whose results stay nil),
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

-- cell converges one target (the steps of reference 4.5). checked is
-- the result of its step-5 healthcheck when the caller already ran it
-- (true or the error message), else nil.
function M.cell(p, desired, host, options, checked_result)
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
    if checked_result == nil then
      must(lc.healthcheck(name))
    elseif checked_result ~= true then
      error(checked_result, 0)
    end
  end
  must(host.state.write(name, p.hashes))
end

-- check_only tells whether converging p is only its step-5 healthcheck:
-- a running autostart cell with a healthcheck, no actions to run, nothing
-- that restarts it.
local function check_only(p, options)
  return p.autostart and p.running and p.healthcheck and not p.apply_needed
      and not p.service_changed and not (p.policy_changed and options.restart_changed)
end
M.check_only = check_only

-- run executes plan; it raises on the first failure. before(i) is called
-- before the i-th target (the engine's caller logs the target's lines).
-- Consecutive targets whose only step is the healthcheck have their
-- healthchecks run together by host.lifecycle.healthchecks, when the host
-- has it (concurrently): then each target is still converged, logged and
-- recorded in order, and the first failing one in order stops the run
-- with its own message, as one by one. (A later one's healthcheck may have
-- run already by then; healthchecks are probes, they change nothing.)
function M.run(plan, desired, host, options, before)
  M.volumes(plan, host)
  local cells, batch = plan.cells, host.lifecycle.healthchecks
  local i, n = 1, #plan.cells
  while i <= n do
    local j = i
    if batch then
      while j <= n and check_only(cells[j], options) do j = j + 1 end
    end
    if j - i >= 2 then
      local names = {}
      for k = i, j - 1 do names[k - i + 1] = cells[k].name end
      local results = batch(names)
      for k = i, j - 1 do
        if before then before(k) end
        M.cell(cells[k], desired, host, options, results[k - i + 1])
      end
      i = j
    else
      if before then before(i) end
      M.cell(cells[i], desired, host, options)
      i = i + 1
    end
  end
end

return M
