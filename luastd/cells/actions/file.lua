-- file: write content exactly (no newline added), atomically; parents
-- created; then mode/owner/group.
return {
  kind = "file",
  describe = function(ctx, args) return "file " .. ctx:render(args.path) end,
  run = function(ctx, args)
    local path = ctx:target(args.path)
    ctx:must(ctx.fs:write_file(path, ctx:render(args.content)))
    ctx:apply_meta(path, args.mode, args.owner, args.group)
  end,
}
