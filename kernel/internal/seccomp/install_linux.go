package seccomp

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Install loads the filter for every thread of the process
// (SECCOMP_FILTER_FLAG_TSYNC), so no Go runtime thread stays unfiltered.
// The caller needs CAP_SYS_ADMIN or no_new_privs.
func Install(prog []Instruction) error {
	return install(prog, unix.SECCOMP_FILTER_FLAG_TSYNC)
}

// InstallThread loads the filter for the calling thread only: for a
// thread locked to its goroutine that forks a process and then ends, in
// a process whose other threads must stay unfiltered. The caller needs
// CAP_SYS_ADMIN or no_new_privs.
func InstallThread(prog []Instruction) error {
	return install(prog, 0)
}

func install(prog []Instruction, flags uintptr) error {
	if len(prog) == 0 {
		return fmt.Errorf("seccomp: install: empty program")
	}
	filters := make([]unix.SockFilter, len(prog))
	for i, in := range prog {
		filters[i] = unix.SockFilter{Code: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filters)), Filter: &filters[0]}
	// There is no x/sys wrapper for seccomp(2); a raw syscall is the API.
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		flags, uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return fmt.Errorf("seccomp: install: %w", errno)
	}
	if r != 0 {
		// With TSYNC a positive return is the id of a thread that could not
		// be synchronised.
		return fmt.Errorf("seccomp: install: thread %d not synchronised", r)
	}
	return nil
}
