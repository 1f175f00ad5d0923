// Package luastd embeds the Lua standard library of Cells: the DSL builders,
// the planner, the apply engine and every action, one concern per file.
// Module names follow the paths: luastd/cells/dsl.lua is require("cells.dsl"),
// luastd/cells/init.lua is require("cells").
package luastd

import "embed"

// FS holds the embedded Lua sources under the directory "luastd".
//
//go:embed all:cells
var files embed.FS

// Files returns the embedded sources; paths start with "cells/".
func Files() embed.FS { return files }
