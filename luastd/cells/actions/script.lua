-- script: pipe a host script to /bin/sh -s -- '<arg>'... inside the cell,
-- with env, cwd, timeout (seconds, 0 = none) and ignore_exit.
local fs = require("cells.fs")

return {
  kind = "script",
  describe = function(ctx, args) return "cell script: " .. ctx:source(args.path) end,
  run = function(ctx, args)
    local path = ctx:source(args.path)
    local content, err = fs.host_read(path)
    if content == nil then
      error("script is not readable: " .. path .. " (" .. err.cause .. ")", 0)
    end
    local cmd = { "/bin/sh -s --" }
    for _, a in ipairs(args.args or {}) do cmd[#cmd + 1] = ctx.quote(ctx:render(a)) end
    local env
    if args.env then
      env = {}
      for k, v in pairs(args.env) do env[k] = ctx:render(v) end
    end
    ctx:exec(table.concat(cmd, " "), {
      env = env, cwd = ctx:render(args.cwd), timeout = args.timeout,
      ignore_exit = args.ignore_exit, stdin = content,
    })
  end,
}
