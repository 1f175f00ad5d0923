package kernel

// This file has no build tag on purpose: the NetBSD driver is the portable
// cellabi core plus this adapter, compiled and tested on every host against
// cellabi.FakeKernel. Only the raw syscalls live in *_netbsd files
// (native_netbsd.go, netbsd_sysctl.go, netbsd_initsys.go).

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"cells/kernel/cellabi"
)

// netbsdDriver drives the upstream secmodel_cell module through its sysctl
// ABI. Create, Destroy and List are sysctl calls of this process; Exec
// re-executes this binary as the enter helper (InitArg0), because entering
// changes the credentials of the whole process.
type netbsdDriver struct {
	abi   cellabi.Driver
	now   func() uint64 // CLOCK_MONOTONIC, nanoseconds
	exe   string        // this binary, started as the helper
	start func(cmd *exec.Cmd, req *cellabi.InitRequest) error
}

func newNetbsdDriver(s cellabi.Sysctler, now func() uint64, exe string) *netbsdDriver {
	return &netbsdDriver{abi: cellabi.Driver{S: s}, now: now, exe: exe, start: cellabi.StartInit}
}

// Name identifies the driver.
func (d *netbsdDriver) Name() string { return "netbsd" }

// Close releases nothing: the driver holds no descriptors.
func (d *netbsdDriver) Close() error { return nil }

// netbsdSentinel maps the module's errnos to the driver sentinels.
func netbsdSentinel(errno syscall.Errno) error {
	switch errno {
	case syscall.EEXIST:
		return ErrExist
	case syscall.EBUSY:
		return ErrBusy
	case syscall.ENOENT:
		return ErrNotExist
	case syscall.EPERM, syscall.EACCES:
		return ErrPermission
	case syscall.EINVAL:
		return ErrInvalid
	}
	return nil
}

// netbsdWrap prefixes err with context and, when an errno is behind it,
// makes the result match its sentinel too.
func netbsdWrap(context string, err error) error {
	msg := err.Error()
	if context != "" {
		msg = context + ": " + msg
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("%s: %w", context, err)
	}
	return &errnoError{msg: msg, errno: errno, sentinel: netbsdSentinel(errno)}
}

func netbsdInvalid(format string, args ...any) error {
	return &errnoError{msg: fmt.Sprintf(format, args...), errno: syscall.EINVAL, sentinel: ErrInvalid}
}

// Create encodes spec as struct cell_create and writes it to
// security.models.cell.create; the kernel validates everything again.
func (d *netbsdDriver) Create(spec CreateSpec) (uint32, error) {
	ctx := "create cell " + spec.Name
	root := spec.Root
	if root != "" {
		// The kernel resolves cc_root against our cwd but keeps the string:
		// store the absolute path, so exec and list mean the same directory.
		abs, err := filepath.Abs(root)
		if err != nil {
			return 0, fmt.Errorf("%s: root: %w", ctx, err)
		}
		root = abs
	}
	c := &cellabi.Create{}
	if err := c.SetName(spec.Name); err != nil {
		return 0, netbsdInvalid("%s: name too long (max %d)", ctx, NameMax)
	}
	if err := c.SetRoot(root); err != nil {
		return 0, netbsdInvalid("%s: root too long (max %d)", ctx, RootMax)
	}
	if spec.ProfileSet {
		c.Flags |= cellabi.CreateProfile
		c.Profile = uint32(spec.Profile)
	}
	if len(spec.Ports) > 0 {
		if err := c.SetPorts(spec.Ports); err != nil {
			return 0, netbsdInvalid("%s: too many reserved ports (max %d)", ctx, PortsMax)
		}
		c.Flags |= cellabi.CreatePorts
	}
	for _, r := range []struct {
		lim  Rlimit
		flag uint32
		dst  *uint64
	}{
		{spec.Rlimits.Nofile, cellabi.CreateRlimitNofile, &c.RlimitNofile},
		{spec.Rlimits.AS, cellabi.CreateRlimitAS, &c.RlimitAS},
		{spec.Rlimits.Core, cellabi.CreateRlimitCore, &c.RlimitCore},
	} {
		if r.lim.Set {
			c.Flags |= r.flag
			*r.dst = r.lim.Value
		}
	}
	id, err := d.abi.Create(c)
	if err == nil {
		return id, nil
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return 0, fmt.Errorf("%s: %w", ctx, err)
	}
	switch errno {
	case syscall.EEXIST:
		// One errno for two conflicts: tell them apart by the name.
		if cells, lerr := d.abi.List(); lerr == nil {
			for _, i := range cells {
				if i.Name == spec.Name {
					return 0, netbsdWrap(fmt.Sprintf("%s: name exists (cell %d)", ctx, i.ID), errno)
				}
			}
		}
		return 0, netbsdWrap(ctx+": a reserved port is taken by another cell", errno)
	case syscall.ENOENT, syscall.ENOTDIR, syscall.EACCES, syscall.ELOOP, syscall.ENAMETOOLONG:
		// namei of cc_root failed: a bad argument, not a missing cell.
		return 0, &errnoError{msg: fmt.Sprintf("%s: root %s: %v", ctx, root, errno), errno: errno, sentinel: ErrInvalid}
	}
	return 0, netbsdWrap(ctx, err)
}

// Destroy writes id to security.models.cell.destroy.
func (d *netbsdDriver) Destroy(id uint32) error {
	if err := d.abi.Destroy(id); err != nil {
		return netbsdWrap(fmt.Sprintf("destroy cell %d", id), err)
	}
	return nil
}

// List reads security.models.cell.list. The ABI reports neither the profile
// nor the reserved ports of a cell: Profile, ProfileSet and Ports stay zero.
func (d *netbsdDriver) List() ([]Cell, error) {
	infos, err := d.abi.List()
	if err != nil {
		return nil, netbsdWrap("list cells", err)
	}
	now := d.now()
	out := make([]Cell, 0, len(infos))
	for _, i := range infos {
		out = append(out, netbsdCell(i, now))
	}
	return out, nil
}

// netbsdCell maps one cell_info; now is CLOCK_MONOTONIC in nanoseconds.
func netbsdCell(i cellabi.Info, now uint64) Cell {
	c := Cell{
		ID: i.ID, Name: i.Name, Root: i.Root,
		Refs: i.Refcount, Procs: i.ProcCurrent,
		CPU1s: i.CPUTicks1s, CPU10s: i.CPUTicks10s, Memory: i.MemoryBytes,
	}
	if now > i.CreatedNS {
		c.Age = (now - i.CreatedNS) / 1e9
	}
	c.Rlimits.Nofile = netbsdRlimit(i.CreateFlags, cellabi.CreateRlimitNofile, i.RlimitNofile)
	c.Rlimits.AS = netbsdRlimit(i.CreateFlags, cellabi.CreateRlimitAS, i.RlimitAS)
	c.Rlimits.Core = netbsdRlimit(i.CreateFlags, cellabi.CreateRlimitCore, i.RlimitCore)
	return c
}

// netbsdRlimit: unset when the create flag is clear or the value is
// CELL_RLIMIT_INFINITY (cellctl prints both as unlimited).
func netbsdRlimit(flags, flag uint32, v uint64) Rlimit {
	if flags&flag == 0 || v == cellabi.RlimitInfinity {
		return Rlimit{}
	}
	return Rlimit{Set: true, Value: v}
}

// netbsdInitRequest builds the helper's request from the cell and spec.
func netbsdInitRequest(i cellabi.Info, spec ExecSpec) *cellabi.InitRequest {
	req := &cellabi.InitRequest{
		Version: cellabi.InitRequestVersion, ID: i.ID, Root: i.Root,
		Argv: spec.Argv, Path: spec.Path, Env: spec.Env, Dir: spec.Dir,
	}
	if req.Env == nil {
		req.Env = []string{"PATH=" + cellabi.DefaultPath, "HOME=/"}
	}
	if c := spec.Cred; c != nil {
		req.Cred = &cellabi.InitCred{UID: c.UID, GID: c.GID, Groups: append([]uint32{}, c.Groups...)}
	}
	if !spec.NoRlimits {
		for _, r := range []struct {
			res  cellabi.Resource
			flag uint32
			v    uint64
		}{
			{cellabi.ResourceNofile, cellabi.CreateRlimitNofile, i.RlimitNofile},
			{cellabi.ResourceAS, cellabi.CreateRlimitAS, i.RlimitAS},
			{cellabi.ResourceCore, cellabi.CreateRlimitCore, i.RlimitCore},
		} {
			// A set limit applies, CELL_RLIMIT_INFINITY as RLIM_INFINITY.
			if i.CreateFlags&r.flag != 0 {
				req.Rlimits = append(req.Rlimits, cellabi.InitRlimit{Resource: r.res, Value: r.v})
			}
		}
	}
	return req
}

// Exec starts spec in cell id through the enter helper: rlimits, chroot,
// chdir, enter, identity, exec (see cellabi.RunInit). Errors read
// "enter cell <id>: ..." and match the sentinel of the errno behind them.
func (d *netbsdDriver) Exec(id uint32, spec ExecSpec) (Process, error) {
	ctx := fmt.Sprintf("enter cell %d", id)
	if len(spec.Argv) == 0 || (spec.Argv[0] == "" && spec.Path == "") {
		return nil, netbsdInvalid("%s: empty command", ctx)
	}
	infos, err := d.abi.List()
	if err != nil {
		return nil, netbsdWrap(ctx+": list cells", err)
	}
	var info *cellabi.Info
	for k := range infos {
		if infos[k].ID == id {
			info = &infos[k]
		}
	}
	if info == nil {
		return nil, &errnoError{msg: ctx + ": no such cell", errno: syscall.ENOENT, sentinel: ErrNotExist}
	}
	cmd := &exec.Cmd{Path: d.exe, Args: []string{InitArg0}, Env: []string{}}
	attr := childStdio(cmd, spec)
	cmd.SysProcAttr = attr
	if err := d.start(cmd, netbsdInitRequest(*info, spec)); err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return nil, &errnoError{msg: err.Error(), errno: errno, sentinel: netbsdSentinel(errno)}
		}
		return nil, err
	}
	return &netbsdProcess{cmd: cmd}, nil
}

// netbsdProcess is a command running in a cell; its pid is the helper's.
type netbsdProcess struct {
	cmd  *exec.Cmd
	done bool
	st   ExitStatus
	err  error
}

func (p *netbsdProcess) Pid() int { return p.cmd.Process.Pid }

func (p *netbsdProcess) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait reaps the process once and reports how it ended.
func (p *netbsdProcess) Wait() (ExitStatus, error) {
	if p.done {
		return p.st, p.err
	}
	p.done = true
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		p.err = fmt.Errorf("wait for pid %d: %w", p.Pid(), err)
		return p.st, p.err
	}
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		p.st = ExitStatus{Signal: int(ws.Signal())}
	} else {
		p.st = ExitStatus{Code: p.cmd.ProcessState.ExitCode()}
	}
	return p.st, nil
}
