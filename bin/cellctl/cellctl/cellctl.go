// Package cellctl is the cellctl command line over the kernel bridge. It is a
// library so the testscripts can run it in-process.
package cellctl

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"cells/kernel"
	"cells/runtime/paths"
	"cells/runtime/supervise"
)

func init() { supervise.Usage = strings.TrimSuffix(usageText, "\n") }

// usageText is upstream's synopsis (cellctl.8) plus the JSON switch.
const usageText = `usage: cellctl create [-l low|medium|high] [-r port[,port...]] [-N nofile|unlimited] [-A as|unlimited] [-C core|unlimited] -n name <root>
       cellctl supervise [-f facility] [-o stdout-level] [-e stderr-level] [-t tag] [-U uid -G gid [-g gid[,gid...]]] <cell-id|name> <command [args...]>
       cellctl exec <cell-id|name> [command [args...]]
       cellctl destroy <cell-id|name>
       cellctl list [-T] [-H]
       cellctl stats [-P] [-v] [-h] [-T] [-H]
       cellctl -J list|stats
`

// cmd is one cellctl invocation.
type cmd struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	json           bool // -J
	// open returns the kernel driver; tests may replace it.
	open func() (kernel.Driver, error)
}

// errUsage makes run print the usage text and exit 1.
var errUsage = errors.New("usage")

// exitError carries an exit status that is not a failure message (exec's
// child status).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Main runs cellctl with args (args[0] is the program name) and returns the
// exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cmd{stdin: stdin, stdout: stdout, stderr: stderr, open: openDriver}
	err := c.run(args)
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, errUsage):
		io.WriteString(stderr, usageText)
		return 1
	}
	fmt.Fprintf(stderr, "cellctl: %s\n", err)
	return 1
}

// usageErr reports a getopt error the way NetBSD's getopt does, then usage.
func (c *cmd) usageErr(err error) error {
	fmt.Fprintf(c.stderr, "cellctl: %s\n", err)
	return errUsage
}

func (c *cmd) run(args []string) error {
	_, rest, err := c.switches(args, "J")
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return errUsage
	}
	word, sub := rest[0], rest
	if c.json && word != "list" && word != "stats" {
		return errUsage
	}
	switch word {
	case "create":
		return c.create(sub)
	case "destroy":
		return c.destroy(sub)
	case "exec":
		return c.exec(sub)
	case "list":
		return c.list(sub)
	case "stats":
		return c.stats(sub)
	case "supervise":
		if code := supervise.Command(sub[1:], c.stdout, c.stderr); code != 0 {
			return exitError{code}
		}
		return nil
	}
	return errUsage
}

// openDriver opens the kernel driver of this system (CELLS_DRIVER=fake
// selects the fake).
func openDriver() (kernel.Driver, error) {
	d, err := kernel.Open(kernel.Options{StateDir: paths.FromEnv().KernelState()})
	if err != nil {
		return nil, driverError(err)
	}
	return d, nil
}

// driverError words a failure to open the kernel driver.
func driverError(err error) error {
	if errors.Is(err, kernel.ErrNotSupported) {
		return fmt.Errorf("kernel driver: %w (CELLS_DRIVER=fake selects the fake driver for previews)", err)
	}
	return fmt.Errorf("kernel driver: %w", err)
}

// withDriver runs fn with an open driver and closes it.
func (c *cmd) withDriver(fn func(d kernel.Driver) error) error {
	d, err := c.open()
	if err != nil {
		return err
	}
	defer d.Close()
	return fn(d)
}

// listCells reads the cell list with upstream's error wording.
func listCells(d kernel.Driver) ([]kernel.Cell, error) {
	cells, err := d.List()
	if err != nil {
		return nil, fmt.Errorf("list cells: %s", Strerror(err))
	}
	return cells, nil
}
