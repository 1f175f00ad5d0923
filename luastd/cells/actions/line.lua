-- line: append text as a line unless a line of the file, trimmed, equals
-- it; the file and its parents are created when missing.
return {
  kind = "line",
  describe = function(ctx, args) return "line " .. ctx:render(args.path) end,
  run = function(ctx, args)
    local path = ctx:target(args.path)
    ctx:must(ctx.fs:append_line(path, ctx:render(args.text)))
  end,
}
