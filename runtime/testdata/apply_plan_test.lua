-- Table-driven tests of cells.apply.plan over observed states; run by
-- TestApplyPlanLua (apply_lua_test.go). fail(msg) reports a failure.
local planner = require("cells.apply.plan")
local report = require("cells.apply.report")
local json = require("cells.apply.json")

local H = { manifest = "m1", service = "s1", policy = "p1" }

local function desired(extra)
  local d = {
    cells = {
      { name = "db", autostart = false, service = "s1", policy = "p1", manifest = "m1" },
      { name = "web", autostart = true, healthcheck = "true", depends_on = { "db" },
        service = "s1", policy = "p1", manifest = "m1" },
    },
    volumes = { { name = "data", mode = "0750" }, { name = "cache" } },
    applies = {},
  }
  for k, v in pairs(extra or {}) do d[k] = v end
  return d
end

local function doc(hash)
  return { name = "web", file = "/etc/cellman/web.lua", manifest_dir = "/etc/cellman", hash = hash,
    actions = { { kind = "dir", args = { path = "/x" } }, { kind = "file", args = { path = "/y", content = "" } } } }
end

local function copy(t) local o = {} for k, v in pairs(t) do o[k] = v end return o end

local converged = {
  runtime = { db = true, web = true },
  hashes = { db = copy(H), web = copy(H) },
  running = { web = { id = 1 } },
  volumes = { data = { exists = true, mode = 488 }, cache = { exists = true, mode = 493 } },
}

local function with(base, f)
  local o = {}
  for k, v in pairs(base) do
    if type(v) == "table" then
      o[k] = {}
      for k2, v2 in pairs(v) do o[k][k2] = type(v2) == "table" and copy(v2) or v2 end
    else o[k] = v end
  end
  f(o)
  return o
end

-- expect: per cell name, the flags that must hold; volumes by name.
local cases = {
  { name = "nothing applied", observed = {}, changes = true,
    cells = { db = { changed = true, config_changed = true, service_changed = true, policy_changed = true,
                     runtime_exists = false, running = false, apply_state = "NONE" },
              web = { changed = true, apply_state = "NONE" } },
    volumes = { data = true, cache = true } },
  { name = "converged", observed = converged, changes = false,
    cells = { db = { changed = false, config_changed = false, running = false, runtime_exists = true },
              web = { changed = false, running = true, autostart = true } },
    volumes = { data = false, cache = false } },
  { name = "non-autostart cell running", changes = true,
    observed = with(converged, function(o) o.running.db = { id = 2 } end),
    cells = { db = { changed = true, running = true, config_changed = false } } },
  { name = "autostart cell stopped", changes = true,
    observed = with(converged, function(o) o.running.web = nil end),
    cells = { web = { changed = true, running = false, config_changed = false } } },
  { name = "service drift", changes = true,
    observed = with(converged, function(o) o.hashes.web.service = "old" end),
    cells = { web = { changed = true, service_changed = true, policy_changed = false, config_changed = true } } },
  { name = "policy drift", changes = true,
    observed = with(converged, function(o) o.hashes.db.policy = "old" end),
    cells = { db = { changed = true, service_changed = false, policy_changed = true, config_changed = true } } },
  { name = "manifest drift only", changes = true,
    observed = with(converged, function(o) o.hashes.db.manifest = "old" end),
    cells = { db = { changed = true, config_changed = true, service_changed = false, policy_changed = false } } },
  { name = "runtime dir missing", changes = true,
    observed = with(converged, function(o) o.runtime.db = nil end),
    cells = { db = { changed = true, runtime_exists = false, config_changed = false } } },
  { name = "apply never run", changes = true, desired = desired({ applies = { web = doc("a1") } }),
    observed = converged,
    cells = { web = { changed = true, apply_state = "PENDING", apply_needed = true, actions = 2, run = true } } },
  { name = "apply unchanged", changes = false, desired = desired({ applies = { web = doc("a1") } }),
    observed = with(converged, function(o) o.hashes.web.apply = "a1" end),
    cells = { web = { changed = false, apply_state = "UNCHANGED", apply_needed = false, actions = 2, run = false } } },
  { name = "apply unchanged, forced", changes = true, force = true, desired = desired({ applies = { web = doc("a1") } }),
    observed = with(converged, function(o) o.hashes.web.apply = "a1" end),
    cells = { web = { changed = true, apply_state = "PENDING", apply_needed = true, run = true } } },
  { name = "apply edited", changes = true, desired = desired({ applies = { web = doc("a2") } }),
    observed = with(converged, function(o) o.hashes.web.apply = "a1" end),
    cells = { web = { changed = true, apply_state = "PENDING", apply_needed = true } } },
  { name = "apply removed", changes = true,
    observed = with(converged, function(o) o.hashes.db.apply = "a1" end),
    cells = { db = { changed = true, apply_state = "REMOVED", apply_removed = true, apply_needed = false, actions = 0 } } },
  { name = "non-autostart cell with pending apply", changes = true,
    desired = desired({ applies = { db = { name = "db", hash = "a1", actions = {} } } }),
    observed = converged,
    cells = { db = { changed = true, apply_state = "PENDING", apply_needed = true, actions = 0 } } },
  { name = "volume missing", changes = true,
    observed = with(converged, function(o) o.volumes.data = { exists = false, mode = 0 } end),
    volumes = { data = true, cache = false } },
  { name = "volume mode drift", changes = true,
    observed = with(converged, function(o) o.volumes.data.mode = 448 end),
    volumes = { data = true, cache = false } },
  { name = "undeclared mode never drifts", changes = false,
    observed = with(converged, function(o) o.volumes.cache.mode = 511 end),
    volumes = { cache = false } },
  { name = "targets", changes = false, targets = { "web" }, observed = converged, order = { "web" } },
  { name = "targets keep dependency order", changes = false, targets = { "web", "db" }, observed = converged,
    order = { "db", "web" } },
  { name = "unknown target", targets = { "nope" }, observed = converged,
    err = "cell not found in desired state: nope" },
  { name = "invalid volume mode", desired = desired({ volumes = { { name = "v", mode = "0999" } } }),
    observed = {}, err = "invalid volume mode: 0999" },
}

for _, tc in ipairs(cases) do
  local d = tc.desired or desired()
  local opts = { targets = tc.targets, dry_run = true, force = tc.force }
  local p, err = planner.plan(d, tc.observed, opts)
  if tc.err then
    if p ~= nil or err ~= tc.err then fail(tc.name .. ": want error " .. tc.err .. ", got " .. tostring(err)) end
  elseif not p then
    fail(tc.name .. ": " .. tostring(err))
  else
    if tc.changes ~= nil and p.changes ~= tc.changes then
      fail(tc.name .. ": changes = " .. tostring(p.changes))
    end
    local byname = {}
    for _, c in ipairs(p.cells) do byname[c.name] = c end
    for cname, want in pairs(tc.cells or {}) do
      local c = byname[cname]
      if not c then fail(tc.name .. ": no row for " .. cname) else
        for k, v in pairs(want) do
          local got = c[k]
          if k == "actions" then got = #c.actions end
          if k == "run" then
            for _, a in ipairs(c.actions) do if a.run ~= v then got = a.run end end
            if #c.actions > 0 and got == nil then got = v end
          end
          if got ~= v then
            fail(tc.name .. ": " .. cname .. "." .. k .. " = " .. tostring(got) .. ", want " .. tostring(v))
          end
        end
      end
    end
    for _, v in ipairs(p.volumes) do
      local want = (tc.volumes or {})[v.name]
      if want ~= nil and v.changed ~= want then
        fail(tc.name .. ": volume " .. v.name .. " changed = " .. tostring(v.changed))
      end
    end
    if tc.order then
      local names = {}
      for i, c in ipairs(p.cells) do names[i] = c.name end
      if table.concat(names, ",") ~= table.concat(tc.order, ",") then
        fail(tc.name .. ": order " .. table.concat(names, ","))
      end
    end
    -- determinism: a second plan of the same inputs renders the same bytes
    local q = planner.plan(d, tc.observed, opts)
    local a = report.head(p, 120) .. report.tail(p, 120) .. json.plan(p)
    local b = report.head(q, 120) .. report.tail(q, 120) .. json.plan(q)
    if a ~= b then fail(tc.name .. ": plan not deterministic") end
    -- the exit code of a dry run follows changes
    if report.exit_code(p) ~= (p.changes and 2 or 0) then fail(tc.name .. ": exit code") end
  end
end
