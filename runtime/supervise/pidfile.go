package supervise

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"cells/kernel"
	"cells/runtime/paths"
)

// Files of the monitor of cell <name>, under <RunDir>/supervise:
//
//	<name>.pid    "<pid> <start-time>\n" of the monitor (written atomically)
//	<name>.lock   flock(2)ed by the running monitor: one monitor per cell
//	<name>.stats  "restarts=N\ndropped=N\n" (written atomically)
//
// The start time (field 22 of /proc/<pid>/stat on Linux) tells a live
// monitor from a stale pidfile whose pid was reused.
func superviseDir(runDir string) string { return filepath.Join(runDir, "supervise") }

func pidfilePath(runDir, name string) string {
	return filepath.Join(superviseDir(runDir), name+".pid")
}

func lockPath(runDir, name string) string {
	return filepath.Join(superviseDir(runDir), name+".lock")
}

func statsPath(runDir, name string) string {
	return filepath.Join(superviseDir(runDir), name+".stats")
}

// writeFileAtomic writes data to path through a temporary file and a rename,
// so readers see the old or the new content, never a partial one.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// readPidfile returns the pid and start time recorded for name.
func readPidfile(runDir, name string) (int, string, bool) {
	b, err := os.ReadFile(pidfilePath(runDir, name))
	if err != nil {
		return 0, "", false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, "", false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return 0, "", false
	}
	return pid, f[1], true
}

// isMonitorTitle reports whether argv is the title of the monitor of name:
// "<prog> supervise cell=<name> cid=<id>".
func isMonitorTitle(argv []string, name string) bool {
	return len(argv) == 4 && filepath.Base(argv[0]) != "" && argv[1] == "supervise" &&
		argv[2] == "cell="+name && strings.HasPrefix(argv[3], "cid=")
}

// MonitorAlive reports, from its pidfile alone (pid and start time, so a
// reused pid does not count), whether cell name has a running monitor. It
// is the cheap check the apply engine makes for every running target.
func MonitorAlive(name string) bool {
	pid, start, ok := readPidfile(paths.FromEnv().RunDir, name)
	if !ok {
		return false
	}
	st, zombie, err := procStart(pid)
	return err == nil && !zombie && st == start
}

// FindMonitors returns the pids of the live supervise monitors of cell name:
// the one its pidfile records (when the pid still has the recorded start
// time) plus any process whose title is `cellctl supervise cell=<name>
// cid=<id>` (a monitor whose pidfile was lost). Zombies do not count.
func FindMonitors(name string) ([]int, error) {
	if !kernel.ValidName(name) {
		return nil, fmt.Errorf("supervise: find monitors: invalid cell name '%s'", name)
	}
	runDir := paths.FromEnv().RunDir
	var pids []int
	if pid, start, ok := readPidfile(runDir, name); ok {
		if st, zombie, err := procStart(pid); err == nil && !zombie && st == start {
			pids = append(pids, pid)
		}
	}
	titled, err := findByTitle(name)
	if err != nil {
		return nil, fmt.Errorf("supervise: find monitors of %s: %w", name, err)
	}
	self := os.Getpid()
	for _, p := range titled {
		if p != self && !slices.Contains(pids, p) && ownsRunDir(p, runDir, name) {
			pids = append(pids, p)
		}
	}
	slices.Sort(pids)
	return pids, nil
}

// StopMonitor stops every monitor of cell name: SIGTERM (the monitor then
// stops its service: TERM, up to StopGrace (5 s), KILL), then SIGKILL for
// monitors still alive after timeout, and SIGKILL for the service such a
// monitor left behind (its process group and, with the Linux driver, the
// cell's PID namespace). A timeout above StopGrace lets services shut down
// cleanly. It returns nil when no monitor is left, also when there was none.
func StopMonitor(name string, timeout time.Duration) error {
	pids, err := FindMonitors(name)
	if err != nil {
		return err
	}
	type target struct {
		pid   int
		start string
	}
	var live []target
	for _, pid := range pids {
		st, zombie, err := procStart(pid)
		if err != nil || zombie {
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("supervise: stop monitor %d of %s: %w", pid, name, err)
		}
		live = append(live, target{pid, st})
	}
	alive := func(t target) bool {
		st, zombie, err := procStart(t.pid)
		return err == nil && !zombie && st == t.start
	}
	waitGone := func(d time.Duration) {
		deadline := time.Now().Add(d)
		for {
			live = slices.DeleteFunc(live, func(t target) bool { return !alive(t) })
			if len(live) == 0 || time.Now().After(deadline) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitGone(timeout)
	for _, t := range live {
		syscall.Kill(t.pid, syscall.SIGKILL)
	}
	waitGone(2 * time.Second)
	if len(live) > 0 {
		return fmt.Errorf("supervise: stop monitor %d of %s: still running after SIGKILL", live[0].pid, name)
	}
	// A monitor that had to be killed could neither stop its service nor
	// remove its files.
	runDir := paths.FromEnv().RunDir
	if pid, start, ok := readPidfile(runDir, name); ok {
		if st, zombie, err := procStart(pid); err == nil && !zombie && st == start {
			return nil // a new monitor started meanwhile: its files
		}
	}
	killRecordedChild(runDir, name)
	os.Remove(pidfilePath(runDir, name))
	os.Remove(statsPath(runDir, name))
	return nil
}
