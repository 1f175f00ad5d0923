// Command cellman declares, plans, converges and operates cells. See cellman(8).
package main

import (
	"os"

	"cells/bin/cellman/cellman"
	"cells/kernel"
	"cells/runtime"
	"cells/runtime/supervise"
)

func main() {
	kernel.MaybeInit()
	supervise.MaybeMonitor()
	// After the helper modes: only the CLI itself runs the Lua loads that
	// the tuning is for (runtime.TuneGC).
	runtime.TuneGC()
	os.Exit(cellman.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
