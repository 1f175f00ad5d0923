-- cells.apply.tokens: template tokens (reference 3.7) and their rendering.
--
-- Syntax: {{ name }}; whitespace inside the braces is trimmed; the name
-- must match [A-Za-z0-9_]+ ("invalid template token: <n>"); an unknown
-- name is an error ("unknown template token: <n>"), and so is a "{{"
-- without a later "}}" ("unterminated template token"). Single braces and
-- a lone "}}" are left alone. Substituted values are not scanned again.
--
-- Escape (DESIGN difference 7; upstream has none): "{{{{" renders a
-- literal "{{". Upstream rejects every text containing "{{{" (the token
-- name would start with "{"), so no text upstream accepts changes meaning.
-- Example: "{{{{ user }}" renders "{{ user }}".
local M = {}

M.ESCAPE = "{{{{"

local function is_name(s)
  return s ~= "" and not s:find("[^A-Za-z0-9_]")
end

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- render replaces the tokens of s by their values in the table tokens
-- (values are strings or numbers). It raises error(msg, 0) on a bad token.
function M.render(s, tokens)
  if type(s) ~= "string" or not s:find("{{", 1, true) then return s end
  local out, pos = {}, 1
  while true do
    local a = s:find("{{", pos, true)
    if not a then
      out[#out + 1] = s:sub(pos)
      break
    end
    out[#out + 1] = s:sub(pos, a - 1)
    if s:sub(a, a + 3) == M.ESCAPE then
      out[#out + 1] = "{{"
      pos = a + 4
    else
      local b = s:find("}}", a + 2, true)
      if not b then error("unterminated template token", 0) end
      local name = trim(s:sub(a + 2, b - 1))
      if not is_name(name) then error("invalid template token: " .. name, 0) end
      local v = tokens[name]
      if v == nil then error("unknown template token: " .. name, 0) end
      out[#out + 1] = tostring(v)
      pos = b + 2
    end
  end
  return table.concat(out)
end

-- runtime returns the runtime tokens of a context:
-- { cell = name, root = host root, manifest_dir =, release =, arch =,
--   run = { uid =, gid =, groups = "a,b" } }.
function M.runtime(o)
  local run = o.run or {}
  return {
    cell_name = o.cell or "",
    cell_root = o.root or "",
    manifest_dir = o.manifest_dir or "",
    release = o.release or "",
    arch = o.arch or "",
    run_uid = tostring(run.uid or ""),
    run_gid = tostring(run.gid or ""),
    run_groups = tostring(run.groups or ""),
  }
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- merge builds the tokens of one template action: the runtime tokens, then
-- the action's literal tokens, then its from_env tokens (getenv(name) ->
-- value or nil); later sources override earlier ones.
function M.merge(runtime, tokens, getenv)
  local out = {}
  for k, v in pairs(runtime or {}) do out[k] = v end
  if tokens == nil then return out end
  local keys = sorted_keys(tokens)
  for _, k in ipairs(keys) do
    if type(tokens[k]) == "string" then out[k] = tokens[k] end
  end
  for _, k in ipairs(keys) do
    local v = tokens[k]
    if type(v) == "table" and v.__cellman_from_env ~= nil then
      local env = v.__cellman_from_env
      local val = getenv(env)
      if val == nil then error("environment variable not set for token_env: " .. env, 0) end
      out[k] = val
    end
  end
  return out
end

return M
