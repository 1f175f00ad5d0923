// Command cellctl is the runtime primitive layer of Cells: create, destroy,
// exec, supervise, list and stats of kernel cells. See cellctl(8).
package main

import (
	"os"

	"cells/bin/cellctl/cellctl"
	"cells/kernel"
	"cells/runtime/supervise"
)

func main() {
	kernel.MaybeInit()
	supervise.MaybeMonitor()
	os.Exit(cellctl.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
