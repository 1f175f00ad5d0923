-- cells: the root of the Cells Lua standard library.
local M = {}
M.version = "0.1.0"
return M
