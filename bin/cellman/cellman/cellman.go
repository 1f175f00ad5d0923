// Package cellman is the cellman command line: argument parsing, output
// rendering and exit codes over the runtime package. It is a library so the
// testscripts can run it in-process.
package cellman

import (
	"fmt"
	"io"
)

// Main runs cellman with args (args[0] is the program name) and returns the
// exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "cellman: not implemented yet")
	return 1
}
