-- exec: a shell command inside the cell, through the wrapper, no timeout.
return {
  kind = "exec",
  describe = function(ctx, args)
    return "cell exec " .. ctx.cell .. ": " .. ctx:render(args.command)
  end,
  run = function(ctx, args)
    ctx:exec(ctx:render(args.command))
  end,
}
