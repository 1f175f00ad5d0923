//go:build linux

package kernel

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// lxHolderConfig is what the driver hands to a new holder on its stdin, in
// the binary form of linux_wire.go (the JSON tags only name the fields).
type lxHolderConfig struct {
	ID         uint32   `json:"id"`
	Name       string   `json:"name"`
	Root       string   `json:"root"`     // as given to create (listed)
	RootAbs    string   `json:"root_abs"` // absolute, what is mounted
	Profile    Profile  `json:"profile"`
	ProfileSet bool     `json:"profile_set"`
	Ports      []uint16 `json:"ports,omitempty"`
	Rlimits    Rlimits  `json:"rlimits"`
	Cgroup     string   `json:"cgroup"`
	CreatedNS  int64    `json:"created_ns"`
}

// Descriptors the driver passes to the holder.
const (
	lxHolderListenFD = 3 // the cell's listening socket
	lxHolderReadyFD  = 4 // "ok\n" or an error text, then closed
	lxHolderCommitFD = 5 // the creator writes "c" once the cell is recorded
)

// lxHolder is PID 1 of a cell: it holds the namespaces while no workload
// runs, reaps orphans, samples the counters and starts processes on
// request (Go cannot setns into a mount namespace from a multi-threaded
// process, so the cell's own PID 1 does the starting).
type lxHolder struct {
	cfg     lxHolderConfig
	procDir int // the cell's procfs, opened before anything ran
	scanBuf lxScanBuffers
	cpuStat *os.File // the cell cgroup's cpu.stat, opened before pivot_root
	devNull int      // the cell's /dev/null

	others atomic.Int32 // connections of users other than root being served

	mu      sync.Mutex // forks, reaping and destroy are serialised
	waiters map[int]chan unix.WaitStatus
	dying   bool
	// forking counts direct starts forking outside mu (execDirect); while
	// any does, the statuses of children nobody waits for yet are kept in
	// early, since the child may end before its start returns.
	forking int
	early   map[int]unix.WaitStatus

	othersMu   sync.Mutex // the budget of requests from other users
	othersLeft int
	othersAt   time.Time

	statsMu sync.Mutex
	stats   lxStats
}

// lxHolderMain is "cells-init holder <name>".
func lxHolderMain() int {
	// The main thread stays with this goroutine: a thread locked by a
	// goroutine that ends is ended by the runtime, but the main thread is
	// parked instead, and execDirect's threads must end.
	runtime.LockOSThread()
	// Why: a non-dumpable process has root-owned /proc entries that need
	// CAP_SYS_PTRACE to open, which no cell keeps (see lxSealedSelf).
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	lxSetComm("cells-init")
	unix.Umask(0)
	// Every descriptor the holder got is close-on-exec, whatever its
	// creator's parent left open: the holder starts the cell's processes
	// (execDirect), and none of them may inherit one.
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		for fd := 3; fd < 1024; fd++ {
			unix.CloseOnExec(fd)
		}
	}
	ready := os.NewFile(lxHolderReadyFD, "ready")
	fail := func(err error) int {
		fmt.Fprintf(ready, "%v\n", err)
		fmt.Fprintf(os.Stderr, "cells-init holder: %v\n", err)
		return 1
	}
	b, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	if err != nil {
		return fail(fmt.Errorf("read config: %w", err))
	}
	h := &lxHolder{waiters: map[int]chan unix.WaitStatus{}}
	if err := h.cfg.unmarshal(b); err != nil {
		return fail(fmt.Errorf("config: %w", err))
	}
	// The signals a cell's root could send to its PID 1 are caught and
	// dropped, so nothing inside can stop the holder. Caught, not ignored:
	// an ignored signal stays ignored across fork and exec, and every
	// process of the cell would then ignore SIGTERM, SIGINT and SIGHUP
	// (no Ctrl-C in a shell, no graceful stop of a service); exec resets
	// caught signals to their defaults.
	// So are those the Go runtime would die of when sent by kill(2)
	// (SIGABRT, SIGSEGV, ...): caught, they are dropped too (a real fault
	// still crashes).
	drop := make(chan os.Signal, 16)
	signal.Notify(drop, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGPIPE, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU,
		unix.SIGABRT, unix.SIGILL, unix.SIGTRAP, unix.SIGBUS, unix.SIGFPE, unix.SIGSEGV, unix.SIGSYS, unix.SIGSTKFLT,
		unix.SIGALRM, unix.SIGVTALRM, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGIO, unix.SIGPWR)
	go func() {
		for range drop {
		}
	}()
	if h.cpuStat, err = os.Open(h.cfg.Cgroup + "/cpu.stat"); err != nil {
		return fail(fmt.Errorf("cgroup: %w", err))
	}
	if h.procDir, err = lxSetupRoot(&h.cfg); err != nil {
		return fail(err)
	}
	if h.devNull, err = unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0); err != nil {
		return fail(fmt.Errorf("open /dev/null: %w", err))
	}
	// The umask the cell's processes start with (the directory tree is
	// made): the holder starts them itself when it can (execDirect).
	unix.Umask(0o022)
	// Stdin (the config pipe) and stdout are done with.
	unix.Dup3(h.devNull, 0, 0)
	unix.Dup3(h.devNull, 1, 0)
	lnFile := os.NewFile(lxHolderListenFD, "listener")
	ln, err := net.FileListener(lnFile)
	// Closed through its *os.File: a bare close(3) would leave the File's
	// finalizer to close whatever descriptor 3 is by then.
	lnFile.Close()
	if err != nil {
		return fail(fmt.Errorf("listener: %w", err))
	}
	ul, ok := ln.(*net.UnixListener)
	if !ok {
		return fail(fmt.Errorf("listener: not a unix socket"))
	}

	sigchld := make(chan os.Signal, 16)
	signal.Notify(sigchld, unix.SIGCHLD)
	go func() {
		for range sigchld {
			h.reap()
		}
	}()
	go h.sample()

	fmt.Fprintf(ready, "ok\n")
	ready.Close()
	// Why: the creator records the cell only after "ok"; a creator killed
	// in between leaves no record, so nothing could ever destroy this
	// cell. It commits with one byte; end of file without it means it
	// died, and the holder ends (the record it wrote first, without a
	// holder pid, lets the next call clean the cgroup and ports up).
	commit := os.NewFile(lxHolderCommitFD, "commit")
	var c [1]byte
	if n, _ := commit.Read(c[:]); n != 1 || c[0] != 'c' {
		fmt.Fprintf(os.Stderr, "cells-init holder: creator gone before recording the cell\n")
		return 1
	}
	commit.Close()
	go h.warmUp()
	for {
		c, err := ul.AcceptUnix()
		if err != nil {
			fmt.Fprintf(os.Stderr, "cells-init holder: accept: %v\n", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		go h.serve(c)
	}
}

// reap collects every exited child; the status goes to whoever started it.
func (h *lxHolder) reap() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reapLocked()
}

func (h *lxHolder) reapLocked() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		if ch, ok := h.waiters[pid]; ok {
			ch <- ws
			delete(h.waiters, pid)
		} else if h.forking > 0 {
			if h.early == nil {
				h.early = map[int]unix.WaitStatus{}
			}
			h.early[pid] = ws
		}
	}
}

// beginFork registers a direct start about to fork outside mu; false when
// the cell is being destroyed.
func (h *lxHolder) beginFork() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dying {
		return false
	}
	h.forking++
	return true
}

// endFork ends a beginFork. For a started child (ok) it returns the
// channel its exit status arrives on, which has it already if the child
// was reaped meanwhile.
func (h *lxHolder) endFork(pid int, ok bool) chan unix.WaitStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.forking--
	var done chan unix.WaitStatus
	if ok {
		done = make(chan unix.WaitStatus, 1)
		if ws, found := h.early[pid]; found {
			done <- ws
			delete(h.early, pid)
		} else {
			h.waiters[pid] = done
		}
	}
	if h.forking == 0 {
		h.early = nil // orphans' statuses nobody will ask for
	}
	return done
}

// lxPeerIsRoot checks the connecting process's credentials (SO_PEERCRED):
// only root may exec in or destroy the cell; anyone may ask for stats.
func lxPeerIsRoot(c *net.UnixConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var cred *unix.Ucred
	var cerr error
	rc.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	return cerr == nil && cred.Uid == 0
}

// Requests of users other than root: the socket is open to every host
// user, who must not be able to pile goroutines up in PID 1, fill its log,
// burn the cell's CPU or hold its locks. At most lxMaxOthers are served at
// once, each within lxOthersTimeout, at most lxOthersPerSecond a second;
// they are answered from the last sample, without a scan, and their
// failures are not logged.
const (
	lxMaxOthers       = 8
	lxOthersTimeout   = 2 * time.Second
	lxOthersPerSecond = 50
)

// otherAllowed takes one request from the budget of other users.
func (h *lxHolder) otherAllowed() bool {
	h.othersMu.Lock()
	defer h.othersMu.Unlock()
	if now := time.Now(); now.Sub(h.othersAt) >= time.Second {
		h.othersAt, h.othersLeft = now, lxOthersPerSecond
	}
	if h.othersLeft == 0 {
		return false
	}
	h.othersLeft--
	return true
}

func (h *lxHolder) serve(c *net.UnixConn) {
	defer c.Close()
	root := lxPeerIsRoot(c)
	if !root {
		if !h.otherAllowed() {
			return
		}
		if h.others.Add(1) > lxMaxOthers {
			h.others.Add(-1)
			return
		}
		defer h.others.Add(-1)
		c.SetDeadline(time.Now().Add(lxOthersTimeout))
	}
	var req lxRequest
	files, err := lxRecv(c, &req, lxMaxPacket)
	if err != nil {
		if root {
			fmt.Fprintf(os.Stderr, "cells-init holder: request: %v\n", err)
		}
		return
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if !root {
		if req.Op != "stats" {
			lxSend(c, lxReply{Err: "only root may " + req.Op, Errno: int(unix.EPERM)}, nil)
			return
		}
		cell := h.sampled()
		lxSend(c, lxReply{Cell: &cell}, nil)
		return
	}
	switch req.Op {
	case "stats":
		cell := h.snapshot()
		lxSend(c, lxReply{Cell: &cell}, nil)
	case "destroy":
		h.destroy(c)
	case "exec":
		if req.Exec == nil {
			lxSend(c, lxReply{Err: "empty exec request", Errno: int(unix.EINVAL)}, nil)
			return
		}
		h.exec(c, req.Exec, files)
	default:
		lxSend(c, lxReply{Err: "unknown request " + req.Op, Errno: int(unix.EINVAL)}, nil)
	}
}

// destroy ends the holder if no other process is left in the cell. The
// check and the decision happen under the fork lock, and with only PID 1
// alive nobody else can fork, so no process can appear afterwards.
func (h *lxHolder) destroy(c *net.UnixConn) {
	h.mu.Lock()
	h.reapLocked()
	st := h.scan()
	if h.forking > 0 {
		h.mu.Unlock()
		lxSend(c, lxReply{Err: "a process is being started", Errno: int(unix.EBUSY)}, nil)
		return
	}
	if st.Refs > 0 {
		h.mu.Unlock()
		lxSend(c, lxReply{Err: fmt.Sprintf("%d member processes remain", st.Refs), Errno: int(unix.EBUSY)}, nil)
		return
	}
	h.dying = true
	lxSend(c, lxReply{}, nil)
	os.Exit(0) // PID 1 leaving ends the namespace; the lock is never released
}

// exec starts one process. Without rlimits to set and as root, the holder
// starts it itself (execDirect); otherwise through the exec stage
// ("cells-init exec"), which applies rlimits, credentials, capabilities,
// no_new_privs and seccomp in a fresh single-purpose process and then
// executes the target: setrlimit is process-wide, and the holder's own
// limits and identity must not change.
func (h *lxHolder) exec(c *net.UnixConn, req *lxExecReq, files []*os.File) {
	stdio := [3]int{h.devNull, h.devNull, h.devNull}
	n := 0
	for i := 0; i < 3; i++ {
		if req.Stdio[i] {
			if n >= len(files) {
				lxSend(c, lxReply{Err: "missing stdio descriptor", Errno: int(unix.EINVAL)}, nil)
				return
			}
			stdio[i] = int(files[n].Fd())
			n++
		}
	}
	if len(req.Argv) == 0 || req.Argv[0] == "" {
		lxSend(c, lxReply{Err: "empty command", Errno: int(unix.EINVAL)}, nil)
		return
	}
	cfg := lxStageConfig{Argv: req.Argv, Path: req.Path, Env: req.Env, Dir: req.Dir, Cred: req.Cred, Profile: h.cfg.Profile}
	if !req.NoRlimits {
		cfg.Rlimits = h.cfg.Rlimits
	}
	rlimits := cfg.Rlimits.Nofile.Set || cfg.Rlimits.AS.Set || cfg.Rlimits.Core.Set
	if !rlimits && (cfg.Cred == nil || cfg.Cred.UID == 0 && cfg.Cred.GID == 0) {
		h.execDirect(c, req, &cfg, stdio)
		return
	}
	cfgBytes := cfg.marshal()
	var cfgPipe, errPipe [2]int
	if err := unix.Pipe2(cfgPipe[:], unix.O_CLOEXEC); err != nil {
		lxSend(c, lxReply{Err: err.Error(), Errno: int(err.(unix.Errno))}, nil)
		return
	}
	if err := unix.Pipe2(errPipe[:], unix.O_CLOEXEC); err != nil {
		unix.Close(cfgPipe[0])
		unix.Close(cfgPipe[1])
		lxSend(c, lxReply{Err: err.Error(), Errno: int(err.(unix.Errno))}, nil)
		return
	}
	attr := &syscall.ProcAttr{
		Dir:   "/",
		Env:   []string{"GOMAXPROCS=1", "GOGC=off"},
		Files: []uintptr{uintptr(stdio[0]), uintptr(stdio[1]), uintptr(stdio[2]), uintptr(cfgPipe[0]), uintptr(errPipe[1])},
		Sys: &syscall.SysProcAttr{
			Setsid:  req.Setsid || req.Setctty,
			Setctty: req.Setctty,
			Ctty:    0,
			// A cgroup namespace rooted at the cell's cgroup: a cell that
			// may mount (LOW) sees only its own subtree of cgroup2 and
			// cannot move into another cell's cgroup (and its ports).
			Cloneflags: unix.CLONE_NEWCGROUP,
		},
	}
	// Why: the stage's first act is reading its configuration; written
	// before the fork (as much as the pipe takes without blocking), it
	// is there at once instead of after this thread is scheduled again.
	sent := 0
	if unix.SetNonblock(cfgPipe[1], true) == nil {
		if n, err := unix.Write(cfgPipe[1], cfgBytes); err == nil {
			sent = n
		}
		unix.SetNonblock(cfgPipe[1], false)
	}
	h.mu.Lock()
	if h.dying {
		h.mu.Unlock()
		unix.Close(cfgPipe[0])
		unix.Close(cfgPipe[1])
		unix.Close(errPipe[0])
		unix.Close(errPipe[1])
		lxSend(c, lxReply{Err: "cell is being destroyed", Errno: int(unix.ENOENT)}, nil)
		return
	}
	// /proc/self/exe is the holder's binary on the sealed read-only mount.
	pid, err := syscall.ForkExec("/proc/self/exe", []string{InitArg0, "exec"}, attr)
	var done chan unix.WaitStatus
	pidfd := -1
	if err == nil {
		done = make(chan unix.WaitStatus, 1)
		h.waiters[pid] = done
		pidfd, _ = unix.PidfdOpen(pid, 0)
	}
	h.mu.Unlock()
	unix.Close(cfgPipe[0])
	unix.Close(errPipe[1])
	if err != nil {
		unix.Close(cfgPipe[1])
		unix.Close(errPipe[0])
		lxSend(c, lxReply{Err: "start exec stage: " + err.Error(), Errno: lxErrno(err)}, nil)
		return
	}
	defer func() {
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
	}()
	cfgW := os.NewFile(uintptr(cfgPipe[1]), "stage-config")
	cfgW.Write(cfgBytes[sent:])
	cfgW.Close()
	errR := os.NewFile(uintptr(errPipe[0]), "stage-errors")
	msg, _ := io.ReadAll(io.LimitReader(errR, 64<<10))
	errR.Close()
	if len(msg) > 0 {
		// The stage failed before executing the target: report why.
		var r lxReply
		if json.Unmarshal(msg, &r) != nil || r.Err == "" {
			r = lxReply{Err: string(msg), Errno: int(unix.EIO)}
		}
		<-done
		lxSend(c, r, nil)
		return
	}
	lxReportExit(c, pid, pidfd, done)
}

// lxReportExit tells the client the started process's pid (with a pidfd
// of it when there is one), then its exit status once done delivers it.
func lxReportExit(c *net.UnixConn, pid, pidfd int, done chan unix.WaitStatus) {
	var fds []int
	if pidfd >= 0 {
		fds = []int{pidfd}
	}
	if lxSend(c, lxReply{Pid: pid}, fds) != nil {
		return
	}
	ws := <-done
	r := lxReply{Exited: true}
	if ws.Signaled() {
		r.Signal = int(ws.Signal())
	} else {
		r.Code = ws.ExitStatus()
	}
	lxSend(c, r, nil)
}

func lxErrno(err error) int {
	if e, ok := err.(unix.Errno); ok {
		return int(e)
	}
	return int(unix.EIO)
}

// warmUp does the first-use work of the request paths once, right after
// the holder reported ready: encoding/json builds its codec for a type on
// first use, which for the protocol's types took about half a millisecond
// of the first stats and exec requests (a cell is usually used at once
// after its creation, while the creating process exits and the next one
// starts). The garbage goes with the first trim.
func (h *lxHolder) warmUp() {
	var req lxRequest
	json.Unmarshal([]byte(`{"op":"exec","exec":{"argv":["/bin/true"],"env":["A=B"],"dir":"/",`+
		`"cred":{"UID":0,"GID":0,"Groups":[0]},"stdio":[true,false,false]}}`), &req)
	cell := h.snapshot()
	json.Marshal(lxReply{Cell: &cell})
	json.Marshal(lxReply{Pid: 1, Exited: true, Code: 1})
}
