package kernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The fake driver keeps every cell in one JSON file under Options.StateDir.
// It enforces the documented kernel semantics (secmodel_cell's create
// validation, EEXIST/EBUSY/ENOENT, ids never reused) but isolates nothing:
// Exec runs the command on the host in the cell root. Tests and unprivileged
// previews select it with CELLS_DRIVER=fake.
const (
	// FakeStateFile is the fake driver's state, inside Options.StateDir.
	FakeStateFile = "fake.json"
	// FakeNowEnv, when set to decimal Unix seconds, is the fake driver's
	// clock (creation times and ages). Test-only: it makes ages
	// deterministic in golden files.
	FakeNowEnv = "CELLS_FAKE_NOW"
)

// fakeState is the content of fake.json.
type fakeState struct {
	// LastID is the last id handed out; ids are never reused.
	LastID uint32     `json:"last_id"`
	Cells  []fakeCell `json:"cells"`
}

type fakeCell struct {
	ID         uint32       `json:"id"`
	Name       string       `json:"name"`
	Root       string       `json:"root"`     // as given to Create
	AbsRoot    string       `json:"abs_root"` // resolved at create time, like the kernel's vnode
	Profile    Profile      `json:"profile"`
	ProfileSet bool         `json:"profile_set"`
	Ports      []uint16     `json:"ports,omitempty"`
	Rlimits    Rlimits      `json:"rlimits"`
	CreatedNS  int64        `json:"created_ns"` // wall clock, Unix nanoseconds
	Members    []fakeMember `json:"members,omitempty"`
}

// fakeMember is a process started by Exec. Start is the process start time
// from /proc/<pid>/stat when readable, so a recycled pid is not mistaken for
// the member.
type fakeMember struct {
	Pid   int    `json:"pid"`
	Start uint64 `json:"start,omitempty"`
}

type fakeDriver struct {
	dir string
}

// OpenFake opens the file-backed fake driver kept under opts.StateDir
// (created when missing).
func OpenFake(opts Options) (Driver, error) {
	if opts.StateDir == "" {
		return nil, fmt.Errorf("fake kernel: open: empty state directory: %w", ErrInvalid)
	}
	if err := os.MkdirAll(opts.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("fake kernel: open: %w", err)
	}
	return &fakeDriver{dir: opts.StateDir}, nil
}

func (d *fakeDriver) Name() string { return "fake" }

func (d *fakeDriver) Close() error { return nil }

func newKerr(sentinel error, errno syscall.Errno, format string, args ...any) error {
	return errnof("fake kernel: ", sentinel, errno, format, args...)
}

// fakeNow is the fake's clock: CELLS_FAKE_NOW or the wall clock.
func fakeNow() int64 {
	if v := os.Getenv(FakeNowEnv); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil {
			return s * int64(time.Second)
		}
	}
	return time.Now().UnixNano()
}

// withState runs fn on the state under an flock on fake.json.lock (shared
// when !write). The lock file is separate because fake.json is replaced by
// rename, which would leave a lock on the old inode. A write stores the
// state atomically: temp file, fsync, rename.
func (d *fakeDriver) withState(write bool, fn func(st *fakeState) error) error {
	lf, err := os.OpenFile(filepath.Join(d.dir, FakeStateFile+".lock"), os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("fake kernel: lock state: %w", err)
	}
	defer lf.Close()
	how := unix.LOCK_SH
	if write {
		how = unix.LOCK_EX
	}
	for {
		err = unix.Flock(int(lf.Fd()), how)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("fake kernel: lock state: %w", err)
	}
	// Closing the file releases the lock.
	st, err := d.load()
	if err != nil {
		return err
	}
	if err := fn(st); err != nil {
		return err
	}
	if !write {
		return nil
	}
	return d.store(st)
}

func (d *fakeDriver) load() (*fakeState, error) {
	st := &fakeState{}
	b, err := os.ReadFile(filepath.Join(d.dir, FakeStateFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fake kernel: read state: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("fake kernel: read state %s: %w", filepath.Join(d.dir, FakeStateFile), err)
	}
	return st, nil
}

func (d *fakeDriver) store(st *fakeState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("fake kernel: write state: %w", err)
	}
	b = append(b, '\n')
	f, err := os.CreateTemp(d.dir, FakeStateFile+".tmp*")
	if err != nil {
		return fmt.Errorf("fake kernel: write state: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(d.dir, FakeStateFile))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("fake kernel: write state: %w", err)
	}
	return nil
}

// Create validates spec as secmodel_cell does and records the cell.
func (d *fakeDriver) Create(spec CreateSpec) (uint32, error) {
	if !ValidName(spec.Name) {
		return 0, newKerr(ErrInvalid, syscall.EINVAL, "create cell %q: invalid name", spec.Name)
	}
	if spec.Root == "" || len(spec.Root) > RootMax {
		return 0, newKerr(ErrInvalid, syscall.EINVAL, "create cell %s: invalid root length %d", spec.Name, len(spec.Root))
	}
	for i := 0; i < len(spec.Root); i++ {
		if c := spec.Root[i]; c < 0x20 || c == 0x7f {
			return 0, newKerr(ErrInvalid, syscall.EINVAL, "create cell %s: control character in root", spec.Name)
		}
	}
	if spec.ProfileSet && spec.Profile > ProfileHigh {
		return 0, newKerr(ErrInvalid, syscall.EINVAL, "create cell %s: invalid profile %d", spec.Name, uint32(spec.Profile))
	}
	if len(spec.Ports) > PortsMax {
		return 0, newKerr(ErrInvalid, syscall.EINVAL, "create cell %s: %d reserved ports (max %d)", spec.Name, len(spec.Ports), PortsMax)
	}
	seen := map[uint16]bool{}
	for _, p := range spec.Ports {
		if p == 0 || seen[p] {
			return 0, newKerr(ErrInvalid, syscall.EINVAL, "create cell %s: invalid or duplicate reserved port %d", spec.Name, p)
		}
		seen[p] = true
	}
	abs, err := filepath.Abs(spec.Root)
	if err != nil {
		return 0, fmt.Errorf("fake kernel: create cell %s: root: %w", spec.Name, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case err != nil:
		errno := syscall.ENOENT
		var en syscall.Errno
		if errors.As(err, &en) {
			errno = en
		}
		return 0, newKerr(ErrInvalid, errno, "create cell %s: root %s: %v", spec.Name, spec.Root, errno)
	case !fi.IsDir():
		return 0, newKerr(ErrInvalid, syscall.ENOTDIR, "create cell %s: root %s: not a directory", spec.Name, spec.Root)
	}

	var id uint32
	err = d.withState(true, func(st *fakeState) error {
		for _, c := range st.Cells {
			if c.Name == spec.Name {
				return newKerr(ErrExist, syscall.EEXIST, "create cell %s: name exists (cell %d)", spec.Name, c.ID)
			}
			for _, p := range c.Ports {
				if seen[p] {
					return newKerr(ErrExist, syscall.EEXIST, "create cell %s: port %d reserved by cell %d", spec.Name, p, c.ID)
				}
			}
		}
		if st.LastID == math.MaxUint32 {
			return newKerr(ErrInvalid, syscall.EOVERFLOW, "create cell %s: cell ids exhausted", spec.Name)
		}
		st.LastID++
		id = st.LastID
		st.Cells = append(st.Cells, fakeCell{
			ID: id, Name: spec.Name, Root: spec.Root, AbsRoot: abs,
			Profile: profileOrHigh(spec), ProfileSet: spec.ProfileSet,
			Ports: append([]uint16(nil), spec.Ports...), Rlimits: spec.Rlimits,
			CreatedNS: fakeNow(),
		})
		return nil
	})
	return id, err
}

func profileOrHigh(spec CreateSpec) Profile {
	if spec.ProfileSet {
		return spec.Profile
	}
	return ProfileHigh
}

// Destroy removes a cell unless a recorded member is still alive.
func (d *fakeDriver) Destroy(id uint32) error {
	if id == HostID {
		return newKerr(ErrInvalid, syscall.EINVAL, "destroy cell 0: the host cell")
	}
	return d.withState(true, func(st *fakeState) error {
		for i, c := range st.Cells {
			if c.ID != id {
				continue
			}
			_, refs, _ := c.members()
			if refs > 0 {
				return newKerr(ErrBusy, syscall.EBUSY, "destroy cell %d: %d member processes remain", id, refs)
			}
			st.Cells = append(st.Cells[:i], st.Cells[i+1:]...)
			return nil
		}
		return newKerr(ErrNotExist, syscall.ENOENT, "destroy cell %d: no such cell", id)
	})
}

// List returns the cells ordered by id with live member counts.
func (d *fakeDriver) List() ([]Cell, error) {
	var out []Cell
	err := d.withState(false, func(st *fakeState) error {
		now := fakeNow()
		for _, c := range st.Cells {
			procs, refs, mem := c.members()
			age := uint64(0)
			if now > c.CreatedNS {
				age = uint64((now - c.CreatedNS) / int64(time.Second))
			}
			out = append(out, Cell{
				ID: c.ID, Name: c.Name, Root: c.Root,
				Profile: c.Profile, ProfileSet: c.ProfileSet,
				Ports: append([]uint16(nil), c.Ports...),
				Refs:  refs, Procs: procs, Memory: mem, Age: age,
				Rlimits: c.Rlimits,
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortCells(out)
	return out, nil
}

func sortCells(cs []Cell) {
	// Insertion sort: the list is short and nearly always sorted already.
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].ID < cs[j-1].ID; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// members counts the recorded members still present: procs are running,
// refs include zombies (as ci_refcount); mem sums their virtual sizes when
// /proc tells them.
func (c *fakeCell) members() (procs, refs, mem uint64) {
	for _, m := range c.Members {
		st, ok := probeMember(m)
		if !ok {
			continue
		}
		refs++
		if !st.zombie {
			procs++
			mem += st.vsize
		}
	}
	return procs, refs, mem
}

// prune drops members that are gone.
func (c *fakeCell) prune() {
	kept := c.Members[:0]
	for _, m := range c.Members {
		if _, ok := probeMember(m); ok {
			kept = append(kept, m)
		}
	}
	c.Members = kept
}

type procStat struct {
	zombie bool
	start  uint64
	vsize  uint64
}

// probeMember reports whether the member process still exists (zombies
// included), and what /proc/<pid>/stat says about it when readable.
func probeMember(m fakeMember) (procStat, bool) {
	// kill(pid, 0) checks existence without signalling; EPERM means the pid
	// exists but belongs to someone else.
	if err := unix.Kill(m.Pid, 0); err != nil && err != unix.EPERM {
		return procStat{}, false
	}
	st, ok := readProcStat(m.Pid)
	if !ok {
		return procStat{}, true
	}
	if m.Start != 0 && st.start != m.Start {
		return procStat{}, false // the pid was recycled
	}
	return st, true
}

// readProcStat parses /proc/<pid>/stat (Linux layout; NetBSD's procfs
// offers it with -o linux). Fields after the parenthesised command name:
// state is field 3, starttime 22, vsize 23.
func readProcStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return procStat{}, false
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 21 {
		return procStat{}, false
	}
	var st procStat
	st.zombie = f[0] == "Z" || f[0] == "X"
	st.start, _ = strconv.ParseUint(f[19], 10, 64)
	st.vsize, _ = strconv.ParseUint(f[20], 10, 64)
	return st, true
}
