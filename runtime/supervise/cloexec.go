package supervise

import (
	"os"
	"strconv"
	"syscall"
)

// cloexecInherited marks every descriptor from 3 up close-on-exec. Go opens
// its own files close-on-exec, but a daemon stage also holds whatever its
// invoker left open without the flag (a shell's saved descriptors, a
// harness's pipes); os/exec would pass those on to the monitor and from
// there into the cell. Descriptors handed over on purpose are re-armed by
// os/exec's ExtraFiles.
func cloexecInherited() {
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, e := range ents {
			if fd, err := strconv.Atoi(e.Name()); err == nil && fd >= 3 {
				syscall.CloseOnExec(fd)
			}
		}
		return
	}
	// No procfs (NetBSD by default): every possible descriptor.
	max := 65536
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur < uint64(max) {
		max = int(rl.Cur)
	}
	for fd := 3; fd < max; fd++ {
		syscall.CloseOnExec(fd)
	}
}
