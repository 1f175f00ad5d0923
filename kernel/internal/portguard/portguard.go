// Package portguard reserves TCP/UDP ports for Linux cells.
//
// A reserved port may only be bound by processes of the cell that owns it.
// The guard is a cgroup/bind4 and a cgroup/bind6 BPF program attached at the
// root of the cgroup v2 hierarchy. Both programs look the port being bound
// up in a BPF hash map (port → owner cgroup id) and compare the owner with
// bpf_get_current_cgroup_id(): a port that is not in the map may be bound by
// anyone; a reserved port only by a process whose cgroup v2 id equals the
// owner's (the bind fails with EPERM otherwise).
//
// Matching is exact: a process in a child cgroup of the owner does not own
// the port. The cell driver puts all of a cell's processes directly into the
// cell's own cgroup; a driver that nests cgroups must reserve the ports for
// the leaf that runs the workload.
//
// Only bind(2) is guarded. A socket that is implicitly bound by connect(2)
// or listen(2) without bind gets an ephemeral port chosen by the kernel; keep
// reserved ports out of net.ipv4.ip_local_port_range (or list them in
// net.ipv4.ip_local_reserved_ports) so that cannot happen.
//
// The programs and the map outlive the process that loaded them: the map and
// the two bpf_links are pinned in bpffs (by default under /sys/fs/bpf/cells,
// bpffs is mounted at /sys/fs/bpf when it is not already), so a short-lived
// cellctl can reserve ports and a later one can release them. When the last
// reservation is released, the links are detached and every pin is removed,
// so no BPF program of ours stays on the machine. All state changes are
// serialised with an flock on a file under /run/cells, so concurrent cellctl
// invocations are safe.
package portguard

import "errors"

// Sentinel errors callers test with errors.Is.
var (
	// ErrPortReserved means a port is already reserved by another cgroup.
	// The Linux cell driver maps it to kernel.ErrExist.
	ErrPortReserved = errors.New("port already reserved")
	// ErrNotSupported means the system lacks cgroup v2 or cgroup-BPF
	// bind hooks (or is not Linux at all).
	ErrNotSupported = errors.New("reserved ports not supported on this system")
	// ErrInvalid means an invalid argument (cgroup id 0, port 0).
	ErrInvalid = errors.New("invalid argument")
)

// Default locations of the guard's state.
const (
	// DefaultPinDir is the bpffs directory holding the pinned map and links.
	DefaultPinDir = "/sys/fs/bpf/cells"
	// DefaultLockFile serialises every guard on the machine.
	DefaultLockFile = "/run/cells/portguard.lock"
)

// Config locates a guard's state. The zero value uses the defaults; tests
// use a private PinDir so they never touch the production reservations.
type Config struct {
	// PinDir is a directory inside a bpffs mount; DefaultPinDir if empty.
	PinDir string
	// LockFile is the flock file; DefaultLockFile if empty.
	LockFile string
	// CgroupRoot is the cgroup v2 mount point the programs are attached
	// to; detected (/sys/fs/cgroup or /sys/fs/cgroup/unified) if empty.
	CgroupRoot string
}

// Guard is one set of reservations: a pinned map and the programs that
// enforce it. Its methods are safe for concurrent use by several processes.
type Guard struct {
	cfg Config
}

// New returns a guard for cfg, filling in defaults. It touches nothing.
func New(cfg Config) *Guard {
	if cfg.PinDir == "" {
		cfg.PinDir = DefaultPinDir
	}
	if cfg.LockFile == "" {
		cfg.LockFile = DefaultLockFile
	}
	return &Guard{cfg: cfg}
}

// PinDir returns the bpffs directory of the guard's pins.
func (g *Guard) PinDir() string { return g.cfg.PinDir }

// std is the machine-wide guard used by the package-level functions.
var std = New(Config{})

// Reserve reserves ports for the cgroup v2 whose id is cgroupID (the inode
// number of its directory). It is all or nothing: if any port is reserved by
// another cgroup, it fails with an error wrapping ErrPortReserved and changes
// nothing. Ports the cgroup already owns stay reserved; an empty list is a
// no-op.
func Reserve(cgroupID uint64, ports []uint16) error { return std.Reserve(cgroupID, ports) }

// Release removes every reservation of cgroupID. Releasing a cgroup that owns
// nothing is not an error. When no reservation remains, the programs are
// detached and every pin is removed.
func Release(cgroupID uint64) error { return std.Release(cgroupID) }

// Owner reports the cgroup id that reserved port, and whether it is reserved.
func Owner(port uint16) (uint64, bool, error) { return std.Owner(port) }

// Ports returns every reservation, port → owner cgroup id.
func Ports() (map[uint16]uint64, error) { return std.Ports() }

// Supported returns nil when cgroup v2 and the cgroup-BPF bind hooks are
// usable, else an error wrapping ErrNotSupported that says what is missing.
func Supported() error { return std.Supported() }
