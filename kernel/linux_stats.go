//go:build linux

package kernel

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// sample refreshes the counters once a second, with upstream's meaning
// (reference 7.3): CPU1S is the increase of the cell's CPU ticks (1/100 s)
// since the previous sample, CPU10S the integer mean of the last <= 10
// increases, PROCS the live members, REFS live members plus zombies,
// MEMORY the summed virtual size. The holder itself is not a member.
//
// CPU comes from the cgroup's cpu.stat (usage_usec, which keeps the time
// of members that already exited) minus the holder's own time.
func (h *lxHolder) sample() {
	var prev uint64
	first := true
	var ring []uint64
	for range time.Tick(time.Second) {
		h.reap()
		h.mu.Lock()
		st := h.scan()
		h.mu.Unlock()
		ticks := h.cpuTicks()
		var delta uint64
		if !first && ticks > prev {
			delta = ticks - prev
		}
		first = false
		prev = ticks
		ring = append(ring, delta)
		if len(ring) > 10 {
			ring = ring[1:]
		}
		var sum uint64
		for _, d := range ring {
			sum += d
		}
		st.CPU1s = delta
		st.CPU10s = sum / uint64(len(ring))
		h.statsMu.Lock()
		h.stats = st
		h.statsMu.Unlock()
	}
}

// cpuTicks is the cgroup's CPU time minus the holder's, in 1/100 s.
func (h *lxHolder) cpuTicks() uint64 {
	buf := make([]byte, 512)
	n, _ := h.cpuStat.ReadAt(buf, 0)
	var usec uint64
	for _, line := range strings.Split(string(buf[:n]), "\n") {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			usec, _ = strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) == nil {
		self := uint64(ru.Utime.Sec+ru.Stime.Sec)*1e6 + uint64(ru.Utime.Usec+ru.Stime.Usec)
		if usec > self {
			usec -= self
		} else {
			usec = 0
		}
	}
	return usec / 10000
}

// scan counts the members through the cell's own procfs: every pid but 1.
// The caller holds h.mu.
func (h *lxHolder) scan() lxStats {
	var st lxStats
	if _, err := h.procDir.Seek(0, 0); err != nil {
		return st
	}
	names, _ := h.procDir.Readdirnames(-1)
	buf := make([]byte, 1024)
	dfd := int(h.procDir.Fd())
	for _, n := range names {
		if n == "1" || n == "" || n[0] < '0' || n[0] > '9' {
			continue
		}
		fd, err := unix.Openat(dfd, n+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue // exited meanwhile
		}
		k, _ := unix.Read(fd, buf)
		unix.Close(fd)
		if k <= 0 {
			continue
		}
		state, vsize, ok := lxParseStat(buf[:k])
		if !ok {
			continue
		}
		st.Refs++
		if state != 'Z' && state != 'X' {
			st.Procs++
			st.Memory += vsize
		}
	}
	return st
}

// lxParseStat returns the state and vsize of a /proc/<pid>/stat line;
// fields after the parenthesised command: state 3, starttime 22, vsize 23.
func lxParseStat(b []byte) (state byte, vsize uint64, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 21 {
		return 0, 0, false
	}
	vsize, _ = strconv.ParseUint(f[20], 10, 64)
	return f[0][0], vsize, true
}

// lxProcStart returns the start time (clock ticks after boot) of a host
// pid, 0 if it does not exist; pid plus start time names a process for
// good, a pid alone may be reused.
func lxProcStart(pid int) uint64 {
	b, err := readFileSmall("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

func readFileSmall(p string) ([]byte, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	buf := make([]byte, 2048)
	n, err := unix.Read(fd, buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// snapshot is the cell as List reports it: CPU from the last sample,
// processes, references and memory counted afresh (a readdir of the
// cell's small /proc), so a process started a moment ago already shows.
func (h *lxHolder) snapshot() Cell {
	h.mu.Lock()
	h.reapLocked()
	st := h.scan()
	h.mu.Unlock()
	h.statsMu.Lock()
	st.CPU1s, st.CPU10s = h.stats.CPU1s, h.stats.CPU10s
	h.statsMu.Unlock()
	c := h.cfg
	return Cell{
		ID: c.ID, Name: c.Name, Root: c.Root, Profile: c.Profile, ProfileSet: c.ProfileSet,
		Ports: c.Ports, Rlimits: c.Rlimits,
		Refs: st.Refs, Procs: st.Procs, CPU1s: st.CPU1s, CPU10s: st.CPU10s, Memory: st.Memory,
		Age: lxAge(c.CreatedNS),
	}
}

// lxMonotonicNS is CLOCK_MONOTONIC in nanoseconds (upstream's clock for
// ages).
func lxMonotonicNS() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

func lxAge(created int64) uint64 {
	if d := lxMonotonicNS() - created; d > 0 {
		return uint64(d / 1e9)
	}
	return 0
}
