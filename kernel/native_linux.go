package kernel

import (
	"fmt"
	"os"
)

// openNative opens the Linux driver: namespaces, pivot_root, capabilities,
// no_new_privs, seccomp, a cgroup v2 per cell and the cgroup-BPF port
// guard (linux_*.go).
func openNative(opts Options) (Driver, error) { return lxOpen(opts) }

// InitMain is the body of the re-executed helper: "cells-init holder" is
// PID 1 of a cell, "cells-init exec" the stage that becomes a workload.
func InitMain() int {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "cells-init: missing mode")
		return 2
	}
	switch os.Args[1] {
	case "holder":
		return lxHolderMain()
	case "exec":
		return lxStageMain()
	}
	fmt.Fprintf(os.Stderr, "cells-init: unknown mode %q\n", os.Args[1])
	return 2
}
