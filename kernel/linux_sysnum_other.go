//go:build linux && !amd64

package kernel

// lxAuditArch is zero where no syscall table exists: building the seccomp
// filter fails, and so does every exec (fail closed).
const lxAuditArch = 0

const lxRejectX32 = false

var lxSysnum = map[string]uint32{}
