-- cells.apply: the apply engine's entry points, called by the Go host
-- (runtime/apply.go) with plain data and host bindings:
--
--   main(input)     `cellman apply`        -> exit code, error message
--   plan_run(input) `cellman cell plan run` -> exit code, error message
--
-- input = { desired = ..., observed = ...,          -- see cells.apply.plan
--           options = { targets, dry_run, force, restart_changed,
--                       verbosity = 0..2, silent, json, columns },
--           host = { state, lifecycle, env, out = fn(s), err = fn(s) } }
--
-- The modules: cells.apply.plan (pure planner), cells.apply.report and
-- cells.apply.layout (report text), cells.apply.json (-J), cells.apply.engine
-- (execution), cells.apply.actions (running one apply document).
local planner = require("cells.apply.plan")
local report = require("cells.apply.report")
local json = require("cells.apply.json")
local engine = require("cells.apply.engine")
local actions = require("cells.apply.actions")

local M = {}

M.plan = planner.plan

local function errtext(e)
  if type(e) == "table" then return tostring(e.msg or e.message or e) end
  return tostring(e)
end

local function logger(host, verbosity)
  return function(line)
    if verbosity >= 1 then host.err("cellman: info: " .. line .. "\n") end
  end
end

local function warner(host, silent)
  return function(msg)
    if not silent then host.err("cellman: warn: " .. msg .. "\n") end
  end
end

function M.main(input)
  local options, host = input.options or {}, input.host
  local verbosity = options.verbosity or 0
  local plan, err = planner.plan(input.desired, input.observed, options)
  if not plan then return 1, err end
  local rc = report.exit_code(plan)
  if options.json then
    host.out(json.plan(plan))
    return rc
  end
  local info = logger(host, verbosity)
  host.info, host.warn, host.verbosity = info, warner(host, options.silent), verbosity
  local tables = not options.silent and verbosity == 0
  if tables then host.out(report.head(plan, options.columns)) end
  local logs = verbosity >= 1
  if logs then
    for _, l in ipairs(report.volume_lines(plan)) do info(l) end
    for _, l in ipairs(report.cell_lines(plan)) do info(l) end
  end
  local function before(i)
    if not logs then return end
    for _, l in ipairs(report.target_lines(plan, i)) do info(l) end
  end
  local ok, e = true, nil
  if plan.dry_run then
    if logs then
      for i = 1, #plan.cells do before(i) end
    end
  else
    ok, e = pcall(engine.run, plan, input.desired, host, options, before)
  end
  if tables then host.out(report.tail(plan, options.columns)) end
  if not ok then return 1, errtext(e) end
  host.out(report.ok(plan, rc))
  return rc
end

-- plan_run runs the actions of one apply document in its cell (reference
-- 2.4): the cell is started with its dependencies when it is not running,
-- no healthcheck, the actions log at -v with child output forwarded, the
-- run identity is cellman's own, no hash is written; with ephemeral the
-- cell is stopped again if this run started it.
function M.plan_run(input)
  local options, host = input.options or {}, input.host
  local name = options.name
  host.info, host.warn, host.verbosity = logger(host, 1), warner(host, false), 1
  local lc = host.lifecycle
  local started = false
  local ok, e = pcall(function()
    if not (input.observed.running or {})[name] then
      local sok, serr = lc.start(name, false)
      if not sok then error(serr, 0) end
      started = true
    end
    actions.run(name, input.desired, host, { forward = true, plain_identity = true })
  end)
  if options.ephemeral and started then
    local sok, serr = lc.stop(name)
    if ok and not sok then ok, e = false, serr end
  end
  if not ok then return 1, errtext(e) end
  host.out("ok cell plan run name=" .. name .. "\n")
  return 0
end

return M
