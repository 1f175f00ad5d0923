-- Table-driven tests of cells.apply.engine (reference 4.5) with a fake
-- host recording every call; run by TestApplyEngineLua. The actions
-- modules are fakes installed by the Go test (cells.actions,
-- cells.actions.context).
local engine = require("cells.apply.engine")

local function host(fail_on)
  local calls = {}
  local function rec(s)
    calls[#calls + 1] = s
    if fail_on == s then return nil, "boom " .. s end
    return true
  end
  local h = {
    calls = calls,
    verbosity = 1,
    info = function(line) calls[#calls + 1] = "info " .. line end,
    env = { goos = "linux" },
    state = {
      ensure_volume = function(n, m) calls[#calls + 1] = "volume " .. n .. " " .. tostring(m); return "/v/" .. n end,
      ensure_cell = function(n) return rec("mkdir " .. n) end,
      write = function(n, h) return rec("write " .. n .. " apply=" .. tostring(h.apply)) end,
    },
    lifecycle = {
      start = function(n, hc) local ok, e = rec("start " .. n .. (hc and " +health" or "")); if ok then return 7 end; return nil, e end,
      stop = function(n) return rec("stop " .. n) end,
      restart = function(n) return rec("restart " .. n) end,
      healthcheck = function(n) return rec("healthcheck " .. n) end,
      id = function(n) return 7 end,
      identity = function(n, own) return { uid = 0, gid = 0, groups = "0" } end,
    },
  }
  ACTION_LOG = calls
  return h
end

local function desired(with_doc)
  local d = { applies = {} }
  if with_doc then
    d.applies.c = { name = "c", manifest_dir = "/etc/cellman", hash = "a1",
      actions = { { kind = "fake", args = { say = "one" } }, { kind = "fake", args = { say = "two" } } } }
  end
  return d
end

local function row(t)
  local r = { name = "c", autostart = false, running = false, healthcheck = true, apply_needed = false,
    service_changed = false, policy_changed = false, hashes = { manifest = "m", service = "s", policy = "p" } }
  for k, v in pairs(t) do r[k] = v end
  if r.apply_needed then r.hashes.apply = "a1" end
  return r
end

local A = "run fake one|run fake two"
local cases = {
  { name = "parked, stopped", row = {}, want = "mkdir c|write c apply=nil" },
  { name = "parked, running: stop", row = { running = true }, want = "mkdir c|stop c|write c apply=nil" },
  { name = "parked, apply: ephemeral start", row = { apply_needed = true },
    want = "mkdir c|start c|" .. A .. "|stop c|write c apply=a1" },
  { name = "parked, running, apply: stop, ephemeral start", row = { running = true, apply_needed = true },
    want = "mkdir c|stop c|start c|" .. A .. "|stop c|write c apply=a1" },
  { name = "autostart, stopped: start with healthcheck", row = { autostart = true },
    want = "mkdir c|start c +health|write c apply=nil" },
  { name = "autostart, running, unchanged: healthcheck", row = { autostart = true, running = true },
    want = "mkdir c|healthcheck c|write c apply=nil" },
  { name = "autostart, running, no healthcheck declared", row = { autostart = true, running = true, healthcheck = false },
    want = "mkdir c|write c apply=nil" },
  { name = "autostart, running, service changed: restart", row = { autostart = true, running = true, service_changed = true },
    want = "mkdir c|restart c|write c apply=nil" },
  { name = "autostart, running, policy changed: recorded only", row = { autostart = true, running = true, policy_changed = true },
    want = "mkdir c|healthcheck c|write c apply=nil" },
  { name = "autostart, running, policy changed, --restart-changed", restart_changed = true,
    row = { autostart = true, running = true, policy_changed = true },
    want = "mkdir c|restart c|write c apply=nil" },
  { name = "autostart, stopped, apply: start for apply, restart", row = { autostart = true, apply_needed = true },
    want = "mkdir c|start c|" .. A .. "|restart c|write c apply=a1" },
  { name = "autostart, running, apply and service change: one restart",
    row = { autostart = true, running = true, apply_needed = true, service_changed = true },
    want = "mkdir c|" .. A .. "|restart c|write c apply=a1" },
  { name = "start failure: no hashes", row = { autostart = true }, fail_on = "start c +health",
    want = "mkdir c|start c +health", err = "boom start c +health" },
  { name = "action failure: no hashes", row = { apply_needed = true }, fail_action = "two",
    want = "mkdir c|start c|run fake one|run fake two",
    err = "apply c action 2 (fake): failed two" },
}

for _, tc in ipairs(cases) do
  local h = host(tc.fail_on)
  FAIL_ACTION = tc.fail_action
  local ok, err = pcall(engine.cell, row(tc.row), desired(tc.row.apply_needed), h,
    { restart_changed = tc.restart_changed })
  local got = {}
  for _, c in ipairs(h.calls) do
    if c:sub(1, 5) ~= "info " then got[#got + 1] = c end
  end
  got = table.concat(got, "|")
  if got ~= tc.want then fail(tc.name .. ":\n got  " .. got .. "\n want " .. tc.want) end
  if tc.err then
    if ok or err ~= tc.err then fail(tc.name .. ": error " .. tostring(err) .. ", want " .. tc.err) end
  elseif not ok then
    fail(tc.name .. ": " .. tostring(err))
  end
end

-- the describe lines are logged at -v before each action runs
do
  local h = host()
  FAIL_ACTION = nil
  engine.cell(row({ apply_needed = true }), desired(true), h, {})
  local infos = {}
  for _, c in ipairs(h.calls) do if c:sub(1, 5) == "info " then infos[#infos + 1] = c end end
  if table.concat(infos, "|") ~= "info fake one|info fake two" then fail("describe lines: " .. table.concat(infos, "|")) end
end

-- run: volumes first, then the targets; the first failure stops the loop
-- and the earlier targets keep their hashes
do
  local h = host("start b +health")
  local plan = {
    volumes = { { name = "data", mode = "0750" } },
    cells = { row({ name = "a" }), row({ name = "b", autostart = true }), row({ name = "z" }) },
  }
  plan.cells[1].name, plan.cells[2].name, plan.cells[3].name = "a", "b", "z"
  local seen = {}
  local ok, err = pcall(engine.run, plan, { applies = {} }, h, {}, function(i) seen[#seen + 1] = i end)
  local got = {}
  for _, c in ipairs(h.calls) do if c:sub(1, 5) ~= "info " then got[#got + 1] = c end end
  got = table.concat(got, "|")
  local want = "volume data 0750|mkdir a|write a apply=nil|mkdir b|start b +health"
  if ok or err ~= "boom start b +health" then fail("run: error " .. tostring(err)) end
  if got ~= want then fail("run:\n got  " .. got .. "\n want " .. want) end
  if table.concat(seen, ",") ~= "1,2" then fail("run: before " .. table.concat(seen, ",")) end
end

-- run with host.lifecycle.healthchecks: consecutive check-only targets
-- have their healthchecks run as one batch, then are converged, logged
-- and recorded in order; the first failing one in order stops the run
-- with its message. A single check-only target is checked on its own.
do
  local h = host()
  h.lifecycle.healthchecks = function(names)
    h.calls[#h.calls + 1] = "healthchecks " .. table.concat(names, ",")
    local r = {}
    for i, n in ipairs(names) do
      if n == "c" then r[i] = "cell healthcheck c failed: boom" break end
      r[i] = true
    end
    return r
  end
  local function auto(n, t)
    local r = row(t or {})
    r.name, r.autostart, r.running = n, true, true
    return r
  end
  local plan = {
    volumes = {},
    cells = { auto("a"), auto("b"), auto("s", { service_changed = true }), auto("x"),
      row({ name = "p" }), auto("y"), auto("z", { healthcheck = false }), auto("b2"), auto("c"), auto("d") },
  }
  for i, n in ipairs({ "a", "b", "s", "x", "p", "y", "z", "b2", "c", "d" }) do plan.cells[i].name = n end
  local seen = {}
  local ok, err = pcall(engine.run, plan, { applies = {} }, h, {}, function(i) seen[#seen + 1] = i end)
  local got = {}
  for _, c in ipairs(h.calls) do if c:sub(1, 5) ~= "info " then got[#got + 1] = c end end
  got = table.concat(got, "|")
  local want = "healthchecks a,b|mkdir a|write a apply=nil|mkdir b|write b apply=nil|" ..
      "mkdir s|restart s|write s apply=nil|mkdir x|healthcheck x|write x apply=nil|" ..
      "mkdir p|write p apply=nil|mkdir y|healthcheck y|write y apply=nil|" ..
      "mkdir z|write z apply=nil|healthchecks b2,c,d|mkdir b2|write b2 apply=nil|mkdir c"
  if ok or err ~= "cell healthcheck c failed: boom" then fail("batch run: error " .. tostring(err)) end
  if got ~= want then fail("batch run:\n got  " .. got .. "\n want " .. want) end
  if table.concat(seen, ",") ~= "1,2,3,4,5,6,7,8,9" then fail("batch run: before " .. table.concat(seen, ",")) end
  -- --restart-changed: a policy change restarts, so it is no check-only target
  if engine.check_only(auto("q", { policy_changed = true }), { restart_changed = true }) then
    fail("check_only: policy change with --restart-changed")
  end
  if not engine.check_only(auto("q", { policy_changed = true }), {}) then
    fail("check_only: policy change is recorded only")
  end
end
