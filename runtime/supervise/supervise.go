// Package supervise implements `cellctl supervise`: a daemonized monitor per
// supervised service that runs a command inside a cell, restarts it with
// backoff and forwards its output to syslog.
//
// The monitor's title is `cellctl supervise cell=<name> cid=<id>`; it
// records itself in <RunDir>/supervise/<name>.pid (see FindMonitors and
// StopMonitor) and publishes its counters in <name>.stats (ReadCounters).
// It logs to /dev/log, or to the socket named by CELLS_SYSLOG_SOCKET.
package supervise

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"cells/runtime/paths"
)

// Command runs `cellctl supervise` with args (the words after "supervise")
// and returns the exit status. It validates the request, resolves the cell,
// starts the monitor daemon, prints `cell <id>` and returns 0. When the
// process is a re-executed daemon stage, it runs that stage instead.
func Command(args []string, stdout, stderr io.Writer) int {
	if stage := os.Getenv(monitorEnv); stage != "" && len(args) == 2 && strings.HasPrefix(args[0], "cell=") {
		os.Unsetenv(monitorEnv)
		switch stage {
		case "spawn":
			return spawnStage(args)
		case "run":
			return monitorStage(args)
		}
	}
	o, err := parseArgs(args)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			if ue.msg != "" {
				fmt.Fprintf(stderr, "cellctl: %s\n", ue.msg)
			}
			fmt.Fprintln(stderr, Usage)
			return 1
		}
		fmt.Fprintf(stderr, "cellctl: %v\n", err)
		return 1
	}
	p := paths.FromEnv()
	d, err := openDriver(p.KernelState())
	if err != nil {
		fmt.Fprintf(stderr, "cellctl: %v\n", err)
		return 1
	}
	cell, err := resolveCell(d, o.Target)
	d.Close()
	if err != nil {
		fmt.Fprintf(stderr, "cellctl: %v\n", err)
		return 1
	}
	if err := spawn(o, cell, p); err != nil {
		fmt.Fprintf(stderr, "cellctl: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "cell %d\n", cell.ID)
	return 0
}
