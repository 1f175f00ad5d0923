//go:build linux

package kernel

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lxHolderEnv is the Go runtime environment of a holder. GOGC=off: no
// collection runs unless memory was allocated (see lxTrimmer), so an idle
// holder never runs the runtime's forced two-minute collection, which
// touched megabytes of runtime metadata and left about 300 KiB more anonymous
// memory behind each time. GOMEMLIMIT bounds the heap of a busy holder
// (the collector runs when the runtime's memory nears it); its live heap
// is well under a megabyte, so the limit is never close to a death spiral.
var lxHolderEnv = []string{"GOMAXPROCS=1", "GOGC=off", "GOMEMLIMIT=16MiB"}

// lxTrimmer gives back the memory an idle holder does not need: free heap
// pages, and the page-table mappings of its own binary's code and
// read-only data.
//
// Why: every package initialiser of the (large) binary ran once at start,
// and the kernel's fault-around mapped most of the file, so a fresh holder
// has megabytes of the binary resident although its idle loop touches a
// few hundred kilobytes. MADV_DONTNEED on a private file mapping that was
// never written only drops our page-table entries: the pages stay in the
// page cache (shared with every other holder and cellctl run), and the
// next access is a minor fault that maps them again. The writable data
// segment is left alone (dropping it would revert Go's globals to the
// file's contents).
type lxTrimmer struct {
	ranges  [][2]uintptr // the binary's r-x and r-- mappings, found once
	ms      runtime.MemStats
	lastGC  uint64 // TotalAlloc at the last collection
	scanned bool
}

// lxTrimSlack is how much may be allocated since the last collection
// before a trim collects again (a stats request allocates a few KiB).
const lxTrimSlack = 64 << 10

// trim collects garbage only when something was allocated since the last
// trim, then drops the binary's mapped pages. After its first call it
// allocates nothing itself, so an idle holder stays without collections.
func (t *lxTrimmer) trim() {
	// Not runtime/metrics: its package initialiser costs 0.1-0.2 ms in
	// every start of this binary. ReadMemStats stops the world for a
	// moment, which for a single-P holder is nothing.
	runtime.ReadMemStats(&t.ms)
	if !t.scanned || t.ms.TotalAlloc-t.lastGC > lxTrimSlack {
		if !t.scanned {
			t.scanned = true
			t.ranges = lxBinaryRanges()
		}
		// A collection walks type and stack metadata all over the
		// read-only data, so it comes before dropping the mappings.
		debug.FreeOSMemory()
		runtime.ReadMemStats(&t.ms)
		t.lastGC = t.ms.TotalAlloc
	}
	for _, r := range t.ranges {
		// A raw call: the range is not Go memory, so there is no slice
		// to hand to unix.Madvise.
		unix.Syscall(unix.SYS_MADVISE, r[0], r[1]-r[0], unix.MADV_DONTNEED)
	}
}

// lxBinaryRanges lists the read-only and executable mappings of this
// process's own binary.
func lxBinaryRanges() [][2]uintptr {
	var st unix.Stat_t
	if unix.Stat("/proc/self/exe", &st) != nil {
		return nil
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out [][2]uintptr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		fl := strings.Fields(sc.Text())
		if len(fl) < 5 || (fl[1] != "r-xp" && fl[1] != "r--p") {
			continue
		}
		if ino, _ := strconv.ParseUint(fl[4], 10, 64); ino != st.Ino {
			continue
		}
		lo, hi, ok := strings.Cut(fl[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		out = append(out, [2]uintptr{uintptr(start), uintptr(end)})
	}
	return out
}
