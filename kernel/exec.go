package kernel

import (
	"os/exec"
	"syscall"
)

// childStdio gives cmd the stdio of spec and returns the session settings
// of a child started directly by this process (fake and NetBSD drivers):
// a new session with Setsid or Setctty, and stdin as the controlling
// terminal with Setctty. The caller adds what else it needs.
func childStdio(cmd *exec.Cmd, spec ExecSpec) *syscall.SysProcAttr {
	// A nil *os.File stored in an io.Reader would not be a nil interface.
	if spec.Stdin != nil {
		cmd.Stdin = spec.Stdin
	}
	if spec.Stdout != nil {
		cmd.Stdout = spec.Stdout
	}
	if spec.Stderr != nil {
		cmd.Stderr = spec.Stderr
	}
	attr := &syscall.SysProcAttr{Setsid: spec.Setsid || spec.Setctty}
	if spec.Setctty {
		attr.Setctty = true
		attr.Ctty = 0 // the child's stdin
	}
	return attr
}
