//go:build linux

package kernel

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"time"
	"unsafe"

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
//
// The loop allocates nothing (fixed buffers, raw system calls): an idle
// holder then never triggers a garbage collection, which would touch
// megabytes of runtime metadata (see lxTrimmer and lxHolderEnv).
func (h *lxHolder) sample() {
	var prev uint64
	var ring [10]uint64
	var trimmer lxTrimmer
	n := 0
	for range time.Tick(time.Second) {
		// First trim two seconds in (not on the path of a create that is
		// followed at once by an exec), then every 10 seconds.
		if n == 2 || (n > 0 && n%10 == 0) {
			trimmer.trim()
		}
		h.mu.Lock()
		h.reapLocked()
		st := h.scan()
		h.mu.Unlock()
		ticks := h.cpuTicks()
		var delta uint64
		if n > 0 && ticks > prev {
			delta = ticks - prev
		}
		prev = ticks
		ring[n%len(ring)] = delta
		n++
		k := min(n, len(ring))
		var sum uint64
		for _, d := range ring[:k] {
			sum += d
		}
		st.CPU1s = delta
		st.CPU10s = sum / uint64(k)
		h.statsMu.Lock()
		h.stats = st
		h.statsMu.Unlock()
	}
}

// lxScanBuffers are the sampler's reusable buffers (guarded by h.mu).
type lxScanBuffers struct {
	dents [8192]byte
	path  [32]byte
	stat  [1024]byte
	cpu   [512]byte
	ru    unix.Rusage
}

// cpuTicks is the cgroup's CPU time minus the holder's, in 1/100 s.
func (h *lxHolder) cpuTicks() uint64 {
	b := &h.scanBuf
	k, _ := h.cpuStat.ReadAt(b.cpu[:], 0)
	usec := lxField(b.cpu[:k], "usage_usec ")
	if unix.Getrusage(unix.RUSAGE_SELF, &b.ru) == nil {
		ru := &b.ru
		self := uint64(ru.Utime.Sec+ru.Stime.Sec)*1e6 + uint64(ru.Utime.Usec+ru.Stime.Usec)
		usec -= min(usec, self)
	}
	return usec / 10000
}

// lxField parses the decimal after key at the start of a line of b.
func lxField(b []byte, key string) uint64 {
	for i := 0; i+len(key) <= len(b); i++ {
		if (i == 0 || b[i-1] == '\n') && string(b[i:i+len(key)]) == key {
			v, _ := lxAtou(b[i+len(key):])
			return v
		}
	}
	return 0
}

// lxAtou parses leading decimal digits.
func lxAtou(b []byte) (uint64, int) {
	var v uint64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		v = v*10 + uint64(b[i]-'0')
	}
	return v, i
}

// scan counts the members through the cell's own procfs: every pid but 1.
// The caller holds h.mu.
func (h *lxHolder) scan() lxStats {
	var st lxStats
	b := &h.scanBuf
	if _, err := unix.Seek(h.procDir, 0, 0); err != nil {
		return st
	}
	for {
		n, err := unix.Getdents(h.procDir, b.dents[:])
		if err != nil || n <= 0 {
			return st
		}
		// struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name.
		for off := 0; off+19 < n; {
			reclen := int(binary.NativeEndian.Uint16(b.dents[off+16:]))
			if reclen <= 0 {
				break
			}
			name := b.dents[off+19 : off+reclen]
			off += reclen
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if len(name) == 0 || name[0] < '1' || name[0] > '9' || (len(name) == 1 && name[0] == '1') {
				continue
			}
			state, vsize, ok := h.readStat(name)
			if !ok {
				continue // exited meanwhile
			}
			st.Refs++
			if state != 'Z' && state != 'X' {
				st.Procs++
				st.Memory += vsize
			}
		}
	}
}

// readStat reads <pid>/stat relative to the cell's /proc without
// allocating: a NUL-terminated path in a fixed buffer and a raw openat.
func (h *lxHolder) readStat(pid []byte) (state byte, vsize uint64, ok bool) {
	b := &h.scanBuf
	if len(pid)+len("/stat")+1 > len(b.path) {
		return 0, 0, false
	}
	k := copy(b.path[:], pid)
	k += copy(b.path[k:], "/stat")
	b.path[k] = 0
	fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(h.procDir), uintptr(unsafe.Pointer(&b.path[0])),
		unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
	if errno != 0 {
		return 0, 0, false
	}
	n, _ := unix.Read(int(fd), b.stat[:])
	unix.Close(int(fd))
	if n <= 0 {
		return 0, 0, false
	}
	return lxParseStat(b.stat[:n])
}

// lxParseStat returns the state and vsize of a /proc/<pid>/stat line;
// fields after the parenthesised command: state 3, starttime 22, vsize 23.
func lxParseStat(b []byte) (state byte, vsize uint64, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, false
	}
	b = b[i+2:]
	state = b[0]
	// Skip to field 23: 20 separators after the state (field 3).
	for f := 3; f < 23; f++ {
		j := bytes.IndexByte(b, ' ')
		if j < 0 {
			return 0, 0, false
		}
		b = b[j+1:]
	}
	vsize, k := lxAtou(b)
	return state, vsize, k > 0
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
	return h.cell(st)
}

// cell is the cell with the counters st.
func (h *lxHolder) cell(st lxStats) Cell {
	c := h.cfg
	return Cell{
		ID: c.ID, Name: c.Name, Root: c.Root, Profile: c.Profile, ProfileSet: c.ProfileSet,
		Ports: c.Ports, Rlimits: c.Rlimits,
		Refs: st.Refs, Procs: st.Procs, CPU1s: st.CPU1s, CPU10s: st.CPU10s, Memory: st.Memory,
		Age: lxAge(c.CreatedNS),
	}
}

// sampled is the cell as of the last sample (at most a second old),
// without taking h.mu or scanning: the answer to users other than root.
func (h *lxHolder) sampled() Cell {
	h.statsMu.Lock()
	st := h.stats
	h.statsMu.Unlock()
	return h.cell(st)
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
