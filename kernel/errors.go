package kernel

import (
	"fmt"
	"syscall"
)

// errnoError is a driver error that matches both a sentinel (ErrBusy, ...)
// and the errno the kernel returned, so callers can test the sentinel and
// print upstream's strerror texts. A nil sentinel matches the errno only.
type errnoError struct {
	msg      string
	errno    syscall.Errno
	sentinel error
}

func (e *errnoError) Error() string { return e.msg }

func (e *errnoError) Unwrap() []error {
	if e.sentinel == nil {
		return []error{e.errno}
	}
	return []error{e.sentinel, e.errno}
}

// errnof returns an errnoError whose message is prefix followed by the
// formatted text ("linux kernel: destroy cell 3: ...").
func errnof(prefix string, sentinel error, errno syscall.Errno, format string, args ...any) error {
	return &errnoError{msg: prefix + fmt.Sprintf(format, args...), errno: errno, sentinel: sentinel}
}
