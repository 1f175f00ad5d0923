package runtime

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"cells/runtime/paths"
)

// ActionsDir is where an operator ships custom action kinds: Lua files in
// <DSL dir>/actions (/etc/cellman/actions), each calling
// require("cells.actions").register{...}. The directory is not a DSL
// directory: the loader of /etc/cellman/*.lua does not recurse into it.
func ActionsDir(p paths.Paths) string { return filepath.Join(p.DSLDir, "actions") }

// LoadCustomActions runs every *.lua file of dir in vm, in name order (not
// recursive), so the kinds they register exist in that VM: both halves,
// the DSL half (validation, builder) for DSL VMs and the runtime half
// (describe, run) for the apply VM. A missing directory is not an error.
// The error of a failing file names it: "<file>:<line>: <message>".
func LoadCustomActions(vm *VM, dir string) error {
	files, err := actionFiles(dir)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := vm.DoFile(f); err != nil {
			return err
		}
	}
	return nil
}

// actionFiles lists the *.lua files of an actions directory in name order;
// a missing directory has none.
func actionFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".lua") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(files)
	return files, nil
}
