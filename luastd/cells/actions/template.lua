-- template: render a host template file with the runtime tokens, the
-- action's literal tokens and its from_env tokens (in that order, later
-- wins), write it into the cell, then mode/owner/group.
local fs = require("cells.fs")
local tokens = require("cells.apply.tokens")

local function merged(ctx, args)
  return tokens.merge(ctx.tokens, args.tokens, require("cells.proc").getenv)
end

return {
  kind = "template",
  describe = function(ctx, args)
    local t = merged(ctx, args)
    return "template: " .. ctx:source(args.source, t) .. " -> " .. ctx:render(args.target, t)
  end,
  run = function(ctx, args)
    local t = merged(ctx, args)
    local src = ctx:source(args.source, t)
    local content, err = fs.host_read(src)
    if content == nil then
      error("template source is not readable: " .. src .. " (" .. err.cause .. ")", 0)
    end
    local out = ctx:render(content, t)
    local dst = ctx:target(args.target, t)
    ctx:must(ctx.fs:write_file(dst, out))
    ctx:apply_meta(dst, args.mode, args.owner, args.group, t)
  end,
}
