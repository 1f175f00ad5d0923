//go:build linux

package kernel

import (
	"fmt"
	"sort"

	"cells/kernel/internal/seccomp"
)

// lxSeccompProgram assembles the deny-list filter of profile p. A name
// missing from this architecture's table (for example iopl on arm64) is
// skipped: that syscall does not exist there.
func lxSeccompProgram(p Profile) ([]seccomp.Instruction, error) {
	if lxAuditArch == 0 {
		return nil, fmt.Errorf("seccomp: no syscall table for this architecture: %w", ErrNotSupported)
	}
	deny, devices := lxDeniedSyscalls(p)
	f := seccomp.Filter{Arch: lxAuditArch, RejectX32: lxRejectX32}
	for _, name := range deny {
		if nr, ok := lxSysnum[name]; ok {
			f.Deny = append(f.Deny, nr)
		}
	}
	names := make([]string, 0, len(devices))
	for name := range devices {
		names = append(names, name)
	}
	sort.Strings(names) // the same program every time
	for _, name := range names {
		if nr, ok := lxSysnum[name]; ok {
			f.Devices = append(f.Devices, seccomp.DeviceArg{Nr: nr, Arg: devices[name]})
		}
	}
	return f.Assemble()
}
