// Package kernel is the bridge between Cells and the kernel that enforces a
// cell's policy: the upstream secmodel_cell module on NetBSD (reached through
// its sysctl ABI), namespaces, capabilities, seccomp and cgroup-BPF on Linux,
// and a file-backed fake for tests. It imports nothing else of this project.
package kernel

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Limits of the upstream ABI (sys/sys/cell.h).
const (
	NameMax        = 63         // CELL_NAME_MAX
	RootMax        = 255        // CELL_ROOT_MAX
	PortsMax       = 32         // CELL_PORTS_MAX
	HostID         = 0          // CELLID_HOST
	RlimitInfinity = ^uint64(0) // CELL_RLIMIT_INFINITY
)

// Sentinel errors callers test with errors.Is.
var (
	ErrNotExist     = errors.New("cell not found")
	ErrExist        = errors.New("already exists")
	ErrBusy         = errors.New("device busy")
	ErrPermission   = errors.New("operation not permitted")
	ErrInvalid      = errors.New("invalid argument")
	ErrNotSupported = errors.New("not supported on this system")
)

// Profile is a cell's policy profile (CELL_PROFILE_*).
type Profile uint32

// The three upstream profiles.
const (
	ProfileLow    Profile = 0
	ProfileMedium Profile = 1
	ProfileHigh   Profile = 2
)

// String returns the profile's name as cellctl spells it.
func (p Profile) String() string {
	switch p {
	case ProfileLow:
		return "low"
	case ProfileMedium:
		return "medium"
	case ProfileHigh:
		return "high"
	}
	return fmt.Sprintf("profile(%d)", uint32(p))
}

// ParseProfile parses low|medium|high.
func ParseProfile(s string) (Profile, error) {
	switch s {
	case "low":
		return ProfileLow, nil
	case "medium":
		return ProfileMedium, nil
	case "high":
		return ProfileHigh, nil
	}
	return 0, fmt.Errorf("invalid profile '%s' (expected low|medium|high): %w", s, ErrInvalid)
}

// Rlimit is an optional resource limit. Set false means "not configured",
// which cellctl prints as unlimited; Value RlimitInfinity is an explicit
// unlimited.
type Rlimit struct {
	Set   bool
	Value uint64
}

// String prints the limit as cellctl does: a decimal or "unlimited".
func (r Rlimit) String() string {
	if !r.Set || r.Value == RlimitInfinity {
		return "unlimited"
	}
	return fmt.Sprint(r.Value)
}

// Rlimits are the three limits a cell carries (applied by exec/supervise).
type Rlimits struct {
	Nofile Rlimit
	AS     Rlimit
	Core   Rlimit
}

// CreateSpec describes a cell to create.
type CreateSpec struct {
	Name       string
	Root       string // absolute path of an existing directory
	Profile    Profile
	ProfileSet bool // false: the kernel default (high)
	Ports      []uint16
	Rlimits    Rlimits
}

// Cell is one active cell with its counters, as `cellctl list|stats` shows it.
type Cell struct {
	ID         uint32
	Name       string
	Root       string
	Profile    Profile
	ProfileSet bool
	Ports      []uint16
	Refs       uint64 // member processes plus zombies
	Procs      uint64 // live member processes
	CPU1s      uint64 // CPU ticks consumed over the last second
	CPU10s     uint64 // integer mean of the last <=10 one-second deltas
	Memory     uint64 // summed virtual size of the members, bytes
	Age        uint64 // seconds since creation
	Rlimits    Rlimits
}

// Cred is the identity a process takes inside a cell.
type Cred struct {
	UID    uint32
	GID    uint32
	Groups []uint32
}

// ExecSpec describes a process to start inside a cell.
type ExecSpec struct {
	Argv []string // Argv[0] is looked up in the cell's PATH when not absolute
	// Path, when set, is the program to execute (looked up like Argv[0]);
	// Argv[0] is then only the name the program sees, e.g. "-sh" for a
	// login shell.
	Path string
	Env  []string // the complete environment; nil means a minimal default
	Dir  string   // working directory inside the cell; "" means "/"
	Cred *Cred    // nil: keep root

	// Stdio of the child; nil means /dev/null.
	Stdin  *os.File
	Stdout *os.File
	Stderr *os.File

	Setsid  bool // new session and process group (supervise)
	Setctty bool // make Stdin the controlling terminal (interactive shells)
	// NoRlimits skips the cell's create-time rlimits (they apply by default).
	NoRlimits bool
}

// ExitStatus is how a process ended.
type ExitStatus struct {
	Code   int // exit code when Signal == 0
	Signal int // terminating signal, 0 if it exited
}

// Success reports a zero exit code without a signal.
func (s ExitStatus) Success() bool { return s.Code == 0 && s.Signal == 0 }

// Process is a process started in a cell.
type Process interface {
	Pid() int // pid as the host sees it
	Wait() (ExitStatus, error)
	Signal(sig os.Signal) error
}

// Driver is the kernel bridge. Implementations are safe for use by one
// goroutine at a time; every call reads the kernel afresh.
type Driver interface {
	// Name identifies the driver ("linux", "netbsd", "fake").
	Name() string
	// Create creates a cell and returns its id (ids are never reused).
	Create(spec CreateSpec) (uint32, error)
	// Destroy removes a cell; ErrBusy while any member process remains,
	// ErrNotExist for an unknown id.
	Destroy(id uint32) error
	// List returns every active cell with its counters, ordered by id.
	List() ([]Cell, error)
	// Exec starts a process inside the cell.
	Exec(id uint32, spec ExecSpec) (Process, error)
	// Close releases driver resources (not the cells).
	Close() error
}

// Directory is implemented by drivers that can name their active cells
// more cheaply than List, which also gathers every cell's counters: what
// resolving a <cell-id|name> argument needs.
type Directory interface {
	// Cells returns the active cells, ordered by id, with ID, Name, Root,
	// Profile, Ports and Rlimits set and the counters zero.
	Cells() ([]Cell, error)
}

// Options configures Open.
type Options struct {
	// StateDir is where a driver keeps its persistent state (id counter,
	// fake cells, per-cell bookkeeping). It lives under the prefix.
	StateDir string
	// Log receives diagnostics; nil discards them.
	Log io.Writer
}

// Open returns the driver for this system. The environment variable
// CELLS_DRIVER=fake selects the file-backed fake driver (tests, previews).
func Open(opts Options) (Driver, error) {
	if os.Getenv("CELLS_DRIVER") == "fake" {
		return OpenFake(opts)
	}
	return openNative(opts)
}

// InitArg0 is the argv[0] under which a Cells binary re-executes itself as
// the driver's helper (the in-cell holder on Linux, the enter helper on
// NetBSD), runc's "init" pattern.
const InitArg0 = "cells-init"

// MaybeInit runs the driver helper and exits when the process was started as
// one (argv[0] is InitArg0); otherwise it returns at once. Every main calls
// it first.
func MaybeInit() {
	if len(os.Args) > 0 && filepath.Base(os.Args[0]) == InitArg0 {
		os.Exit(InitMain())
	}
}
