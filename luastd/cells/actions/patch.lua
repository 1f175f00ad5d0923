-- patch: apply a patch to the tree at path. Upstream ran the host's patch
-- on root+path; here patch(1) runs INSIDE the cell (cd path; patch
-- -p<strip> with the content on stdin), so no host tool ever follows a
-- link planted in the cell. A cell without patch(1) gets a clear error.
return {
  kind = "patch",
  describe = function(ctx, args)
    return "patch -p" .. (args.strip or 0) .. " -d " .. ctx:render(args.path)
  end,
  run = function(ctx, args)
    local path = ctx:target(args.path)
    local content = ctx:render(args.content)
    local probe = ctx:exec("command -v patch >/dev/null 2>&1", { raw = true })
    if probe.code ~= 0 or probe.signal ~= 0 then
      error("patch: patch not found in cell " .. ctx.cell, 0)
    end
    ctx:exec("patch -p" .. (args.strip or 0) .. " -d " .. ctx.quote(path), { stdin = content })
  end,
}
