package kernel

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// fakeDefaultPath is the PATH of a nil ExecSpec.Env.
const fakeDefaultPath = "/usr/bin:/bin:/usr/sbin:/sbin"

// Exec starts spec.Argv on the host, without any isolation, in the cell
// root (joined with spec.Dir when that directory exists), and records the
// pid as a member of the cell so Destroy is busy while it runs.
func (d *fakeDriver) Exec(id uint32, spec ExecSpec) (Process, error) {
	if len(spec.Argv) == 0 || spec.Argv[0] == "" {
		return nil, newKerr(ErrInvalid, syscall.EINVAL, "exec in cell %d: empty command", id)
	}
	var p *fakeProcess
	err := d.withState(true, func(st *fakeState) error {
		c := st.find(id)
		if c == nil {
			return newKerr(ErrNotExist, syscall.ENOENT, "exec in cell %d: no such cell", id)
		}
		c.prune()
		cmd, err := fakeCommand(c, spec)
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("fake kernel: exec in cell %d: %w", id, err)
		}
		pid := cmd.Process.Pid
		if !spec.NoRlimits {
			// Best effort: the fake has no pre-exec hook, so the limits land
			// right after the child started (Linux prlimit; elsewhere none).
			applyFakeRlimits(pid, c.Rlimits)
		}
		m := fakeMember{Pid: pid}
		if ps, ok := readProcStat(pid); ok {
			m.Start = ps.start
		}
		c.Members = append(c.Members, m)
		p = &fakeProcess{d: d, id: id, cmd: cmd}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (st *fakeState) find(id uint32) *fakeCell {
	for i := range st.Cells {
		if st.Cells[i].ID == id {
			return &st.Cells[i]
		}
	}
	return nil
}

// fakeCommand builds the host command for spec in cell c.
func fakeCommand(c *fakeCell, spec ExecSpec) (*exec.Cmd, error) {
	env := spec.Env
	if env == nil {
		env = []string{"PATH=" + fakeDefaultPath, "HOME=/"}
	}
	dir := c.AbsRoot
	if spec.Dir != "" {
		if fi, err := os.Stat(filepath.Join(c.AbsRoot, spec.Dir)); err == nil && fi.IsDir() {
			dir = filepath.Join(c.AbsRoot, spec.Dir)
		}
	}
	prog := spec.Argv[0]
	if spec.Path != "" {
		prog = spec.Path
	}
	path, err := fakeLookPath(prog, env)
	if err != nil {
		return nil, fmt.Errorf("fake kernel: exec in cell %d: %w", c.ID, err)
	}
	cmd := &exec.Cmd{Path: path, Args: spec.Argv, Env: env, Dir: dir}
	attr := childStdio(cmd, spec)
	if spec.Cred != nil && os.Geteuid() == 0 {
		attr.Credential = &syscall.Credential{Uid: spec.Cred.UID, Gid: spec.Cred.GID, Groups: spec.Cred.Groups}
	}
	cmd.SysProcAttr = attr
	return cmd, nil
}

// fakeLookPath resolves argv0 on the host with the PATH of env (not of this
// process), as the cell's exec would inside the cell.
func fakeLookPath(argv0 string, env []string) (string, error) {
	if strings.Contains(argv0, "/") {
		return argv0, nil
	}
	pathVar := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	if pathVar == "" {
		pathVar = fakeDefaultPath
	}
	for _, dir := range filepath.SplitList(pathVar) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, argv0)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &exec.Error{Name: argv0, Err: exec.ErrNotFound}
}

// fakeProcess is a member started by the fake's Exec.
type fakeProcess struct {
	d    *fakeDriver
	id   uint32
	cmd  *exec.Cmd
	once sync.Once
	st   ExitStatus
	err  error
}

func (p *fakeProcess) Pid() int { return p.cmd.Process.Pid }

func (p *fakeProcess) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait waits for the process and forgets it as a member (its pid may be
// recycled once reaped).
func (p *fakeProcess) Wait() (ExitStatus, error) {
	p.once.Do(func() {
		err := p.cmd.Wait()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			p.err = fmt.Errorf("fake kernel: wait for pid %d: %w", p.Pid(), err)
		}
		if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
			if ws.Signaled() {
				p.st = ExitStatus{Signal: int(ws.Signal())}
			} else {
				p.st = ExitStatus{Code: ws.ExitStatus()}
			}
		}
		pid := p.Pid()
		_ = p.d.withState(true, func(st *fakeState) error {
			if c := st.find(p.id); c != nil {
				kept := c.Members[:0]
				for _, m := range c.Members {
					if m.Pid != pid {
						kept = append(kept, m)
					}
				}
				c.Members = kept
			}
			return nil
		})
	})
	return p.st, p.err
}
