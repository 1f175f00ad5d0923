package cellabi

import (
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"path"
	"strings"
)

// Entering a cell changes the credentials of the whole process (the kernel
// keeps the cell id in the process credential), and the kernel only lets a
// process enter after it chrooted into the cell root. A Go program cannot do
// that between fork and exec, so the parent re-executes itself as a helper
// (argv[0] "cells-init") which runs RunInit and finally execs the command:
// the helper's pid becomes the command's pid.

// Resource names a resource limit the helper sets.
type Resource string

// The three limits a cell carries.
const (
	ResourceNofile Resource = "nofile"
	ResourceAS     Resource = "as"
	ResourceCore   Resource = "core"
)

// InitRlimit is one limit to apply before entering; Value RlimitInfinity
// means RLIM_INFINITY.
type InitRlimit struct {
	Resource Resource `json:"resource"`
	Value    uint64   `json:"value"`
}

// InitCred is the identity the command runs as.
type InitCred struct {
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups"`
}

// InitRequestVersion is the version of the parent/helper protocol.
const InitRequestVersion = 1

// InitRequest is what the parent sends the helper.
type InitRequest struct {
	Version int          `json:"version"`
	ID      uint32       `json:"id"`
	Root    string       `json:"root"` // the cell root on the host, absolute
	Argv    []string     `json:"argv"`
	Path    string       `json:"path,omitempty"` // the program; "" means Argv[0] (then argv[0] may differ, e.g. "-sh")
	Env     []string     `json:"env"`
	Dir     string       `json:"dir"` // inside the cell; "" means "/"
	Cred    *InitCred    `json:"cred,omitempty"`
	Rlimits []InitRlimit `json:"rlimits,omitempty"`
}

// DefaultPath is the PATH searched when the environment has none.
const DefaultPath = "/usr/bin:/bin:/usr/sbin:/sbin"

// InitSys is the system interface of the helper: real syscalls on NetBSD,
// recording fakes in tests. Sysctl reaches security.models.cell.id.
//
// Setrlimit, Setuid and the function PrepareExec returns run after the
// address-space limit is in place and must not allocate memory: a Go
// process reserves more address space than it uses (about 1.2 GB at start
// on linux/amd64, measured), so under a smaller RLIMIT_AS any new mapping
// kills the runtime.
type InitSys interface {
	Sysctler
	// MaxFD returns the highest open descriptor number.
	MaxFD() (int, error)
	// FDFlags reports whether fd is open and whether it is close-on-exec.
	FDFlags(fd int) (open, cloexec bool)
	// CloseFD closes fd.
	CloseFD(fd int) error
	Chroot(dir string) error
	Chdir(dir string) error
	Setgroups(gids []uint32) error
	Setgid(gid uint32) error
	// Stat returns the mode of path (following symlinks).
	Stat(path string) (fs.FileMode, error)
	// PrepareExec allocates what execve(2) needs and returns the call
	// itself, which returns only on failure.
	PrepareExec(path string, argv, env []string) (exec func() error, err error)
	// Setrlimit sets cur = max = value (RlimitInfinity: unlimited).
	Setrlimit(r Resource, value uint64) error
	Setuid(uid uint32) error
}

// Validate checks a request before anything is changed.
func (r *InitRequest) Validate() error {
	switch {
	case r.Version != InitRequestVersion:
		return fmt.Errorf("request version %d, want %d", r.Version, InitRequestVersion)
	case r.ID == HostID:
		return errors.New("cell id 0 is the host")
	case !path.IsAbs(r.Root):
		return fmt.Errorf("root %q is not absolute", r.Root)
	case len(r.Argv) == 0 || r.program() == "":
		return errors.New("empty command")
	}
	for _, rl := range r.Rlimits {
		switch rl.Resource {
		case ResourceNofile, ResourceAS, ResourceCore:
		default:
			return fmt.Errorf("unknown resource limit %q", rl.Resource)
		}
	}
	return nil
}

// program is what to execute: Path, or Argv[0] when Path is empty.
func (r *InitRequest) program() string {
	if r.Path != "" {
		return r.Path
	}
	return r.Argv[0]
}

// RunInit performs the enter sequence for req and execs the command. It
// returns only on failure, with an error reading "enter cell <id>: <step>:
// <cause>". keep lists descriptors (the status pipe) the fd sweep leaves
// alone; they must be close-on-exec.
//
// The order matters and is tested:
//  1. close inherited descriptors: first, so no host file or directory is
//     open while the process is chrooted and in the cell;
//  2. chroot, then chdir: the kernel admits only a process whose root is the
//     cell root; the chdir puts the cwd inside the new root;
//  3. enter (write the id to security.models.cell.id): needs host root in
//     cell 0, so before any identity change;
//  4. setgroups, setgid: while still root;
//  5. look the command up in PATH inside the root and prepare the exec;
//  6. setrlimit (cur = max): as root, since raising a hard limit needs
//     privilege, and as late as possible, because the Go runtime cannot
//     allocate under an address-space limit smaller than its reservations;
//  7. setuid, then execve, without allocating.
func RunInit(sys InitSys, req *InitRequest, keep []int) error {
	fail := func(step string, err error) error {
		return fmt.Errorf("enter cell %d: %s: %w", req.ID, step, err)
	}
	if err := req.Validate(); err != nil {
		return fail("bad request", err)
	}
	if err := closeInherited(sys, keep); err != nil {
		return fail("close inherited descriptors", err)
	}
	if err := sys.Chroot(req.Root); err != nil {
		return fail("chroot "+req.Root, err)
	}
	dir := req.Dir
	if dir == "" {
		dir = "/"
	}
	// A relative dir is taken from the cell's "/", never from the host cwd
	// that chroot(2) leaves in place.
	dir = path.Join("/", dir)
	if err := sys.Chdir(dir); err != nil {
		return fail("chdir "+dir, err)
	}
	if err := (Driver{sys}).Enter(req.ID); err != nil {
		return fail("write "+NodeID, err)
	}
	if c := req.Cred; c != nil {
		if err := sys.Setgroups(c.Groups); err != nil {
			return fail("setgroups", err)
		}
		if err := sys.Setgid(c.GID); err != nil {
			return fail(fmt.Sprintf("setgid %d", c.GID), err)
		}
	}
	file, err := lookPath(sys, req.program(), req.Env)
	if err != nil {
		return fail("exec "+req.program(), err)
	}
	execve, err := sys.PrepareExec(file, req.Argv, req.Env)
	if err != nil {
		return fail("exec "+file, err)
	}
	switch step, err := finishInit(sys, req, execve); {
	case err == nil:
		return nil
	case step < len(req.Rlimits):
		return fail("setrlimit "+string(req.Rlimits[step].Resource), err)
	case step == len(req.Rlimits):
		return fail(fmt.Sprintf("setuid %d", req.Cred.UID), err)
	default:
		return fail("exec "+file, err)
	}
}

// finishInit is the allocation-free tail of RunInit: the limits, setuid,
// execve. On failure it returns the index of the failed step: i below
// len(req.Rlimits) for that limit, len(req.Rlimits) for setuid, one more
// for execve.
func finishInit(sys InitSys, req *InitRequest, execve func() error) (int, error) {
	for i := range req.Rlimits {
		if err := sys.Setrlimit(req.Rlimits[i].Resource, req.Rlimits[i].Value); err != nil {
			return i, err
		}
	}
	if c := req.Cred; c != nil {
		if err := sys.Setuid(c.UID); err != nil {
			return len(req.Rlimits), err
		}
	}
	return len(req.Rlimits) + 1, execve()
}

// closeInherited closes every descriptor above stderr that came through
// exec (those are exactly the ones without close-on-exec: exec closes the
// others). Close-on-exec descriptors were opened by this process itself,
// the Go runtime's poller among them; closing those under the runtime would
// break it, and exec closes them anyway.
func closeInherited(sys InitSys, keep []int) error {
	max, err := sys.MaxFD()
	if err != nil {
		return err
	}
	for fd := 3; fd <= max; fd++ {
		if contains(keep, fd) {
			continue
		}
		open, cloexec := sys.FDFlags(fd)
		if !open || cloexec {
			continue
		}
		if err := sys.CloseFD(fd); err != nil {
			return fmt.Errorf("close %d: %w", fd, err)
		}
	}
	return nil
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// lookPath resolves argv0 as execvp(3) would, in the PATH of env (the
// command's, not the helper's), inside the current root. Relative PATH
// entries are skipped: the cwd is not a trusted place to find commands.
func lookPath(sys InitSys, argv0 string, env []string) (string, error) {
	if strings.Contains(argv0, "/") {
		return argv0, nil
	}
	pathVar := DefaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	for _, dir := range strings.Split(pathVar, ":") {
		if !path.IsAbs(dir) {
			continue
		}
		p := path.Join(dir, argv0)
		if mode, err := sys.Stat(p); err == nil && mode.IsRegular() && mode&0o111 != 0 {
			return p, nil
		}
	}
	return "", &exec.Error{Name: argv0, Err: exec.ErrNotFound}
}
