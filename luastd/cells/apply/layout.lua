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

local function cell_text(v)
  if v == nil or v == "" then return "-" end
  return tostring(v)
end

-- widths returns the column widths for rows within max_width (nil: no limit).
function M.widths(cols, rows, max_width)
  local w = {}
  for i, c in ipairs(cols) do
    local n = math.max(c.min or 1, #c.title)
    for _, r in ipairs(rows) do
      local l = #cell_text(r[i])
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

local function fit(s, width)
  if #s <= width then return s .. string.rep(" ", width - #s) end
  if width < 4 then return s:sub(1, width) end
  return s:sub(1, width - 3) .. "..."
end

-- render returns the table as text (every line ends in "\n").
function M.render(cols, rows, max_width)
  local w = M.widths(cols, rows, max_width)
  local border = { "+" }
  for i = 1, #w do border[#border + 1] = string.rep("-", w[i] + 2) .. "+" end
  border = table.concat(border) .. "\n"
  local function line(values)
    local out = { "|" }
    for i = 1, #w do out[#out + 1] = " " .. fit(values[i], w[i]) .. " |" end
    return table.concat(out) .. "\n"
  end
  local titles = {}
  for i, c in ipairs(cols) do titles[i] = c.title end
  local out = { border, line(titles), border }
  for _, r in ipairs(rows) do
    local vals = {}
    for i = 1, #cols do vals[i] = cell_text(r[i]) end
    out[#out + 1] = line(vals)
  end
  out[#out + 1] = border
  return table.concat(out)
end

return M
