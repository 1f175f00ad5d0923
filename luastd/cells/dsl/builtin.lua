-- cells.dsl.builtin: the built-in action kinds (upstream-cells §3.6),
-- registered through the same registry operators use for their own kinds.
local check = require("cells.dsl.check")

local deprecated_token_env = 'template token_env is deprecated; use tokens={name=from_env("ENV")}'

local function owner_fields(kind)
  local msg = kind .. " options mode/owner/group must be strings"
  return { name = "mode", type = "mode", message = msg },
      { name = "owner", type = "owner", message = msg },
      { name = "group", type = "group", message = msg }
end

-- pkg("a", "b", ...) or pkg({"a", "b"})
local function pkg_varargs(ctx, n, args)
  local list
  if n == 1 and type(args[1]) == "table" then
    list = {}
    for i, p in ipairs(args[1]) do
      if type(p) ~= "string" then ctx:fail("pkg list entries must be strings") end
      list[i] = p
    end
  else
    list = {}
    for i = 1, n do
      if type(args[i]) ~= "string" then ctx:fail("pkg arguments must be strings") end
      list[i] = args[i]
    end
  end
  if #list == 0 then ctx:fail("pkg requires at least one package") end
  return { kind = "pkg", packages = list }
end

return function(M)
  M.register {
    kind = "pkg",
    fields = { { name = "packages", type = "packages", required = true } },
    varargs = pkg_varargs,
    positional = {},
  }
  M.register {
    kind = "exec",
    fields = { { name = "command", type = "string", required = true } },
    positional = { "command" },
  }
  local m, o, g = owner_fields("dir")
  M.register {
    kind = "dir",
    fields = { { name = "path", type = "string", required = true, path = true }, m, o, g },
    positional = { "path" },
    options = { "mode", "owner", "group" },
  }
  M.register {
    kind = "line",
    fields = {
      { name = "path", type = "string", required = true, path = true },
      { name = "text", type = "string", required = true },
    },
    positional = { "path", "text" },
  }
  M.register {
    kind = "symlink",
    fields = {
      { name = "target", type = "string", required = true, nonempty = true },
      { name = "linkpath", type = "string", required = true, path = true },
    },
    positional = { "target", "linkpath" },
  }
  m, o, g = owner_fields("copy")
  M.register {
    kind = "copy",
    fields = {
      { name = "source", type = "string", required = true, source = true, nonempty = true },
      { name = "target", type = "string", required = true, path = true },
      m, o, g,
    },
    positional = { "source", "target" },
    options = { "mode", "owner", "group" },
  }
  M.register {
    kind = "untar",
    fields = {
      { name = "source", type = "string", required = true, source = true, nonempty = true },
      { name = "target", type = "string", required = true, path = true },
      { name = "strip", type = "uint", default = 0, message = "untar option strip must be integer" },
    },
    positional = { "source", "target" },
    options = { "strip" },
  }
  m, o, g = owner_fields("file")
  M.register {
    kind = "file",
    fields = {
      { name = "path", type = "string", required = true, path = true },
      { name = "content", type = "string", required = true },
      m, o, g,
    },
    positional = { "path", "content" },
    options = { "mode", "owner", "group" },
  }
  M.register {
    kind = "patch",
    fields = {
      { name = "path", type = "string", required = true, path = true },
      { name = "content", type = "string", required = true },
      { name = "strip", type = "uint", default = 0, message = "patch option strip must be integer" },
    },
    positional = { "path", "content" },
    options = { "strip" },
  }
  m, o, g = owner_fields("template")
  M.register {
    kind = "template",
    fields = {
      { name = "source", type = "string", required = true, source = true, nonempty = true },
      { name = "target", type = "string", required = true, path = true },
      m, o, g,
      { name = "tokens", type = "tokens" },
    },
    positional = { "source", "target" },
    options = { "mode", "owner", "group", "tokens" },
    deprecated = { token_env = deprecated_token_env, env_tokens = deprecated_token_env },
  }
  M.register {
    kind = "script",
    fields = {
      { name = "path", type = "string", required = true, source = true, nonempty = true },
      { name = "args", type = "strings" },
      { name = "env", type = "env" },
      { name = "cwd", type = "string", path = true },
      { name = "timeout", type = "uint", default = 0 },
      { name = "ignore_exit", type = "bool", default = false },
    },
    positional = { "path" },
    options = { "args", "env", "cwd", "timeout", "ignore_exit" },
  }
  -- check is kept referenced for custom kinds that want its checkers.
  M.check = check
end
