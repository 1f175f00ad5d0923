-- cells.dsl.builtin: the built-in action kinds (upstream-cells §3.6).
-- def(kind) returns a fresh definition of a built-in kind (nil for any other
-- name), which cells.dsl.actions installs on first use. One function, not a
-- table of constructors: every DSL file loads this module in a fresh VM, and
-- each closure and key costs there. Fields are written in the registry's compact record form
-- { name, type, required, default, source, path, nonempty, message }
-- (see cells.dsl.actions): array-only tables are much cheaper to build in
-- gopher-lua than keyed ones, and every DSL file builds them afresh.
local deprecated_token_env = 'template token_env is deprecated; use tokens={name=from_env("ENV")}'

local function owner_fields(kind)
  local msg = kind .. " options mode/owner/group must be strings"
  return { "mode", "mode", nil, nil, nil, nil, nil, msg },
      { "owner", "owner", nil, nil, nil, nil, nil, msg },
      { "group", "group", nil, nil, nil, nil, nil, msg }
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

local function def(kind)
  if kind == "pkg" then
    return {
      kind = "pkg",
      fields = { { "packages", "packages", true } },
      varargs = pkg_varargs,
      positional = {},
    }
  elseif kind == "exec" then
    return {
      kind = "exec",
      fields = { { "command", "string", true } },
      positional = { "command" },
    }
  elseif kind == "dir" then
    local m, o, g = owner_fields("dir")
    return {
      kind = "dir",
      fields = { { "path", "string", true, nil, nil, true }, m, o, g },
      positional = { "path" },
      options = { "mode", "owner", "group" },
    }
  elseif kind == "line" then
    return {
      kind = "line",
      fields = {
        { "path", "string", true, nil, nil, true },
        { "text", "string", true },
      },
      positional = { "path", "text" },
    }
  elseif kind == "symlink" then
    return {
      kind = "symlink",
      fields = {
        { "target", "string", true, nil, nil, nil, true },
        { "linkpath", "string", true, nil, nil, true },
      },
      positional = { "target", "linkpath" },
    }
  elseif kind == "copy" then
    local m, o, g = owner_fields("copy")
    return {
      kind = "copy",
      fields = {
        { "source", "string", true, nil, true, nil, true },
        { "target", "string", true, nil, nil, true },
        m, o, g,
      },
      positional = { "source", "target" },
      options = { "mode", "owner", "group" },
    }
  elseif kind == "untar" then
    return {
      kind = "untar",
      fields = {
        { "source", "string", true, nil, true, nil, true },
        { "target", "string", true, nil, nil, true },
        { "strip", "uint", nil, 0, nil, nil, nil, "untar option strip must be integer" },
      },
      positional = { "source", "target" },
      options = { "strip" },
    }
  elseif kind == "file" then
    local m, o, g = owner_fields("file")
    return {
      kind = "file",
      fields = {
        { "path", "string", true, nil, nil, true },
        { "content", "string", true },
        m, o, g,
      },
      positional = { "path", "content" },
      options = { "mode", "owner", "group" },
    }
  elseif kind == "patch" then
    return {
      kind = "patch",
      fields = {
        { "path", "string", true, nil, nil, true },
        { "content", "string", true },
        { "strip", "uint", nil, 0, nil, nil, nil, "patch option strip must be integer" },
      },
      positional = { "path", "content" },
      options = { "strip" },
    }
  elseif kind == "template" then
    local m, o, g = owner_fields("template")
    return {
      kind = "template",
      fields = {
        { "source", "string", true, nil, true, nil, true },
        { "target", "string", true, nil, nil, true },
        m, o, g,
        { "tokens", "tokens" },
      },
      positional = { "source", "target" },
      options = { "mode", "owner", "group", "tokens" },
      deprecated = { token_env = deprecated_token_env, env_tokens = deprecated_token_env },
    }
  elseif kind == "script" then
    return {
      kind = "script",
      fields = {
        { "path", "string", true, nil, true, nil, true },
        { "args", "strings" },
        { "env", "env" },
        { "cwd", "string", nil, nil, nil, true },
        { "timeout", "uint", nil, 0 },
        { "ignore_exit", "bool", nil, false },
      },
      positional = { "path" },
      options = { "args", "env", "cwd", "timeout", "ignore_exit" },
    }
  end
  return nil
end

return {
  def = def,
  names = { "pkg", "exec", "dir", "line", "symlink", "copy", "untar", "file", "patch",
    "template", "script" },
}
