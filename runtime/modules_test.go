package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A DSL file only declares: the modules that act on the host are not
// reachable from it, while the apply engine's VM has them.
func TestDSLCannotReachHostModules(t *testing.T) {
	for _, mod := range []string{"cells.fs", "cells.proc", "cells.state", "cells.lock", "cells.lifecycle"} {
		dir := t.TempDir()
		src := `local m = require("` + mod + `")
cell("web", {})
`
		if err := os.WriteFile(filepath.Join(dir, "web.lua"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadState(dir)
		if err == nil || !strings.Contains(err.Error(), "module '"+mod+"' not found") {
			t.Errorf("%s from a DSL file: err = %v, want module not found", mod, err)
		}
		vm := NewVM(VMOptions{Libs: []string{HostLibs}})
		if err := vm.DoChunk("host.lua", []byte(`assert(require("`+mod+`"))`)); err != nil && mod != "cells.lifecycle" {
			t.Errorf("%s in a host VM: %v", mod, err)
		}
		vm.Close()
	}
}
