-- symlink: make linkpath a link to target (parents created, any existing
-- entry replaced). The target is stored as given: it is read in the cell's
-- view, and host operations resolve it inside the root.
return {
  kind = "symlink",
  describe = function(ctx, args)
    return "symlink " .. ctx:render(args.linkpath) .. " -> " .. ctx:render(args.target)
  end,
  run = function(ctx, args)
    local linkpath = ctx:target(args.linkpath)
    ctx:must(ctx.fs:symlink(ctx:render(args.target), linkpath))
  end,
}
