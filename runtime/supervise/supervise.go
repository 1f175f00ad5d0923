// Package supervise implements `cellctl supervise`: a daemonized monitor per
// supervised service that runs a command inside a cell, restarts it with
// backoff and forwards its output to syslog.
//
// Daemon: the invoking process re-executes its own binary twice (double
// fork: an intermediate stage in a new session starts the monitor and
// exits), hands the request over fd 3 and waits on fd 4 until the monitor
// owns the cell, then prints `cell <id>`. The monitor's title is exactly
// `cellctl supervise cell=<name> cid=<id>`, its stdio is /dev/null and no
// inherited descriptor survives into it or the service.
//
// Files, under <RunDir>/supervise (paths.Paths.RunDir):
//
//	<name>.pid    "<pid> <start-time>\n": see FindMonitors and StopMonitor;
//	              a monitor whose pidfile is removed stops itself
//	<name>.lock   flock(2)ed by the live monitor: one monitor per cell
//	<name>.stats  "restarts=N\ndropped=N\n", rewritten every second while
//	              it changes: see ReadCounters
//
// Signals: SIGTERM, SIGINT and SIGQUIT stop the service (SIGTERM to its
// process group, its descendants and, with the Linux driver, every process
// of the cell's PID namespace but its init; SIGKILL after StopGrace) and
// the monitor exits 0. SIGHUP is ignored.
//
// Environment: CELLS_SYSLOG_SOCKET overrides the syslog socket
// (DefaultSyslogSocket); CELLS_SUPERVISE_RATE and CELLS_SUPERVISE_BURST
// override the log rate limit (RateLimit lines/s, RateBurst).
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
