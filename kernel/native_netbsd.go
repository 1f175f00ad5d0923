package kernel

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"cells/kernel/cellabi"
)

// openNative opens the NetBSD secmodel_cell driver (see netbsd_driver.go).
// A kernel without the module has no security.models.cell node:
// ErrNotSupported.
func openNative(opts Options) (Driver, error) {
	s := newNetbsdSysctl()
	if _, err := s.mib(cellabi.NodeList); err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return nil, fmt.Errorf("netbsd: %s: secmodel_cell is not loaded (modload secmodel_cell): %w", cellabi.NodeList, ErrNotSupported)
		}
		return nil, fmt.Errorf("netbsd: %s: %w", cellabi.NodeList, err)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("netbsd: locate this binary for the enter helper: %w", err)
	}
	return newNetbsdDriver(s, netbsdMonotonicNS, exe), nil
}

// InitMain is the body of the re-executed enter helper (argv[0] InitArg0):
// it reads the request the parent's Exec sent, enters the cell and execs
// the command; it returns only on failure, which it reports to the parent.
func InitMain() int {
	return cellabi.InitMain(newNetbsdInitSys())
}

// netbsdClockMonotonic is CLOCK_MONOTONIC of <sys/time.h> (x/sys does not
// export it for NetBSD): the clock of cell_info's ci_created_ns.
const netbsdClockMonotonic = 3

func netbsdMonotonicNS() uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(netbsdClockMonotonic, &ts); err != nil {
		return 0
	}
	return uint64(ts.Sec)*1e9 + uint64(ts.Nsec)
}
