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
// the thread ends with it: capabilities, no_new_privs and seccomp filters
// are per thread on Linux, and a forked process inherits those of the
// thread that forked it. The other threads of the holder keep theirs. The
// order is the stage's:
//
//	cgroup namespace -> bounding-set drop -> seccomp (still privileged) ->
//	groups -> capset and ambient clear -> no_new_privs -> directory and
//	PATH checks -> fork and exec (chdir, setsid, controlling tty in the
//	child).
//
// Only requests that need neither rlimits nor another uid or gid come here
// (see exec). Why not another uid: a holder thread with the cell user's
// uid could be signalled (Go dies of a SIGABRT sent to it), have the
// holder's rlimits changed (prlimit) or, with fs.suid_dumpable set, be
// traced by that user while it lives; a thread that stays root with fewer
// capabilities offers the cell nothing its processes could not do to the
// holder anyway. The holder's other descriptors are close-on-exec, and its
// umask is 022 once the root is set up.
func (h *lxHolder) execDirect(c *net.UnixConn, req *lxExecReq, cfg *lxStageConfig, stdio [3]int) {
	type started struct {
		pid, pidfd int
		done       chan unix.WaitStatus
		reply      *lxReply
	}
	res := make(chan started, 1)
	go func() {
		// Never unlocked: the goroutine's end ends the thread (the main
		// thread, which the runtime keeps, is locked by lxHolderMain).
		runtime.LockOSThread()
		pid, pidfd, done, r := h.startOnThread(req, cfg, stdio)
		res <- started{pid, pidfd, done, r}
	}()
	s := <-res
	if s.reply != nil {
		lxSend(c, *s.reply, nil)
		return
	}
	if s.pidfd >= 0 {
		defer unix.Close(s.pidfd)
	}
	lxReportExit(c, s.pid, s.pidfd, s.done)
}

// startOnThread gives the calling (locked, sacrificial) thread the cell's
// profile and forks the process from it. It returns the pid, a pidfd of
// it (or -1) and the channel its exit status arrives on, or the reply of
// a failure.
func (h *lxHolder) startOnThread(req *lxExecReq, cfg *lxStageConfig, stdio [3]int) (int, int, chan unix.WaitStatus, *lxReply) {
	fail := func(err error, format string, args ...any) (int, int, chan unix.WaitStatus, *lxReply) {
		return 0, -1, nil, &lxReply{Err: fmt.Sprintf(format, args...), Errno: int(lxErrnoOf(err))}
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
		// Raw: the syscall package's Setgroups changes every thread of
		// the process. Uid and gid stay 0 here (see execDirect).
		groups := make([]uint32, len(cr.Groups))
		copy(groups, cr.Groups)
		var gp uintptr
		if len(groups) > 0 {
			gp = uintptr(unsafe.Pointer(&groups[0]))
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), gp, 0); e != 0 {
			return fail(e, "setgroups: %v", e)
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
	// Checked here so that the error names the step (the child's own
	// chdir would fail the same way, unnamed).
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
	// The pidfd comes with the fork (CLONE_PIDFD): opened afterwards, the
	// child could already be reaped and its pid taken by another process.
	pidfd := -1
	attr := &syscall.ProcAttr{
		Dir:   dir,
		Env:   env,
		Files: []uintptr{uintptr(stdio[0]), uintptr(stdio[1]), uintptr(stdio[2])},
		Sys: &syscall.SysProcAttr{
			Setsid:  req.Setsid || req.Setctty,
			Setctty: req.Setctty,
			Ctty:    0,
			PidFD:   &pidfd,
		},
	}
	// The fork runs outside h.mu: ForkExec returns only once the child
	// executed the command, which may block (a hung network file
	// system), and reaping, stats and destroy must go on meanwhile.
	if !h.beginFork() {
		return 0, -1, nil, &lxReply{Err: "cell is being destroyed", Errno: int(unix.ENOENT)}
	}
	pid, err := syscall.ForkExec(path, cfg.Argv, attr)
	done := h.endFork(pid, err == nil)
	if err != nil {
		return fail(err, "%s: %v", prog, err)
	}
	return pid, pidfd, done, nil
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
