package supervise

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// procStat is what the monitor needs from /proc/<pid>/stat.
type procStat struct {
	pid, ppid int
	state     byte
	start     string // field 22, starttime in clock ticks since boot
}

// readStat parses /proc/<pid>/stat. The command name (field 2) may contain
// spaces and parentheses, so fields are counted after its last ')'.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state)
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	ppid, _ := strconv.Atoi(f[1])
	return procStat{pid: pid, ppid: ppid, state: f[0][0], start: f[19]}, nil
}

// procStart returns the start time of pid and whether it is a zombie.
func procStart(pid int) (string, bool, error) {
	st, err := readStat(pid)
	if err != nil {
		return "", false, err
	}
	return st.start, st.state == 'Z' || st.state == 'X', nil
}

// allPids lists the numeric entries of /proc.
func allPids() ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(ents))
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// findByTitle returns the non-zombie processes whose argv is the monitor
// title of name. A child the monitor has forked but not yet exec'd still
// shows the monitor's argv: processes whose parent matches too are skipped.
func findByTitle(name string) ([]int, error) {
	pids, err := allPids()
	if err != nil {
		return nil, err
	}
	var found []procStat
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil || !bytes.Contains(b, []byte("\x00supervise\x00cell=")) {
			continue
		}
		argv := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
		if !isMonitorTitle(argv, name) {
			continue
		}
		if st, err := readStat(pid); err == nil && st.state != 'Z' && st.state != 'X' {
			found = append(found, st)
		}
	}
	var out []int
	for _, st := range found {
		if !slices.ContainsFunc(found, func(p procStat) bool { return p.pid == st.ppid }) {
			out = append(out, st.pid)
		}
	}
	return out, nil
}

// setSubreaper makes the monitor the reaper of its orphaned descendants, so
// a service that double-forks (a daemon leaving its session) is reparented
// to the monitor instead of init and can still be found and stopped.
func setSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// descendants returns the live (non-zombie) descendants of pid and, apart,
// its direct children that are zombies.
func descendants(pid int) (live, zombies []int) {
	pids, err := allPids()
	if err != nil {
		return nil, nil
	}
	children := map[int][]procStat{}
	for _, p := range pids {
		if st, err := readStat(p); err == nil {
			children[st.ppid] = append(children[st.ppid], st)
		}
	}
	queue := []int{pid}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		for _, st := range children[parent] {
			if st.state == 'Z' || st.state == 'X' {
				if parent == pid {
					zombies = append(zombies, st.pid)
				}
				continue
			}
			live = append(live, st.pid)
			queue = append(queue, st.pid)
		}
	}
	return live, zombies
}

// pidNamespace returns the PID namespace of pid ("pid:[4026531836]").
func pidNamespace(pid int) string {
	ns, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/pid")
	return ns
}

// cellNamespace returns the PID namespace of a service process when it
// differs from the monitor's, i.e. when the driver runs it in a cell of its
// own (the real Linux driver); "" for a service on the host's (fake).
func cellNamespace(servicePid int) string {
	ns := pidNamespace(servicePid)
	if ns == "" || ns == pidNamespace(os.Getpid()) {
		return ""
	}
	return ns
}

// namespaceMembers lists the processes of PID namespace ns except its init
// (the cell's holder, which the driver owns): every service process,
// including daemons that double-forked away from the service's session.
func namespaceMembers(ns string) []int {
	if ns == "" {
		return nil
	}
	pids, err := allPids()
	if err != nil {
		return nil
	}
	var out []int
	for _, pid := range pids {
		if pidNamespace(pid) != ns {
			continue
		}
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil {
			continue
		}
		zombie := false
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "State:"); ok {
				zombie = strings.HasPrefix(strings.TrimSpace(v), "Z")
			}
			if v, ok := strings.CutPrefix(line, "NSpid:"); ok {
				f := strings.Fields(v)
				if len(f) > 0 && f[len(f)-1] == "1" {
					zombie = true // the namespace's init: not ours to kill
				}
			}
		}
		if !zombie {
			out = append(out, pid)
		}
	}
	return out
}

// DefaultSyslogSocket is where the local syslog daemon listens (_PATH_LOG).
const DefaultSyslogSocket = "/dev/log"

// ownsRunDir reports whether monitor pid belongs to runDir: a monitor holds
// its flock'ed <runDir>/supervise/<name>.lock open, so another prefix's
// monitor of a cell with the same name (and maybe the same id, ids being
// per prefix) is never taken for ours.
func ownsRunDir(pid int, runDir, name string) bool {
	want := lockPath(runDir, name)
	if w, err := filepath.EvalSymlinks(filepath.Dir(want)); err == nil {
		want = filepath.Join(w, filepath.Base(want))
	}
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if l, err := os.Readlink(dir + "/" + e.Name()); err == nil && l == want {
			return true
		}
	}
	return false
}
