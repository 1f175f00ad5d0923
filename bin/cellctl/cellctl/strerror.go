package cellctl

import (
	"errors"
	"os/exec"
	"syscall"

	"cells/kernel"
)

// netbsdStrerror holds NetBSD's strerror(3) texts, so cellctl prints what
// upstream's err(3) prints on every system (Linux words some differently,
// "Device or resource busy" for EBUSY).
var netbsdStrerror = map[syscall.Errno]string{
	syscall.EPERM:        "Operation not permitted",
	syscall.ENOENT:       "No such file or directory",
	syscall.ESRCH:        "No such process",
	syscall.EINTR:        "Interrupted system call",
	syscall.EIO:          "Input/output error",
	syscall.E2BIG:        "Argument list too long",
	syscall.ENOEXEC:      "Exec format error",
	syscall.EAGAIN:       "Resource temporarily unavailable",
	syscall.ENOMEM:       "Cannot allocate memory",
	syscall.EACCES:       "Permission denied",
	syscall.EFAULT:       "Bad address",
	syscall.EBUSY:        "Device busy",
	syscall.EEXIST:       "File exists",
	syscall.ENOTDIR:      "Not a directory",
	syscall.EISDIR:       "Is a directory",
	syscall.EINVAL:       "Invalid argument",
	syscall.ENOSPC:       "No space left on device",
	syscall.EROFS:        "Read-only file system",
	syscall.ELOOP:        "Too many levels of symbolic links",
	syscall.ENAMETOOLONG: "File name too long",
	syscall.ENOSYS:       "Function not implemented",
	syscall.EOVERFLOW:    "Value too large to be stored in data type",
	syscall.EOPNOTSUPP:   "Operation not supported",
}

// sentinelStrerror maps the kernel bridge's sentinels to the strerror text
// of the errno the upstream kernel returns for that state.
var sentinelStrerror = []struct {
	err  error
	text string
}{
	{kernel.ErrBusy, "Device busy"},
	{kernel.ErrNotExist, "No such file or directory"},
	{kernel.ErrExist, "File exists"},
	{kernel.ErrPermission, "Operation not permitted"},
	{kernel.ErrInvalid, "Invalid argument"},
	{kernel.ErrNotSupported, "Operation not supported"},
}

// Strerror returns the NetBSD strerror(3) text for err: the errno in its
// chain when there is one with a known text, else the text of a kernel
// sentinel it wraps, else err's own message.
func Strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if s, ok := netbsdStrerror[errno]; ok {
			return s
		}
	}
	for _, s := range sentinelStrerror {
		if errors.Is(err, s.err) {
			return s.text
		}
	}
	if errors.Is(err, exec.ErrNotFound) {
		return "No such file or directory"
	}
	return err.Error()
}
