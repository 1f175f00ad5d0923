-- cells.actions.context: the context an action runs with (see
-- notes/apply-contract.md). new(opts) takes
--   { cell =, cell_id =, root = host path of the cell root, manifest_dir =,
--     verbosity = 0|1|2, run = { uid =, gid =, groups = "a,b" },
--     pkg_path =, pkg_tool = "pkg_add", release =, arch =,
--     log = function(line), warn = function(msg), forward = bool,
--     default_timeout = secs (default M.DEFAULT_TIMEOUT, 0 = none) }
-- and returns ctx with
--   ctx.cell, ctx.cell_id, ctx.root, ctx.manifest_dir, ctx.verbosity,
--   ctx.run, ctx.pkg_path, ctx.pkg_tool, ctx.tokens (runtime tokens),
--   ctx.default_timeout (seconds, for commands without a timeout of their own),
--   ctx.fs (cells.fs root handle of ctx.root), ctx.quote(s) (shell quoting),
--   ctx:render(s [, tokens]), ctx:log(line), ctx:warn(msg),
--   ctx:target(p), ctx:source(p), ctx:must(v, err),
--   ctx:exec(command [, o]), ctx:exec_argv(argv [, o]), ctx:wrapper(command [, o]),
--   ctx:uid(owner), ctx:gid(group), ctx:apply_meta(path, mode, owner, group [, tokens]).
-- Every failure raises error(msg, 0).
local tokens = require("cells.apply.tokens")

local M = {}

-- DEFAULT_TIMEOUT bounds, in seconds, a command run by an action that sets
-- no timeout of its own.
M.DEFAULT_TIMEOUT = 3600

-- ENV is the environment of in-cell commands (the wrapper exports the rest):
-- never cellman's own, which may hold secrets. PATH covers pkgsrc's
-- prefix, where pkg installs programs that later exec and script actions call.
M.ENV = {
  PATH = "/usr/bin:/bin:/usr/sbin:/sbin:/usr/pkg/bin:/usr/pkg/sbin:/usr/local/bin:/usr/local/sbin",
  HOME = "/",
}

local Ctx = {}
Ctx.__index = Ctx

-- quote single-quotes s for /bin/sh ("'" becomes "'\''").
local function quote(s)
  return "'" .. (tostring(s):gsub("'", "'\\''")) .. "'"
end
M.quote = quote
Ctx.quote = quote

local function identity(run)
  if run ~= nil then
    return { uid = run.uid, gid = run.gid, groups = run.groups or "" }
  end
  -- Upstream: CELLMAN_RUN_* set by the apply engine, else cellman's own.
  local proc = require("cells.proc")
  local own = proc.self()
  return {
    uid = proc.getenv("CELLMAN_RUN_UID") or own.uid,
    gid = proc.getenv("CELLMAN_RUN_GID") or own.gid,
    groups = proc.getenv("CELLMAN_RUN_GROUPS") or own.groups,
  }
end

function M.new(opts)
  local self = setmetatable({}, Ctx)
  self.cell = opts.cell
  self.cell_id = opts.cell_id
  self.root = opts.root
  self.manifest_dir = opts.manifest_dir or "."
  self.verbosity = opts.verbosity or 0
  self.run = identity(opts.run)
  self.pkg_path = opts.pkg_path or ""
  self.pkg_tool = opts.pkg_tool or "pkg_add"
  self.release = opts.release or ""
  self.arch = opts.arch or ""
  self.forward = opts.forward or self.verbosity >= 2
  -- DESIGN difference 8, nothing waits forever: a command without a
  -- timeout of its own (exec, pkg, patch, script with timeout 0) gets this
  -- one; opts.default_timeout = 0 disables it.
  self.default_timeout = opts.default_timeout or M.DEFAULT_TIMEOUT
  self._log, self._warn = opts.log, opts.warn
  self.tokens = tokens.runtime {
    cell = self.cell, root = self.root, manifest_dir = self.manifest_dir,
    release = self.release, arch = self.arch, run = self.run,
  }
  if self.root ~= nil then self.fs = require("cells.fs").root(self.root) end
  return self
end

-- render renders s with the runtime tokens, or with t when given (t then
-- is the complete token table, e.g. a template's merged tokens).
function Ctx:render(s, t)
  if s == nil then return nil end
  return tokens.render(s, t or self.tokens)
end

function Ctx:log(line)
  if self._log then self._log(line) end
end

function Ctx:warn(msg)
  if self._warn then self._warn(msg) else print("cellman: warn: " .. msg) end
end

-- must returns v, or raises err (a cells.fs / cells.proc error table or a
-- string) as a message.
function Ctx:must(v, err)
  if v == nil then
    if type(err) == "table" then err = err.msg or tostring(err) end
    error(tostring(err), 0)
  end
  return v
end

-- target renders an in-cell target path, which must be absolute.
function Ctx:target(p, t)
  p = self:render(p, t)
  if p:sub(1, 1) ~= "/" then error("target path must be absolute in apply action: " .. p, 0) end
  return p
end

-- source renders a host source path (copy, untar, template, script):
-- absolute as is, relative joined to the .lua file's directory (reference
-- 3.8: a plain string join, no normalisation).
function Ctx:source(p, t)
  p = self:render(p, t)
  if p:sub(1, 1) == "/" then return p end
  return self.manifest_dir .. "/" .. p
end

local function valid_env(k)
  return type(k) == "string" and k:find("^[A-Za-z_][A-Za-z0-9_]*$") ~= nil
end

-- wrapper is the in-cell shell line of reference 4.6:
-- export PKG_PATH='…'; export CELLMAN_RUN_UID='…'; export CELLMAN_RUN_GID='…';
-- export CELLMAN_RUN_GROUPS='…'; [export K='v'; …] [cd '<cwd>' || exit 1; ] <command>
-- o.env values are exported in name order.
function Ctx:wrapper(command, o)
  o = o or {}
  local parts = {
    "export PKG_PATH=" .. quote(self.pkg_path) .. "; ",
    "export CELLMAN_RUN_UID=" .. quote(self.run.uid) .. "; ",
    "export CELLMAN_RUN_GID=" .. quote(self.run.gid) .. "; ",
    "export CELLMAN_RUN_GROUPS=" .. quote(self.run.groups) .. "; ",
  }
  if o.env then
    local keys = {}
    for k in pairs(o.env) do
      if not valid_env(k) then error("invalid environment variable name: " .. tostring(k), 0) end
      keys[#keys + 1] = k
    end
    table.sort(keys)
    for _, k in ipairs(keys) do
      parts[#parts + 1] = "export " .. k .. "=" .. quote(o.env[k]) .. "; "
    end
  end
  if o.cwd and o.cwd ~= "" then
    parts[#parts + 1] = "cd " .. quote(o.cwd) .. " || exit 1; "
  end
  parts[#parts + 1] = command
  return table.concat(parts)
end

-- first line of captured stderr, for error messages.
local function first_line(s)
  if type(s) ~= "string" then return nil end
  s = s:gsub("^%s+", "")
  local line = s:match("^[^\n]*")
  if line == nil or line == "" then return nil end
  if #line > 200 then line = line:sub(1, 200) .. "..." end
  return (line:gsub("%s+$", ""))
end

-- check turns a cells.proc result into the exit handling of reference 4.6.
-- o.raw returns the result of a failed command without raising.
function Ctx:check(res, o)
  o = o or {}
  if res.timed_out then
    error("command timed out after " .. tostring(o.timeout) .. " seconds", 0)
  end
  if res.code == 0 and res.signal == 0 then return res end
  if o.raw then return res end
  if o.ignore_exit then
    self:warn("command failed but ignore_exit=true (status=" .. tostring(res.raw) .. ")")
    return res
  end
  local msg
  if res.signal ~= 0 then
    msg = "command terminated by signal " .. res.signal
  else
    msg = "command failed with exit status " .. res.code
  end
  local why = not self.forward and first_line(res.stderr)
  if why then msg = msg .. ": " .. why end
  error(msg, 0)
end

-- exec_argv runs argv inside the cell (no shell) with o = { stdin, timeout,
-- ignore_exit, raw, capture_stdout } and returns the cells.proc result.
-- timeout nil or 0 means ctx.default_timeout.
function Ctx:exec_argv(argv, o)
  o = o or {}
  local proc = require("cells.proc")
  local timeout = o.timeout
  if timeout == nil or timeout == 0 then timeout = self.default_timeout end
  if timeout == 0 then timeout = nil end
  local res, err = proc.exec_in_cell(self.cell_id or self.cell, {
    argv = argv, env = M.ENV, stdin = o.stdin, timeout = timeout,
    forward = self.forward and not o.raw, capture_stdout = o.capture_stdout,
  })
  self:must(res, err)
  return self:check(res, { timeout = timeout, ignore_exit = o.ignore_exit, raw = o.raw })
end

-- exec runs command through /bin/sh -c and the wrapper inside the cell:
-- o = { env = {K=V}, cwd =, timeout = secs, stdin =, ignore_exit =, raw =, capture_stdout = }.
function Ctx:exec(command, o)
  o = o or {}
  return self:exec_argv({ "/bin/sh", "-c", self:wrapper(command, o) }, o)
end

-- lookup finds name in a colon-separated database of the cell (passwd,
-- group) and returns its third field as a number.
local function lookup(data, name)
  for line in data:gmatch("[^\n]+") do
    local n, _, id = line:match("^([^:]*):([^:]*):([^:]*)")
    if n == name and id and id:find("^%d+$") then return tonumber(id) end
  end
  return nil
end

local function idname_ok(s)
  return s:find("^[A-Za-z0-9_.-]+$") ~= nil
end

-- uid resolves an owner: "@run_uid", a number, or a name in the cell's
-- /etc/passwd (fallback /etc/master.passwd), read through ctx.fs.
function Ctx:uid(owner)
  if owner == "@run_uid" then return tonumber(self.run.uid) end
  if owner:find("^%d+$") then return tonumber(owner) end
  if not idname_ok(owner) then error("invalid owner: " .. owner, 0) end
  local file = "/etc/passwd"
  local data = self.fs:read_file(file)
  if data == nil then
    local alt = self.fs:read_file("/etc/master.passwd")
    if alt ~= nil then data, file = alt, "/etc/master.passwd" end
  end
  local id = data and lookup(data, owner)
  if id == nil then error("cannot resolve owner '" .. owner .. "' in " .. self.root .. file, 0) end
  return id
end

-- gid resolves a group: "@run_gid", a number, or a name in /etc/group.
function Ctx:gid(group)
  if group == "@run_gid" then return tonumber(self.run.gid) end
  if group:find("^%d+$") then return tonumber(group) end
  if not idname_ok(group) then error("invalid group: " .. group, 0) end
  local data = self.fs:read_file("/etc/group")
  local id = data and lookup(data, group)
  if id == nil then error("cannot resolve group '" .. group .. "' in " .. self.root .. "/etc/group", 0) end
  return id
end

local function set(s) return s ~= nil and s ~= "" end

-- apply_meta applies owner/group (lchown) then mode (after the chown, which
-- clears set-id bits) to path, and logs "applied ownership/mode: <path>".
-- Values are rendered with t (or the runtime tokens).
function Ctx:apply_meta(path, mode, owner, group, t)
  mode, owner, group = self:render(mode, t), self:render(owner, t), self:render(group, t)
  if not (set(mode) or set(owner) or set(group)) then return end
  local m
  if set(mode) then
    m = mode:find("^[0-7]+$") and tonumber(mode, 8)
    if not m or m > 4095 then error("invalid mode: " .. mode, 0) end
  end
  if set(owner) or set(group) then
    local uid = set(owner) and self:uid(owner) or -1
    local gid = set(group) and self:gid(group) or -1
    self:must(self.fs:chown(path, uid, gid))
  end
  if m then self:must(self.fs:chmod(path, m)) end
  self:log("applied ownership/mode: " .. path)
end

return M
