//go:build linux

package kernel

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lxTrim gives back the memory an idle holder does not need: free heap
// pages, and the page-table mappings of its own binary's code and
// read-only data. It collects garbage first, because a collection walks
// type and stack metadata all over the read-only data and would map it
// again right away (the sampler allocates nothing, so between trims no
// collection runs but the runtime's forced one every two minutes, which
// the 30-second trims pre-empt).
//
// Why: every package initialiser of the (large) binary ran once at start,
// and the kernel's fault-around mapped most of the file, so a fresh holder
// has megabytes of the binary resident although its idle loop touches a
// few pages. MADV_DONTNEED on a private file mapping that was never
// written only drops our page-table entries: the pages stay in the page
// cache (shared with every other holder and cellctl run), and the next
// access is a minor fault that maps them again. The writable data segment
// is left alone (dropping it would revert Go's globals to the file's
// contents).
func lxTrim() {
	debug.FreeOSMemory() // a collection, then free heap pages back to the kernel
	var st unix.Stat_t
	if unix.Stat("/proc/self/exe", &st) != nil {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
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
		// A raw call: the range is not Go memory, so there is no slice
		// to hand to unix.Madvise.
		unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
	}
}
