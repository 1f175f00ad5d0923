-- cells.apply.report: the text forms of a plan (reference 4.3): the ASCII
-- report in two parts (the plan before execution, the closing tables
-- after it), the -v log lines, and the final "ok apply" lines. Every
-- function returns strings; the engine decides where they go.
local layout = require("cells.apply.layout")

local M = {}

local function yn(b) return b and "YES" or "NO" end
M.yn = yn

local function mode_name(plan) return plan.dry_run and "DRY-RUN" or "APPLY" end

-- num is "i/n"; the strings of one n are cached (a report asks for the
-- same ones thousands of times).
local nums = {}
local function num(i, n)
  local t = nums[n]
  if t == nil then t = {}; nums[n] = t end
  local s = t[i]
  if s == nil then s = i .. "/" .. n; t[i] = s end
  return s
end

-- head returns the header, [VOLUME] and [CELL] sections.
function M.head(plan, columns)
  local out = { "APPLY REPORT (" .. mode_name(plan) .. ")\n", "[VOLUME]\n" }
  local rows = {}
  local nv = #plan.volumes
  for i, v in ipairs(plan.volumes) do
    rows[i] = { num(i, nv), v.name, v.mode, yn(v.changed) }
  end
  out[#out + 1] = layout.render({
    { title = "#", min = 1 }, { title = "VOLUME", min = 6 },
    { title = "MODE", min = 4, shrink = true }, { title = "CHG", min = 3 },
  }, rows, columns)
  out[#out + 1] = "\n[CELL]\n"
  local cells = plan.cells
  local nc = #cells
  rows = {}
  for i = 1, nc do
    local c = cells[i]
    rows[i] = { num(i, nc), c.name, c.changed and "YES" or "NO", c.apply_state,
      c.config_changed and "YES" or "NO", c.service_changed and "YES" or "NO",
      c.policy_changed and "YES" or "NO", c.runtime_exists and "YES" or "NO",
      c.running and "YES" or "NO", c.autostart and "YES" or "NO" }
  end
  out[#out + 1] = layout.render({
    { title = "#", min = 3 }, { title = "CELL", min = 4 }, { title = "CHG", min = 3 },
    { title = "APPLY", min = 9, shrink = true }, { title = "CFG", min = 3 },
    { title = "SVC", min = 3 }, { title = "POL", min = 3 }, { title = "RT", min = 2 },
    { title = "RUN", min = 3 }, { title = "AUTO", min = 4 },
  }, rows, columns)
  return table.concat(out)
end

-- tail returns the [APPLY] and [ACTIONS] sections.
function M.tail(plan, columns)
  local out = { "\n[APPLY]\n" }
  local rows = {}
  local cells = plan.cells
  local nc = #cells
  for i = 1, nc do
    local c = cells[i]
    rows[i] = { num(i, nc), c.name, c.apply_state, tostring(#c.actions), c.apply_needed and "YES" or "NO" }
  end
  out[#out + 1] = layout.render({
    { title = "#", min = 3 }, { title = "CELL", min = 4 },
    { title = "STATE", min = 9, shrink = true }, { title = "ACTIONS", min = 7 },
    { title = "RUN", min = 3 },
  }, rows, columns)
  out[#out + 1] = "\n[ACTIONS]\n"
  rows = {}
  local r = 0
  for i = 1, nc do
    local c = cells[i]
    local name, actions = c.name, c.actions
    local k = #actions
    if k == 0 then
      r = r + 1; rows[r] = { name, "-", "(none)", "NO" }
    else
      local ks = nums[k] or {}
      nums[k] = ks
      for j = 1, k do
        local a = actions[j]
        r = r + 1; rows[r] = { name, ks[j] or num(j, k), a.kind, a.run and "YES" or "NO" }
      end
    end
  end
  out[#out + 1] = layout.render({
    { title = "CELL", min = 4 }, { title = "#", min = 3 },
    { title = "KIND", min = 4, shrink = true }, { title = "RUN", min = 3 },
  }, rows, columns)
  return table.concat(out)
end

-- Log lines (without the "cellman: info: " prefix).

function M.volume_lines(plan)
  local n = #plan.volumes
  local out = { "apply phase=volume mode=" .. mode_name(plan) .. " total=" .. n }
  for i, v in ipairs(plan.volumes) do
    local m = (v.mode == nil or v.mode == "") and "-" or v.mode
    out[#out + 1] = "apply phase=volume row=" .. num(i, n) .. " name=" .. v.name ..
        " mode=" .. m .. " changed=" .. yn(v.changed)
  end
  return out
end

function M.cell_lines(plan)
  local n = #plan.cells
  local out = { "apply phase=cell mode=" .. mode_name(plan) .. " total=" .. n ..
      " force=" .. yn(plan.force) .. " restart_changed=" .. yn(plan.restart_changed) }
  for i, c in ipairs(plan.cells) do
    out[#out + 1] = "apply phase=cell row=" .. num(i, n) .. " name=" .. c.name ..
        " changed=" .. yn(c.changed) .. " apply=" .. c.apply_state ..
        " cfg=" .. yn(c.config_changed) .. " svc=" .. yn(c.service_changed) ..
        " pol=" .. yn(c.policy_changed) .. " rt=" .. yn(c.runtime_exists) ..
        " run=" .. yn(c.running) .. " auto=" .. yn(c.autostart)
  end
  return out
end

-- target_lines are the plan and action lines of the i-th target.
function M.target_lines(plan, i)
  local c = plan.cells[i]
  local out = { "apply phase=plan row=" .. num(i, #plan.cells) .. " name=" .. c.name ..
      " state=" .. c.apply_state .. " actions=" .. #c.actions .. " run=" .. yn(c.apply_needed) }
  local k = #c.actions
  if k == 0 then
    out[2] = "apply phase=action name=" .. c.name .. " row=- kind=(none) run=NO"
  end
  for j, a in ipairs(c.actions) do
    out[#out + 1] = "apply phase=action name=" .. c.name .. " row=" .. num(j, k) ..
        " kind=" .. a.kind .. " run=" .. yn(a.run)
  end
  return out
end

-- exit_code is 2 for a dry run with drift, else 0.
function M.exit_code(plan)
  if plan.dry_run and plan.changes then return 2 end
  return 0
end

-- ok returns the closing payload lines for exit code rc (0 or 2).
function M.ok(plan, rc)
  local s = "ok apply targets=" .. #plan.cells .. " dry_run=" .. yn(plan.dry_run) .. "\n"
  if rc == 2 then s = s .. "dry-run changes=pending\n" end
  return s
end

return M
