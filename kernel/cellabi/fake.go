package cellabi

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"
)

// FakeCaller is the credential and process state the fake kernel checks:
// what kauth and the process's root directory vnode give the real module.
type FakeCaller struct {
	EUID uint32
	Cell uint32 // the caller's cell id; 0 is the host
	Root string // the caller's root directory (chroot), "/" on the host
}

// FakeCounters are the sampled counters of one fake cell.
type FakeCounters struct {
	Refcount    uint64
	ProcCurrent uint64
	MemoryBytes uint64
	CPUTicks1s  uint64
	CPUTicks10s uint64
}

// FakeKernel implements the documented semantics of security.models.cell.*
// (reference §8.2) in memory, as a Sysctler: the same errno for the same
// misuse. It is safe for concurrent use. Configure the exported fields
// before the first call.
type FakeKernel struct {
	// Stat reports whether path exists and is a directory, as namei(9)
	// would for cc_root; nil uses os.Stat.
	Stat func(path string) (isDir bool, err error)
	// Members counts a cell's member processes, zombies included, for
	// destroy; nil uses the Refcount of SetCounters.
	Members func(id uint32) uint64
	// Now is CLOCK_MONOTONIC in nanoseconds; nil uses the Go monotonic
	// clock since the fake's first call.
	Now func() uint64

	mu     sync.Mutex
	caller FakeCaller
	init   bool
	start  time.Time
	lastID uint32
	cells  []*fakeCell
}

type fakeCell struct {
	info    Info
	profile uint32
	ports   []uint16
}

// NewFakeKernel returns a fake with the caller set to host root in "/".
func NewFakeKernel() *FakeKernel {
	k := &FakeKernel{}
	k.setup()
	return k
}

func (k *FakeKernel) setup() {
	if !k.init {
		k.init = true
		k.caller = FakeCaller{Root: "/"}
		k.start = time.Now()
	}
}

// SetCaller changes who the next calls come from.
func (k *FakeKernel) SetCaller(c FakeCaller) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.setup()
	k.caller = c
}

// Caller returns the current caller (its Cell changes on enter).
func (k *FakeKernel) Caller() FakeCaller {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.setup()
	return k.caller
}

// SetLastID makes the next id allocated last+1 (to test the EOVERFLOW wrap).
func (k *FakeKernel) SetLastID(last uint32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.lastID = last
}

// SetCounters sets the sampled counters of an active cell.
func (k *FakeKernel) SetCounters(id uint32, c FakeCounters) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	cell := k.find(id)
	if cell == nil {
		return syscall.ENOENT
	}
	cell.info.Refcount = c.Refcount
	cell.info.ProcCurrent = c.ProcCurrent
	cell.info.MemoryBytes = c.MemoryBytes
	cell.info.CPUTicks1s = c.CPUTicks1s
	cell.info.CPUTicks10s = c.CPUTicks10s
	return nil
}

// Profile returns the stored profile and reserved ports of a cell (the ABI
// has no read path for them; tests use this).
func (k *FakeKernel) Profile(id uint32) (profile uint32, ports []uint16, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c := k.find(id)
	if c == nil {
		return 0, nil, false
	}
	return c.profile, append([]uint16(nil), c.ports...), true
}

func (k *FakeKernel) find(id uint32) *fakeCell {
	for _, c := range k.cells {
		if c.info.ID == id {
			return c
		}
	}
	return nil
}

func (k *FakeKernel) now() uint64 {
	if k.Now != nil {
		return k.Now()
	}
	return uint64(time.Since(k.start).Nanoseconds())
}

func (k *FakeKernel) stat(path string) (bool, error) {
	if k.Stat != nil {
		return k.Stat(path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return fi.IsDir(), nil
}

func (k *FakeKernel) hostRoot() bool { return k.caller.EUID == 0 && k.caller.Cell == HostID }

// Sysctl implements Sysctler with the C calling convention: old/oldlen
// receive the reply (*oldlen is the room in old on input, the length
// written or needed on output; oldlen nil means no reply wanted) and new is
// the value written (nil: a read).
func (k *FakeKernel) Sysctl(name string, old []byte, oldlen *int, new []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.setup()
	switch name {
	case NodeName:
		if new != nil {
			return syscall.EPERM
		}
		return copyOut([]byte("NetBSD Cell\x00"), old, oldlen)
	case NodeID:
		return k.sysctlID(old, oldlen, new)
	case NodeCreate:
		return k.sysctlCreate(old, oldlen, new)
	case NodeDestroy:
		return k.sysctlDestroy(old, oldlen, new)
	case NodeList:
		return k.sysctlList(old, oldlen, new)
	}
	return syscall.ENOENT
}

// copyOut copies data to old as sysctl(9) does: a nil old is a size query,
// a short buffer is ENOMEM with the needed size in *oldlen.
func copyOut(data, old []byte, oldlen *int) error {
	if oldlen == nil {
		return nil
	}
	need := len(data)
	if old == nil {
		*oldlen = need
		return nil
	}
	room := min(*oldlen, len(old))
	if room < need {
		*oldlen = need
		return syscall.ENOMEM
	}
	copy(old, data)
	*oldlen = need
	return nil
}

func (k *FakeKernel) sysctlID(old []byte, oldlen *int, new []byte) error {
	// Host root only, even for reads; a caller already in the target cell
	// gets a no-op (it is root inside, not host root).
	if k.caller.EUID != 0 {
		return syscall.EPERM
	}
	cur := make([]byte, 4)
	ByteOrder.PutUint32(cur, k.caller.Cell)
	if new == nil {
		if k.caller.Cell != HostID {
			return syscall.EPERM
		}
		return copyOut(cur, old, oldlen)
	}
	if len(new) != 4 {
		return syscall.EINVAL
	}
	target := ByteOrder.Uint32(new)
	if target == k.caller.Cell {
		return nil
	}
	if k.caller.Cell != HostID {
		return syscall.EPERM
	}
	c := k.find(target)
	if c == nil {
		return syscall.ENOENT
	}
	if filepath.Clean(k.caller.Root) != filepath.Clean(c.info.Root) {
		return syscall.EPERM
	}
	k.caller.Cell = target
	return nil
}

func (k *FakeKernel) sysctlDestroy(old []byte, oldlen *int, new []byte) error {
	if !k.hostRoot() {
		return syscall.EPERM
	}
	if len(new) != 4 {
		return syscall.EINVAL
	}
	id := ByteOrder.Uint32(new)
	if id == HostID {
		return syscall.EINVAL
	}
	for i, c := range k.cells {
		if c.info.ID != id {
			continue
		}
		members := c.info.Refcount
		if k.Members != nil {
			members = k.Members(id)
		}
		if members > 0 {
			return syscall.EBUSY
		}
		k.cells = append(k.cells[:i], k.cells[i+1:]...)
		return nil
	}
	return syscall.ENOENT
}

func (k *FakeKernel) sysctlList(old []byte, oldlen *int, new []byte) error {
	if new != nil {
		return syscall.EPERM
	}
	// Any host credential may list (unprivileged host users too).
	if k.caller.Cell != HostID {
		return syscall.EPERM
	}
	sort.Slice(k.cells, func(i, j int) bool { return k.cells[i].info.ID < k.cells[j].info.ID })
	buf := make([]byte, 0, len(k.cells)*SizeofInfo)
	for _, c := range k.cells {
		b, err := EncodeInfo(&c.info)
		if err != nil {
			return syscall.EFAULT // unreachable: create validated the strings
		}
		buf = append(buf, b...)
	}
	return copyOut(buf, old, oldlen)
}

// errnoOf maps a Stat error to the errno namei would return.
func errnoOf(err error) syscall.Errno {
	var en syscall.Errno
	switch {
	case errors.As(err, &en):
		return en
	case errors.Is(err, fs.ErrNotExist):
		return syscall.ENOENT
	case errors.Is(err, fs.ErrPermission):
		return syscall.EACCES
	}
	return syscall.EIO
}
