//go:build linux

package kernel

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"cells/kernel/internal/seccomp"

	"golang.org/x/sys/unix"
)

// execDirect starts a process of the cell from the holder itself, without
// an exec stage: a Go process start per exec was most of its cost. The
// work the stage does to itself is done to one thread of the holder
// instead, locked to a goroutine that forks the process and then ends, so
// the thread ends with it: capabilities, credentials, no_new_privs and
// seccomp filters are per thread on Linux, and a forked process inherits
// those of the thread that forked it. The other threads of the holder keep
// theirs. The order is the stage's:
//
//	cgroup namespace -> bounding-set drop -> seccomp (still privileged) ->
//	groups, gid, uid (raw, this thread only) -> capset and ambient clear ->
//	no_new_privs -> directory and PATH checks as the target user ->
//	fork and exec (chdir, setsid, controlling tty in the child).
//
// Only requests without rlimits come here (see exec). The holder's other
// descriptors are close-on-exec, and its umask is 022 once the root is set
// up.
func (h *lxHolder) execDirect(c *net.UnixConn, req *lxExecReq, cfg *lxStageConfig, stdio [3]int) {
	type started struct {
		pid   int
		done  chan unix.WaitStatus
		reply *lxReply
	}
	res := make(chan started, 1)
	go func() {
		// Never unlocked: the goroutine's end ends the thread.
		runtime.LockOSThread()
		pid, done, r := h.startOnThread(req, cfg, stdio)
		res <- started{pid, done, r}
	}()
	s := <-res
	if s.reply != nil {
		lxSend(c, *s.reply, nil)
		return
	}
	pidfd, err := unix.PidfdOpen(s.pid, 0)
	if err == nil {
		defer unix.Close(pidfd)
	} else {
		pidfd = -1
	}
	lxReportExit(c, s.pid, pidfd, s.done)
}

// startOnThread turns the calling (locked, sacrificial) thread into the
// requested identity and forks the process from it. It returns the pid
// and the channel its exit status arrives on, or the reply of a failure.
func (h *lxHolder) startOnThread(req *lxExecReq, cfg *lxStageConfig, stdio [3]int) (int, chan unix.WaitStatus, *lxReply) {
	fail := func(err error, format string, args ...any) (int, chan unix.WaitStatus, *lxReply) {
		return 0, nil, &lxReply{Err: fmt.Sprintf(format, args...), Errno: int(lxErrnoOf(err))}
	}
	// A cgroup namespace rooted at the cell's cgroup, as the stage gets:
	// a cell that may mount (LOW) sees only its own subtree of cgroup2.
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return fail(err, "cgroup namespace: %v", err)
	}
	drop := lxDropCaps(cfg.Profile)
	for _, cp := range drop {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, cp, 0, 0, 0); err != nil && err != unix.EINVAL {
			return fail(err, "drop capability %d: %v", cp, err)
		}
	}
	filter, err := lxSeccompProgram(cfg.Profile)
	if err != nil {
		return fail(unix.ENOTSUP, "%v", err)
	}
	if err := seccomp.InstallThread(filter); err != nil {
		return fail(err, "%v", err)
	}
	if cr := cfg.Cred; cr != nil {
		// Raw: the syscall package's Setgroups, Setresgid and Setresuid
		// change every thread of the process.
		groups := make([]uint32, len(cr.Groups))
		copy(groups, cr.Groups)
		var gp uintptr
		if len(groups) > 0 {
			gp = uintptr(unsafe.Pointer(&groups[0]))
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), gp, 0); e != 0 {
			return fail(e, "setgroups: %v", e)
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(cr.GID), uintptr(cr.GID), uintptr(cr.GID)); e != 0 {
			return fail(e, "setgid %d: %v", cr.GID, e)
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(cr.UID), uintptr(cr.UID), uintptr(cr.UID)); e != 0 {
			return fail(e, "setuid %d: %v", cr.UID, e)
		}
	}
	if err := lxCapsetDrop(drop); err != nil {
		return fail(err, "capset: %v", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return fail(err, "clear ambient capabilities: %v", err)
	}
	if lxNoNewPrivs(cfg.Profile) {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fail(err, "no_new_privs: %v", err)
		}
	}
	env := cfg.Env
	if env == nil {
		env = []string{"PATH=" + lxDefaultPath, "HOME=/"}
	}
	dir := cfg.Dir
	if dir == "" {
		dir = "/"
	}
	// Checked here, as the target user, so that the error names the step
	// (the child's own chdir would fail the same way, unnamed).
	if err := unix.Faccessat(unix.AT_FDCWD, dir, unix.X_OK, unix.AT_EACCESS); err != nil {
		return fail(err, "chdir %s: %v", dir, err)
	}
	prog := cfg.Path
	if prog == "" {
		prog = cfg.Argv[0]
	}
	path, err := lxLookPathIn(dir, prog, env)
	if err != nil {
		return fail(err, "%s: %v", prog, err)
	}
	attr := &syscall.ProcAttr{
		Dir:   dir,
		Env:   env,
		Files: []uintptr{uintptr(stdio[0]), uintptr(stdio[1]), uintptr(stdio[2])},
		Sys: &syscall.SysProcAttr{
			Setsid:  req.Setsid || req.Setctty,
			Setctty: req.Setctty,
			Ctty:    0,
		},
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dying {
		return 0, nil, &lxReply{Err: "cell is being destroyed", Errno: int(unix.ENOENT)}
	}
	pid, err := syscall.ForkExec(path, cfg.Argv, attr)
	if err != nil {
		return fail(err, "%s: %v", prog, err)
	}
	done := make(chan unix.WaitStatus, 1)
	h.waiters[pid] = done
	return pid, done, nil
}

// lxLookPathIn is lxLookPath for a process that will run in dir: relative
// PATH entries and a relative program are taken from there.
func lxLookPathIn(dir, file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	abs := make([]string, 0, len(env))
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			parts := strings.Split(v, ":")
			for i, p := range parts {
				if !strings.HasPrefix(p, "/") {
					parts[i] = strings.TrimSuffix(dir, "/") + "/" + p
				}
			}
			kv = "PATH=" + strings.Join(parts, ":")
		}
		abs = append(abs, kv)
	}
	return lxLookPath(file, abs)
}
