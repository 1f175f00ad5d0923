package runtime

import (
	"cells/modules/fs"
	"cells/modules/proc"
)

// The Go modules of the actions: confined file operations on a cell root
// and commands run inside a cell (modules/ cannot import runtime, so they
// are registered from here).
func init() {
	Register(Module{Name: fs.Name, Loader: fs.Loader})
	Register(Module{Name: proc.Name, Loader: proc.Loader})
}
