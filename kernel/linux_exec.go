//go:build linux

package kernel

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Exec asks the cell's holder to start spec inside the cell. It returns
// once the target was executed (or failed to be: not found, not
// executable, bad credentials), like os/exec's Start.
func (d *lxDriver) Exec(id uint32, spec ExecSpec) (Process, error) {
	if len(spec.Argv) == 0 || spec.Argv[0] == "" {
		return nil, lxErrorf(ErrInvalid, unix.EINVAL, "exec in cell %d: empty command", id)
	}
	if d.readOnly {
		return nil, lxErrorf(ErrPermission, unix.EPERM, "exec in cell %d: cells need root", id)
	}
	c, err := d.dial(id)
	if err != nil {
		return nil, lxErrorf(ErrNotExist, unix.ENOENT, "exec in cell %d: no such cell", id)
	}
	req := &lxExecReq{
		Argv: spec.Argv, Path: spec.Path, Env: spec.Env, Dir: spec.Dir, Cred: spec.Cred,
		Setsid: spec.Setsid, Setctty: spec.Setctty, NoRlimits: spec.NoRlimits,
	}
	var fds []int
	for i, f := range []*os.File{spec.Stdin, spec.Stdout, spec.Stderr} {
		if f != nil {
			req.Stdio[i] = true
			fds = append(fds, int(f.Fd()))
		}
	}
	if err := lxSend(c, lxRequest{Op: "exec", Exec: req}, fds); err != nil {
		c.Close()
		return nil, fmt.Errorf("linux kernel: exec in cell %d: %w", id, err)
	}
	var r lxReply
	files, err := lxRecv(c, &r, lxMaxReply)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("linux kernel: exec in cell %d: %w", id, err)
	}
	if r.Err != "" {
		c.Close()
		for _, f := range files {
			f.Close()
		}
		errno := unix.Errno(r.Errno)
		sentinel := ErrInvalid
		switch errno {
		case unix.ENOENT:
			sentinel = os.ErrNotExist
		case unix.EACCES, unix.EPERM:
			sentinel = ErrPermission
		}
		return nil, lxErrorf(sentinel, errno, "exec in cell %d: %s", id, r.Err)
	}
	p := &lxProcess{conn: c, pidfd: -1}
	if len(files) > 0 {
		p.pidfile = files[0]
		p.pidfd = int(files[0].Fd())
		p.pid = lxPidfdPid(p.pidfd)
		for _, f := range files[1:] {
			f.Close()
		}
	}
	return p, nil
}

// lxPidfdPid reads the pid a pidfd refers to, as this process's PID
// namespace numbers it (the holder sent the pidfd from inside the cell).
func lxPidfdPid(pidfd int) int {
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(pidfd))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// lxProcess is a process started in a cell; its status arrives on the
// connection that started it.
type lxProcess struct {
	conn    *net.UnixConn
	pidfile *os.File
	pidfd   int
	pid     int

	once   sync.Once
	status ExitStatus
	err    error
}

func (p *lxProcess) Pid() int { return p.pid }

// Wait waits for the process to end and returns how it ended.
func (p *lxProcess) Wait() (ExitStatus, error) {
	p.once.Do(func() {
		var r lxReply
		_, err := lxRecv(p.conn, &r, lxMaxReply)
		switch {
		case err != nil:
			p.err = fmt.Errorf("linux kernel: wait for pid %d: %w", p.pid, err)
		case !r.Exited:
			p.err = fmt.Errorf("linux kernel: wait for pid %d: unexpected reply", p.pid)
		default:
			p.status = ExitStatus{Code: r.Code, Signal: r.Signal}
		}
		p.conn.Close()
		if p.pidfile != nil {
			p.pidfile.Close()
			p.pidfd = -1
		}
	})
	return p.status, p.err
}

// Signal sends sig through the pidfd: race-free, it cannot hit a reused pid.
func (p *lxProcess) Signal(sig os.Signal) error {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return fmt.Errorf("linux kernel: signal pid %d: unsupported signal %v", p.pid, sig)
	}
	if p.pidfd < 0 {
		return os.ErrProcessDone
	}
	err := unix.PidfdSendSignal(p.pidfd, s, nil, 0)
	if errors.Is(err, unix.ESRCH) {
		return os.ErrProcessDone
	}
	if err != nil {
		return fmt.Errorf("linux kernel: signal pid %d: %w", p.pid, err)
	}
	return nil
}
