package supervise

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// <RunDir>/supervise/<name>.child records the running service as
// "<pid> <start-time> <pid-namespace or ->": when a monitor had to be
// killed (it could not stop its service itself), StopMonitor finishes the
// job from it.
func childPath(runDir, name string) string {
	return filepath.Join(superviseDir(runDir), name+".child")
}

// recordChild writes the child record of the service just started.
func (m *monitor) recordChild(pid int) {
	start, _, err := procStart(pid)
	if err != nil {
		return // already gone: nothing to record
	}
	ns := m.cellNS
	if ns == "" {
		ns = "-"
	}
	writeFileAtomic(childPath(m.req.RunDir, m.req.CellName), fmt.Appendf(nil, "%d %s %s\n", pid, start, ns))
}

// killRecordedChild SIGKILLs the service a dead monitor left behind: its
// process group when the recorded pid still has its start time, and every
// process of the recorded cell PID namespace but its init. Then it removes
// the record.
func killRecordedChild(runDir, name string) {
	path := childPath(runDir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	f := strings.Fields(string(b))
	if len(f) == 3 {
		pid, _ := strconv.Atoi(f[0])
		if st, zombie, err := procStart(pid); pid > 0 && err == nil && !zombie && st == f[1] {
			syscall.Kill(-pid, syscall.SIGKILL)
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if f[2] != "-" {
			for _, p := range namespaceMembers(f[2]) {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}
	}
	os.Remove(path)
}
