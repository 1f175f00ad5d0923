-- copy: a host file (relative to the .lua file's directory) into the cell,
-- atomically; new files 0644; then mode/owner/group.
local fs = require("cells.fs")

return {
  kind = "copy",
  describe = function(ctx, args)
    return "copy " .. ctx:source(args.source) .. " -> " .. ctx:render(args.target)
  end,
  run = function(ctx, args)
    local src = ctx:source(args.source)
    local ok, err = fs.host_check(src)
    if not ok then error("COPY source unreadable: " .. src .. " (" .. err.cause .. ")", 0) end
    local dst = ctx:target(args.target)
    ctx:must(ctx.fs:copy_from_host(src, dst))
    ctx:apply_meta(dst, args.mode, args.owner, args.group)
  end,
}
