//go:build linux

package kernel

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"cells/kernel/internal/seccomp"

	"golang.org/x/sys/unix"
)

// lxStageConfig is what the holder hands to an exec stage on fd 3, in
// the binary form of linux_wire.go (the JSON tags only name the fields).
type lxStageConfig struct {
	Argv    []string `json:"argv"`
	Path    string   `json:"path,omitempty"` // program to run; "" means Argv[0]
	Env     []string `json:"env"`
	Dir     string   `json:"dir"`
	Cred    *Cred    `json:"cred,omitempty"`
	Rlimits Rlimits  `json:"rlimits"` // zero when the request skipped them
	Profile Profile  `json:"profile"`
}

// Descriptors of an exec stage besides stdio.
const (
	lxStageConfigFD = 3
	lxStageErrFD    = 4 // close-on-exec: EOF tells the holder execve worked
)

// lxDefaultPath is the PATH of a request without environment.
const lxDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// lxStageMain is "cells-init exec": a short-lived process, already inside
// the cell's namespaces and root (the holder forked it), that turns itself
// into the requested workload. Rlimits are set here rather than in the
// holder because setrlimit is process-wide and the holder is a
// multi-threaded Go program serving other requests; a fresh process is the
// only safe place. The order matters:
//
//	rlimits nofile/core -> bounding-set drop -> seccomp (still privileged,
//	so it works for any target uid) -> groups, gid, uid -> capset and
//	ambient clear -> no_new_privs -> chdir -> PATH lookup ->
//	every fd > 2 close-on-exec -> rlimit as (last: the Go runtime must not
//	need new address space after it) -> execve.
func lxStageMain() int {
	// Capabilities, no_new_privs and the bounding set are per thread: pin
	// this goroutine to the thread that will call execve.
	runtime.LockOSThread()
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	lxSetComm("cells-init")
	unix.CloseOnExec(lxStageErrFD)
	errw := os.NewFile(lxStageErrFD, "errors")
	fail := func(errno unix.Errno, format string, args ...any) int {
		b, _ := json.Marshal(lxReply{Err: fmt.Sprintf(format, args...), Errno: int(errno)})
		errw.Write(b)
		if errno == unix.ENOENT {
			return 127
		}
		return 126
	}
	cfgFile := os.NewFile(lxStageConfigFD, "config")
	b, err := io.ReadAll(io.LimitReader(cfgFile, lxMaxPacket))
	cfgFile.Close()
	var cfg lxStageConfig
	if err != nil || cfg.unmarshal(b) != nil || len(cfg.Argv) == 0 {
		return fail(unix.EINVAL, "exec stage: bad request")
	}
	env := cfg.Env
	if env == nil {
		env = []string{"PATH=" + lxDefaultPath, "HOME=/"}
	}
	if err := lxSetRlimit(unix.RLIMIT_NOFILE, cfg.Rlimits.Nofile); err != nil {
		return fail(lxErrnoOf(err), "rlimit nofile: %v", err)
	}
	if err := lxSetRlimit(unix.RLIMIT_CORE, cfg.Rlimits.Core); err != nil {
		return fail(lxErrnoOf(err), "rlimit core: %v", err)
	}
	drop := lxDropCaps(cfg.Profile)
	for _, c := range drop {
		// EINVAL: a capability this kernel does not know; nothing to drop.
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0); err != nil && err != unix.EINVAL {
			return fail(lxErrnoOf(err), "drop capability %d: %v", c, err)
		}
	}
	filter, err := lxSeccompProgram(cfg.Profile)
	if err != nil {
		return fail(unix.ENOTSUP, "%v", err)
	}
	if err := seccomp.Install(filter); err != nil {
		return fail(lxErrnoOf(err), "%v", err)
	}
	if c := cfg.Cred; c != nil {
		groups := make([]int, len(c.Groups))
		for i, g := range c.Groups {
			groups[i] = int(g)
		}
		// The syscall package applies these to every thread of the process.
		if err := syscall.Setgroups(groups); err != nil {
			return fail(lxErrnoOf(err), "setgroups: %v", err)
		}
		if err := syscall.Setresgid(int(c.GID), int(c.GID), int(c.GID)); err != nil {
			return fail(lxErrnoOf(err), "setgid %d: %v", c.GID, err)
		}
		if err := syscall.Setresuid(int(c.UID), int(c.UID), int(c.UID)); err != nil {
			return fail(lxErrnoOf(err), "setuid %d: %v", c.UID, err)
		}
	}
	if err := lxCapsetDrop(drop); err != nil {
		return fail(lxErrnoOf(err), "capset: %v", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return fail(lxErrnoOf(err), "clear ambient capabilities: %v", err)
	}
	if lxNoNewPrivs(cfg.Profile) {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fail(lxErrnoOf(err), "no_new_privs: %v", err)
		}
	}
	dir := cfg.Dir
	if dir == "" {
		dir = "/"
	}
	if err := unix.Chdir(dir); err != nil {
		return fail(lxErrnoOf(err), "chdir %s: %v", dir, err)
	}
	prog := cfg.Path
	if prog == "" {
		prog = cfg.Argv[0]
	}
	path, err := lxLookPath(prog, env)
	if err != nil {
		return fail(lxErrnoOf(err), "%s: %v", prog, err)
	}
	unix.Umask(0o022)
	// No descriptor of the holder or the host may reach the workload:
	// everything above stderr closes at execve (marking rather than
	// closing, because the Go runtime still owns some of them).
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		for fd := 3; fd < 1024; fd++ {
			unix.CloseOnExec(fd)
		}
	}
	if err := lxSetRlimit(unix.RLIMIT_AS, cfg.Rlimits.AS); err != nil {
		return fail(lxErrnoOf(err), "rlimit as: %v", err)
	}
	err = syscall.Exec(path, cfg.Argv, env)
	return fail(lxErrnoOf(err), "%s: %v", prog, err)
}

// lxSetRlimit sets cur = max = the cell's value when it is configured
// (RlimitInfinity is RLIM_INFINITY).
func lxSetRlimit(res int, r Rlimit) error {
	if !r.Set {
		return nil
	}
	v := r.Value
	if v == RlimitInfinity {
		v = unix.RLIM_INFINITY
	}
	return unix.Setrlimit(res, &unix.Rlimit{Cur: v, Max: v})
}

// lxCapsetDrop removes caps from the effective, permitted and inheritable
// sets of this thread (for a non-root target they are empty already).
func lxCapsetDrop(caps []uintptr) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	for _, c := range caps {
		i, bit := c/32, uint32(1)<<(c%32)
		data[i].Effective &^= bit
		data[i].Permitted &^= bit
		data[i].Inheritable &^= bit
	}
	return unix.Capset(&hdr, &data[0])
}

// lxLookPath finds file in the PATH of env, as execvp does, inside the
// cell (the stage already runs in the cell's root).
func lxLookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	path := lxDefaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	denied := false
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + file
		var st unix.Stat_t
		if unix.Stat(p, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			continue
		}
		if unix.Access(p, unix.X_OK) != nil {
			denied = true
			continue
		}
		return p, nil
	}
	if denied {
		return "", unix.EACCES
	}
	return "", unix.ENOENT
}

func lxErrnoOf(err error) unix.Errno {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.EIO
}

// lxSetComm names the process: executed through /proc/self/fd/N, its
// command name would otherwise be the descriptor number.
func lxSetComm(name string) {
	b := append([]byte(name), 0)
	unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0)
}
