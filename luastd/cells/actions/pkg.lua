-- pkg: install packages inside the cell with the configured package tool
-- (pkg_add by default): env PKG_PATH=<p> <tool> <pkgs...> (reference 4.6).
-- The tool's presence is checked first with `command -v`.
return {
  kind = "pkg",
  describe = function(ctx, args)
    return ctx.pkg_tool .. " in cell " .. ctx.cell .. " (PKG_PATH=" .. ctx.pkg_path .. ")"
  end,
  run = function(ctx, args)
    local argv = { "env", "PKG_PATH=" .. ctx.pkg_path, ctx.pkg_tool }
    for _, p in ipairs(args.packages) do argv[#argv + 1] = ctx:render(p) end
    local probe = ctx:exec("command -v " .. ctx.quote(ctx.pkg_tool) .. " >/dev/null 2>&1", { raw = true })
    if probe.code ~= 0 or probe.signal ~= 0 then
      error("pkg: " .. ctx.pkg_tool .. " not found in cell " .. ctx.cell, 0)
    end
    ctx:exec_argv(argv)
  end,
}
