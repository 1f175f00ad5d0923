// Command cellman declares, plans, converges and operates cells. See cellman(8).
package main

import (
	"os"

	"cells/bin/cellman/cellman"
)

func main() { os.Exit(cellman.Main(os.Args, os.Stdin, os.Stdout, os.Stderr)) }
