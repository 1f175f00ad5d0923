-- cells.apply.actions: runs the actions of one apply document inside its
-- running cell (reference 4.6), through the action modules of cells.actions
-- and a context from cells.actions.context (see notes/apply-contract.md).
-- Errors read "apply <name> action <i> (<kind>): <err>".
local M = {}

-- The trust store must be current before packages are fetched; only NetBSD
-- cells carry certctl.
local certctl = "if [ -x /usr/sbin/certctl ]; then /usr/sbin/certctl rehash; " ..
    "else echo 'missing /usr/sbin/certctl in cell' >&2; exit 1; fi"

local function load(modname)
  local ok, mod = pcall(require, modname)
  if not ok then error("apply engine: " .. modname .. " is not available: " .. tostring(mod), 0) end
  return mod
end

local function errtext(e)
  if type(e) == "table" then
    return tostring(e.msg or e.message or e)
  end
  return tostring(e)
end

-- context builds the action context of cell name.
function M.context(name, desired, host, options)
  local doc = desired.applies[name]
  local env = host.env or {}
  local ident, ierr = host.lifecycle.identity(name, options.plain_identity)
  if ident == nil then error("apply " .. name .. ": run_as: " .. tostring(ierr), 0) end
  local id = host.lifecycle.id and host.lifecycle.id(name) or nil
  local ctxmod = load("cells.actions.context")
  return ctxmod.new {
    cell = name,
    cell_id = id,
    root = env.cell_root and env.cell_root(name) or nil,
    manifest_dir = doc.manifest_dir,
    verbosity = host.verbosity or 0,
    run = ident,
    pkg_path = env.pkg_path,
    pkg_tool = env.pkg_tool or "pkg_add",
    release = env.release,
    arch = env.arch,
    log = host.info,
    warn = host.warn,
    forward = options.forward or (host.verbosity or 0) >= 2,
  }
end

-- run runs every action of the apply document of cell name, in order.
function M.run(name, desired, host, options)
  local doc = desired.applies[name]
  if doc == nil then error("cell plan run: no apply document found for cell " .. name, 0) end
  if #doc.actions == 0 then return end
  local actions = load("cells.actions")
  local ctx = M.context(name, desired, host, options)
  local env = host.env or {}
  if env.goos == "netbsd" and #doc.actions > 0 then
    local ok, err = pcall(ctx.exec, ctx, certctl)
    if not ok then error("certctl rehash failed in cell " .. name .. ": " .. errtext(err), 0) end
  end
  for i, a in ipairs(doc.actions) do
    local function fail(e)
      error("apply " .. name .. " action " .. i .. " (" .. a.kind .. "): " .. errtext(e), 0)
    end
    local kind = actions.get(a.kind)
    if kind == nil then fail("unknown action kind: " .. a.kind) end
    if (host.verbosity or 0) >= 1 and kind.describe then
      local ok, line = pcall(kind.describe, ctx, a.args)
      if not ok then fail(line) end
      if line ~= nil then host.info(line) end
    end
    local ok, err = pcall(kind.run, ctx, a.args)
    if not ok then fail(err) end
  end
end

return M
