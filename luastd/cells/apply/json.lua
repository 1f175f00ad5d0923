-- cells.apply.json: the plan as JSON for `cellman apply --dry-run -J`
-- (cellman(8), APPLY JSON). Keys are written in a fixed order so the text
-- is deterministic:
--   {"__version":"1","dry_run":true,"changes":true,
--    "volumes":[{"name":"data","mode":"0750","changed":true}],
--    "cells":[{"name":"web","changed":true,"apply":"PENDING","cfg":true,"svc":true,
--              "pol":true,"rt":false,"run":false,"auto":true,
--              "actions":[{"index":1,"kind":"dir","run":true}]}]}
-- An undeclared volume mode is null. One line, newline-terminated.
local M = {}

local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

function M.string(s)
  s = tostring(s):gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end)
  return '"' .. s .. '"'
end

local function b(v) return v and "true" or "false" end

function M.plan(plan)
  local out = { '{"__version":"1","dry_run":', b(plan.dry_run), ',"changes":', b(plan.changes), ',"volumes":[' }
  for i, v in ipairs(plan.volumes) do
    if i > 1 then out[#out + 1] = "," end
    local mode = (v.mode == nil or v.mode == "") and "null" or M.string(v.mode)
    out[#out + 1] = '{"name":' .. M.string(v.name) .. ',"mode":' .. mode .. ',"changed":' .. b(v.changed) .. '}'
  end
  out[#out + 1] = '],"cells":['
  for i, c in ipairs(plan.cells) do
    if i > 1 then out[#out + 1] = "," end
    out[#out + 1] = '{"name":' .. M.string(c.name) .. ',"changed":' .. b(c.changed) ..
        ',"apply":' .. M.string(c.apply_state) .. ',"cfg":' .. b(c.config_changed) ..
        ',"svc":' .. b(c.service_changed) .. ',"pol":' .. b(c.policy_changed) ..
        ',"rt":' .. b(c.runtime_exists) .. ',"run":' .. b(c.running) ..
        ',"auto":' .. b(c.autostart) .. ',"actions":['
    for j, a in ipairs(c.actions) do
      if j > 1 then out[#out + 1] = "," end
      out[#out + 1] = '{"index":' .. a.index .. ',"kind":' .. M.string(a.kind) .. ',"run":' .. b(a.run) .. '}'
    end
    out[#out + 1] = ']}'
  end
  out[#out + 1] = ']}\n'
  return table.concat(out)
end

return M
