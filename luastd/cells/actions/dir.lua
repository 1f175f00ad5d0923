-- dir: mkdir -p (0755) inside the cell root, then mode/owner/group.
return {
  kind = "dir",
  describe = function(ctx, args) return "dir " .. ctx:render(args.path) end,
  run = function(ctx, args)
    local path = ctx:target(args.path)
    ctx:must(ctx.fs:mkdir_p(path, 493)) -- 0755
    ctx:apply_meta(path, args.mode, args.owner, args.group)
  end,
}
