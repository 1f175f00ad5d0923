-- cells.apply.layout: the ASCII tables of the apply report (reference 4.3).
--
--   +-----+--------+------+-----+
--   | #   | VOLUME | MODE | CHG |
--   +-----+--------+------+-----+
--   | 1/1 | data   | 0755 | YES |
--   +-----+--------+------+-----+
--
-- A column is { title = "MODE", min = 4, shrink = true }. Its width is the
-- largest of min, the title and every value; an empty value prints "-".
-- When the table is wider than the terminal, columns marked shrink lose one
-- character at a time (the widest first, leftmost on ties) down to the
-- larger of 4 and their title, and values that no longer fit end in "...".
-- The other columns (#, CELL, VOLUME, the YES/NO flags) never shrink, so a
-- table may stay wider than the terminal when nothing is left to cut.
local M = {}

-- The Go fast path of render (runtime/apply_layout.go), present in the
-- apply engine's VM; this file's render is the reference it must match.
local okn, native = pcall(require, "cells.apply.native")
if not okn then native = nil end

-- normalize turns every value of rows into its text in place ("-" when
-- empty); the rows belong to the caller's report being built.
local function normalize(rows, ncol)
  for _, r in ipairs(rows) do
    for i = 1, ncol do
      local v = r[i]
      if v == nil or v == "" then r[i] = "-" elseif type(v) ~= "string" then r[i] = tostring(v) end
    end
  end
end

-- widths returns the column widths for normalized rows within max_width
-- (nil: no limit).
function M.widths(cols, rows, max_width)
  local w = {}
  for i, c in ipairs(cols) do
    local n = math.max(c.min or 1, #c.title)
    for _, r in ipairs(rows) do
      local l = #r[i]
      if l > n then n = l end
    end
    w[i] = n
  end
  if max_width then
    local total = 1
    for i = 1, #w do total = total + w[i] + 3 end
    while total > max_width do
      local best
      for i, c in ipairs(cols) do
        local floor = math.max(4, #c.title)
        if c.shrink and w[i] > floor and (best == nil or w[i] > w[best]) then best = i end
      end
      if not best then break end
      w[best] = w[best] - 1
      total = total - 1
    end
  end
  return w
end

local pads = {}
local function pad(n)
  local p = pads[n]
  if p == nil then p = string.rep(" ", n); pads[n] = p end
  return p
end

-- render_lua returns the table as text (every line ends in "\n"). It
-- turns the values of rows into text in place.
function M.render_lua(cols, rows, max_width)
  local ncol = #cols
  normalize(rows, ncol)
  local w = M.widths(cols, rows, max_width)
  local border = { "+" }
  for i = 1, ncol do border[#border + 1] = string.rep("-", w[i] + 2) .. "+" end
  border = table.concat(border) .. "\n"
  local out, n = {}, 0
  local function line(values)
    n = n + 1; out[n] = "| "
    for i = 1, ncol do
      local s, width = values[i], w[i]
      local l = #s
      if l > width then
        s = width < 4 and s:sub(1, width) or s:sub(1, width - 3) .. "..."
      elseif l < width then
        s = s .. pad(width - l)
      end
      n = n + 1; out[n] = s
      n = n + 1; out[n] = i < ncol and " | " or " |\n"
    end
  end
  local titles = {}
  for i, c in ipairs(cols) do titles[i] = c.title end
  n = n + 1; out[n] = border
  line(titles)
  n = n + 1; out[n] = border
  for _, r in ipairs(rows) do line(r) end
  n = n + 1; out[n] = border
  return table.concat(out)
end

-- render is render_lua, or its Go twin when the host has one (which
-- leaves the values of rows as they are).
M.render = native and native.render or M.render_lua

return M
