-- pkg: install packages inside the cell with the configured package tool
-- (PKG_TOOL, pkg_add by default; it may carry leading arguments, as in
-- "apk add"): env PKG_PATH=<p> <tool> [args] <pkgs...> (reference 4.6).
-- The tool's presence is checked first with `command -v`.
local function words(s)
  local out = {}
  for w in s:gmatch("%S+") do out[#out + 1] = w end
  return out
end

return {
  kind = "pkg",
  describe = function(ctx, args)
    return ctx.pkg_tool .. " in cell " .. ctx.cell .. " (PKG_PATH=" .. ctx.pkg_path .. ")"
  end,
  run = function(ctx, args)
    local tool = words(ctx.pkg_tool)
    if #tool == 0 then error("pkg: empty PKG_TOOL", 0) end
    local argv = { "env", "PKG_PATH=" .. ctx.pkg_path }
    for _, w in ipairs(tool) do argv[#argv + 1] = w end
    for _, p in ipairs(args.packages) do argv[#argv + 1] = ctx:render(p) end
    local probe = ctx:exec("command -v " .. ctx.quote(tool[1]) .. " >/dev/null 2>&1", { raw = true })
    if probe.code ~= 0 or probe.signal ~= 0 then
      error("pkg: " .. tool[1] .. " not found in cell " .. ctx.cell, 0)
    end
    ctx:exec_argv(argv)
  end,
}
