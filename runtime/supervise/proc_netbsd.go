package supervise

import (
	"cells/runtime/paths"

	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// procStart returns the start time of pid (ps(1) lstart, which NetBSD
// derives from kinfo_proc2 p_ustart) and whether it is a zombie.
func procStart(pid int) (string, bool, error) {
	out, err := exec.Command("ps", "-o", "stat=,lstart=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return "", false, fmt.Errorf("ps -p %d: %w", pid, err)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		return "", false, fmt.Errorf("ps -p %d: no such process", pid)
	}
	// The pidfile stores one word: join the date fields with '_'.
	return strings.Join(f[1:], "_"), strings.HasPrefix(f[0], "Z"), nil
}

// findByTitle returns the non-zombie processes whose argv is the monitor
// title of name.
func findByTitle(name string) ([]int, error) {
	out, err := exec.Command("ps", "-ax", "-o", "pid=,stat=,args=").Output()
	if err != nil {
		return nil, fmt.Errorf("ps -ax: %w", err)
	}
	var found []int
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || strings.HasPrefix(f[1], "Z") || !isMonitorTitle(f[2:], name) {
			continue
		}
		if pid, err := strconv.Atoi(f[0]); err == nil {
			found = append(found, pid)
		}
	}
	return found, nil
}

// setSubreaper: NetBSD has no subreapers; orphans of a double-forking
// service go to init and are stopped through the cell (see MemberLister).
func setSubreaper() error { return nil }

// descendants is not tracked on NetBSD (see setSubreaper).
func descendants(pid int) (live, zombies []int) { return nil, nil }

// cellNamespace: NetBSD cells have no PID namespace; the cell membership
// comes from the driver (MemberLister).
func cellNamespace(servicePid int) string { return "" }

// namespaceMembers is empty on NetBSD (see cellNamespace).
func namespaceMembers(ns string) []int { return nil }

// DefaultSyslogSocket is where the local syslog daemon listens (_PATH_LOG).
const DefaultSyslogSocket = "/var/run/log"

// ownsRunDir reports whether monitor pid belongs to runDir. NetBSD has no
// portable way to list another process's open files without fstat(1), so a
// title match counts only for the system prefix; scratch prefixes rely on
// their pidfiles alone.
func ownsRunDir(pid int, runDir, name string) bool {
	return runDir == paths.New("", "").RunDir
}
