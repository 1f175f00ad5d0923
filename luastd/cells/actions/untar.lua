-- untar: extract a host archive (tar, gz, bz2, xz, zst) into a directory of
-- the cell, through the confined resolver (cells.fs untar), dropping strip
-- leading components.
local fs = require("cells.fs")

return {
  kind = "untar",
  describe = function(ctx, args)
    return "untar " .. ctx:source(args.source) .. " -> " .. ctx:render(args.target)
  end,
  run = function(ctx, args)
    local src = ctx:source(args.source)
    local ok, err = fs.host_check(src)
    if not ok then error("UNTAR source unreadable: " .. src .. " (" .. err.cause .. ")", 0) end
    local dst = ctx:target(args.target)
    ctx:must(ctx.fs:untar(src, dst, args.strip or 0))
  end,
}
