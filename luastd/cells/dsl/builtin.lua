-- cells.dsl.builtin: the built-in action kinds (upstream-cells §3.6).
-- spec(kind) returns a fresh specification of a built-in kind (nil for any
-- other name), which cells.dsl.actions installs on first use. One function,
-- not a table of constructors: every DSL file loads this module in a fresh
-- VM, and each closure and key costs there. Specifications and fields are
-- in the registry's positional forms, { fields, positional, options,
-- deprecated, varargs } and { name, type, required, default, source, path,
-- nonempty, message } (see cells.dsl.actions): array-only tables are much
-- cheaper to build in gopher-lua than keyed ones, and every DSL file
-- builds them afresh.
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

-- The specifications, by position: { fields, positional, options,
-- deprecated, varargs } (see cells.dsl.actions).
local function spec(kind)
  if kind == "pkg" then
    return { { { "packages", "packages", true } }, nil, nil, nil, pkg_varargs }
  elseif kind == "exec" then
    return { { { "command", "string", true } }, { "command" } }
  elseif kind == "dir" then
    local m, o, g = owner_fields("dir")
    return {
      { { "path", "string", true, nil, nil, true }, m, o, g },
      { "path" },
      { "mode", "owner", "group" },
    }
  elseif kind == "line" then
    return {
      {
        { "path", "string", true, nil, nil, true },
        { "text", "string", true },
      },
      { "path", "text" },
    }
  elseif kind == "symlink" then
    return {
      {
        { "target", "string", true, nil, nil, nil, true },
        { "linkpath", "string", true, nil, nil, true },
      },
      { "target", "linkpath" },
    }
  elseif kind == "copy" then
    local m, o, g = owner_fields("copy")
    return {
      {
        { "source", "string", true, nil, true, nil, true },
        { "target", "string", true, nil, nil, true },
        m, o, g,
      },
      { "source", "target" },
      { "mode", "owner", "group" },
    }
  elseif kind == "untar" then
    return {
      {
        { "source", "string", true, nil, true, nil, true },
        { "target", "string", true, nil, nil, true },
        { "strip", "uint", nil, 0, nil, nil, nil, "untar option strip must be integer" },
      },
      { "source", "target" },
      { "strip" },
    }
  elseif kind == "file" then
    local m, o, g = owner_fields("file")
    return {
      {
        { "path", "string", true, nil, nil, true },
        { "content", "string", true },
        m, o, g,
      },
      { "path", "content" },
      { "mode", "owner", "group" },
    }
  elseif kind == "patch" then
    return {
      {
        { "path", "string", true, nil, nil, true },
        { "content", "string", true },
        { "strip", "uint", nil, 0, nil, nil, nil, "patch option strip must be integer" },
      },
      { "path", "content" },
      { "strip" },
    }
  elseif kind == "template" then
    local m, o, g = owner_fields("template")
    return {
      {
        { "source", "string", true, nil, true, nil, true },
        { "target", "string", true, nil, nil, true },
        m, o, g,
        { "tokens", "tokens" },
      },
      { "source", "target" },
      { "mode", "owner", "group", "tokens" },
      { token_env = deprecated_token_env, env_tokens = deprecated_token_env },
    }
  elseif kind == "script" then
    return {
      {
        { "path", "string", true, nil, true, nil, true },
        { "args", "strings" },
        { "env", "env" },
        { "cwd", "string", nil, nil, nil, true },
        { "timeout", "uint", nil, 0 },
        { "ignore_exit", "bool", nil, false },
      },
      { "path" },
      { "args", "env", "cwd", "timeout", "ignore_exit" },
    }
  end
  return nil
end

return {
  spec = spec,
  names = { "pkg", "exec", "dir", "line", "symlink", "copy", "untar", "file", "patch",
    "template", "script" },
}
