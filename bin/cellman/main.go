// Command cellman declares, plans, converges and operates cells. See cellman(8).
package main

import (
	"os"

	"cells/bin/cellman/cellman"
	"cells/kernel"
	"cells/runtime/supervise"
)

func main() {
	kernel.MaybeInit()
	supervise.MaybeMonitor()
	os.Exit(cellman.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
