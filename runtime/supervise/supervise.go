// Package supervise implements `cellctl supervise`: a daemonized monitor per
// supervised service that runs a command inside a cell, restarts it with
// backoff and forwards its output to syslog.
package supervise

import (
	"fmt"
	"io"
)

// Command runs `cellctl supervise` with args (the words after "supervise")
// and returns the exit status.
func Command(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "cellctl: supervise: not implemented yet")
	return 1
}
