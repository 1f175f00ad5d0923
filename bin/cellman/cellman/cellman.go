// Package cellman is the cellman command line: argument parsing, output
// rendering and exit codes over the runtime package. It is a library so the
// testscripts can run it in-process. See cellman(8).
package cellman

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"cells/runtime/paths"
)

// cli is one invocation of cellman.
type cli struct {
	argv0  string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	paths  paths.Paths
}

// exitError carries an exit status other than 1 (apply --dry-run's 2) or
// a failure whose message was already printed (empty msg).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Main runs cellman with args (args[0] is the program name) and returns the
// exit status: 0 on success, 1 on any failure including usage errors, 2
// only from apply --dry-run when drift was found.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	argv0 := "cellman"
	if len(args) > 0 && args[0] != "" {
		argv0 = filepath.Base(args[0])
	}
	if len(args) < 2 {
		fmt.Fprint(stderr, usageText(argv0))
		return 1
	}
	c := &cli{argv0: argv0, stdin: stdin, stdout: stdout, stderr: stderr, paths: paths.FromEnv()}
	err := c.dispatch(args[1:])
	if err == nil {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "%s: %s\n", argv0, msg)
	}
	return code
}

// usageText is printed when cellman runs without arguments.
func usageText(argv0 string) string {
	return `usage:
  ` + argv0 + ` apply [--all|<name>...] [--dry-run] [--force] [--restart-changed] [--silent|-v|-vv]
  ` + argv0 + ` cell <list|show|fields|start|stop|restart|shell|remove|backup|plan> ...
  ` + argv0 + ` volume <list|show|fields|create|remove|backup> ...
  ` + argv0 + ` system <bootstrap|reset> ...
  ` + argv0 + ` run <script.lua> [args ...]

  ` + argv0 + ` list  [cell list options]
  ` + argv0 + ` start <name>|--all
  ` + argv0 + ` stop  <name>|--all
  ` + argv0 + ` restart <name>|--all
  ` + argv0 + ` shell <name> [command ...]

default spec dir: /etc/cellman (override with CELLMAN_DSL_DIR)
`
}
