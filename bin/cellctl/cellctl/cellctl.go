// Package cellctl is the cellctl command line over the kernel bridge. It is a
// library so the testscripts can run it in-process.
package cellctl

import (
	"fmt"
	"io"
)

// Main runs cellctl with args (args[0] is the program name) and returns the
// exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "cellctl: not implemented yet")
	return 1
}
