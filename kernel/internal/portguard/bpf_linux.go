package portguard

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The bpf(2) calls the guard needs, made directly.
//
// Why not cilium/ebpf: its packages are linked into every binary that
// imports this one (cellctl, and so each cell's holder and exec stage,
// which re-execute it), and their initialisers and size cost about 0.3 ms
// of CPU and 1.4 MB of binary per process start, five starts per cell
// life cycle. The guard needs one hash map, one fifteen-instruction
// program and two cgroup links.

// Commands, map and program types, attach types and flags of bpf(2)
// (include/uapi/linux/bpf.h).
const (
	bpfMapCreate       = 0
	bpfMapLookupElem   = 1
	bpfMapUpdateElem   = 2
	bpfMapDeleteElem   = 3
	bpfMapGetNextKey   = 4
	bpfProgLoad        = 5
	bpfObjPin          = 6
	bpfObjGet          = 7
	bpfProgGetFDByID   = 13
	bpfObjGetInfoByFD  = 15
	bpfLinkCreate      = 28
	bpfLinkDetach      = 34
	bpfMapTypeHash     = 1
	bpfProgTypeSockAdr = 18 // BPF_PROG_TYPE_CGROUP_SOCK_ADDR
	bpfNoExist         = 1  // BPF_NOEXIST
	bpfFRdonly         = 1 << 3

	attachInet4Bind uint32 = 8   // BPF_CGROUP_INET4_BIND
	attachInet6Bind uint32 = 9   // BPF_CGROUP_INET6_BIND
	errENOTSUPP            = 524 // the kernel's internal ENOTSUPP
)

// errNoKey is a lookup or iteration that found no (more) element.
var errNoKey = errors.New("key does not exist")

func bpfCall(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	// The attribute structs below have the kernel's layout only where a
	// pointer is 8 bytes.
	if unsafe.Sizeof(uintptr(0)) != 8 {
		return -1, unix.EOPNOTSUPP
	}
	r, _, e := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// bpfName is a kernel object name: at most 15 bytes and a NUL.
func bpfName(s string) (n [16]byte) {
	copy(n[:15], s)
	return n
}

// bpfMap is an open BPF map of u32 keys and u64 values.
type bpfMap struct{ fd int }

func (m *bpfMap) Close() error { return unix.Close(m.fd) }

type mapCreateAttr struct {
	mapType, keySize, valueSize, maxEntries, mapFlags, innerMapFD, numaNode uint32
	name                                                                    [16]byte
	ifindex, btfFD, btfKey, btfValue, btfVmlinux                            uint32
	mapExtra                                                                uint64
}

// newPortMap creates an unpinned reservation map.
func newPortMap() (*bpfMap, error) {
	attr := mapCreateAttr{
		mapType: bpfMapTypeHash, keySize: 4, valueSize: 8, maxEntries: mapMaxEntries,
		mapFlags: unix.BPF_F_NO_PREALLOC, name: bpfName(mapName),
	}
	fd, err := bpfCall(bpfMapCreate, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		return nil, fmt.Errorf("create map: %w", err)
	}
	return &bpfMap{fd: fd}, nil
}

// The attribute structs hold user pointers as unsafe.Pointer, not uint64:
// the stack copier then updates them when the object they point to is on
// a goroutine stack that moves. (64-bit layout: unsafe.Pointer is 8 bytes,
// as the kernel's __aligned_u64.)

type objAttr struct {
	pathname  unsafe.Pointer
	fd        uint32
	fileFlags uint32
}

// objGet opens a pinned object; a missing pin is os.ErrNotExist.
func objGet(path string, flags uint32) (int, error) {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return -1, err
	}
	attr := objAttr{pathname: unsafe.Pointer(p), fileFlags: flags}
	fd, err := bpfCall(bpfObjGet, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(p)
	if err != nil {
		return -1, &os.PathError{Op: "bpf obj_get", Path: path, Err: err}
	}
	return fd, nil
}

// objPin pins fd at path.
func objPin(fd int, path string) error {
	p, err := unix.BytePtrFromString(path)
	if err != nil {
		return err
	}
	attr := objAttr{pathname: unsafe.Pointer(p), fd: uint32(fd)}
	_, err = bpfCall(bpfObjPin, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(p)
	if err != nil {
		return &os.PathError{Op: "bpf obj_pin", Path: path, Err: err}
	}
	return nil
}

// loadPinnedMap opens the pinned map at path (read-only if asked).
func loadPinnedMap(path string, readOnly bool) (*bpfMap, error) {
	var flags uint32
	if readOnly {
		flags = bpfFRdonly
	}
	fd, err := objGet(path, flags)
	if err != nil {
		return nil, err
	}
	m := &bpfMap{fd: fd}
	var info [6]uint32 // type, id, key_size, value_size, max_entries, map_flags
	if err := objInfo(fd, unsafe.Pointer(&info), unsafe.Sizeof(info)); err != nil {
		m.Close()
		return nil, err
	}
	if info[0] != bpfMapTypeHash || info[2] != 4 || info[3] != 8 {
		m.Close()
		return nil, fmt.Errorf("pinned map %s: type %d key %d value %d: not a port map", path, info[0], info[2], info[3])
	}
	return m, nil
}

// openOrCreatePinned opens the map pinned at path, or creates and pins it.
// The caller holds the exclusive lock, so nobody pins in between.
func openOrCreatePinned(path string) (*bpfMap, error) {
	m, err := loadPinnedMap(path, false)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return m, err
	}
	if m, err = newPortMap(); err != nil {
		return nil, err
	}
	if err := objPin(m.fd, path); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

type elemAttr struct {
	fd    uint32
	_     uint32
	key   unsafe.Pointer
	value unsafe.Pointer // or next_key
	flags uint64
}

func (m *bpfMap) elem(cmd int, key, value unsafe.Pointer, flags uint64) error {
	attr := elemAttr{fd: uint32(m.fd), key: key, value: value, flags: flags}
	_, err := bpfCall(cmd, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err == unix.ENOENT {
		return errNoKey
	}
	return err
}

// Lookup returns the value of key; errNoKey when there is none.
func (m *bpfMap) Lookup(key uint32) (uint64, error) {
	var v uint64
	err := m.elem(bpfMapLookupElem, unsafe.Pointer(&key), unsafe.Pointer(&v), 0)
	return v, err
}

// Insert adds key; EEXIST if it is there already.
func (m *bpfMap) Insert(key uint32, value uint64) error {
	return m.elem(bpfMapUpdateElem, unsafe.Pointer(&key), unsafe.Pointer(&value), bpfNoExist)
}

// Delete removes key; errNoKey when there is none.
func (m *bpfMap) Delete(key uint32) error {
	return m.elem(bpfMapDeleteElem, unsafe.Pointer(&key), nil, 0)
}

// NextKey returns the key after prev (the first with prev nil); errNoKey
// at the end.
func (m *bpfMap) NextKey(prev *uint32) (uint32, error) {
	var next uint32
	err := m.elem(bpfMapGetNextKey, unsafe.Pointer(prev), unsafe.Pointer(&next), 0)
	return next, err
}

// All returns every element. A key deleted meanwhile restarts nothing: the
// kernel continues from the first key then, and duplicates are merged.
func (m *bpfMap) All() (map[uint32]uint64, error) {
	out := map[uint32]uint64{}
	var prev *uint32
	for i := 0; i <= 2*mapMaxEntries; i++ {
		k, err := m.NextKey(prev)
		if err == errNoKey {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		v, err := m.Lookup(k)
		if err == nil {
			out[k] = v
		} else if err != errNoKey {
			return nil, err
		}
		prev = &k
	}
	return nil, fmt.Errorf("map iteration does not end")
}

// ID is the kernel's id of the map.
func (m *bpfMap) ID() (uint32, error) {
	var info [2]uint32 // type, id
	if err := objInfo(m.fd, unsafe.Pointer(&info), unsafe.Sizeof(info)); err != nil {
		return 0, err
	}
	return info[1], nil
}

type infoAttr struct {
	fd      uint32
	infoLen uint32
	info    unsafe.Pointer
}

// objInfo fills info (a prefix of bpf_{map,prog,link}_info) for fd.
func objInfo(fd int, info unsafe.Pointer, size uintptr) error {
	attr := infoAttr{fd: uint32(fd), infoLen: uint32(size), info: info}
	_, err := bpfCall(bpfObjGetInfoByFD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		return fmt.Errorf("object info: %w", err)
	}
	return nil
}

type progLoadAttr struct {
	progType, insnCnt  uint32
	insns, license     unsafe.Pointer
	logLevel, logSize  uint32
	logBuf             unsafe.Pointer
	kernVersion, flags uint32
	name               [16]byte
	ifindex            uint32
	expectedAttachType uint32
}

// loadProg loads insns as a cgroup sock_addr program for attach type at.
// On failure it loads again with the verifier log, which goes into the
// error.
func loadProg(insns []uint64, name string, at uint32) (int, error) {
	lic := []byte("Dual BSD/GPL\x00")
	attr := progLoadAttr{
		progType: bpfProgTypeSockAdr, insnCnt: uint32(len(insns)),
		insns:   unsafe.Pointer(&insns[0]),
		license: unsafe.Pointer(&lic[0]),
		name:    bpfName(name), expectedAttachType: at,
	}
	fd, err := bpfCall(bpfProgLoad, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		log := make([]byte, 16<<10)
		attr.logLevel, attr.logSize = 1, uint32(len(log))
		attr.logBuf = unsafe.Pointer(&log[0])
		if fd2, err2 := bpfCall(bpfProgLoad, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err2 == nil {
			return fd2, nil
		}
		if n := cstrlen(log); n > 0 {
			err = fmt.Errorf("%w: %s", err, log[:n])
		}
	}
	runtime.KeepAlive(insns)
	runtime.KeepAlive(lic)
	return fd, err
}

func cstrlen(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return len(b)
}

type linkCreateAttr struct {
	progFD, targetFD, attachType, flags uint32
}

// attachCgroupLink attaches prog at the cgroup directory open as cgfd
// through a new bpf_link (Linux 5.7) and returns the link.
func attachCgroupLink(prog, cgfd int, at uint32) (int, error) {
	attr := linkCreateAttr{progFD: uint32(prog), targetFD: uint32(cgfd), attachType: at}
	return bpfCall(bpfLinkCreate, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
}

// linkProgID is the id of the program behind a link.
func linkProgID(link int) (uint32, error) {
	var info [3]uint32 // type, id, prog_id
	if err := objInfo(link, unsafe.Pointer(&info), unsafe.Sizeof(info)); err != nil {
		return 0, err
	}
	return info[2], nil
}

// progMapIDs lists the ids of the maps the program id uses.
func progMapIDs(id uint32) ([]uint32, error) {
	attr := [3]uint32{id}
	fd, err := bpfCall(bpfProgGetFDByID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		return nil, fmt.Errorf("program %d: %w", id, err)
	}
	defer unix.Close(fd)
	var ids [16]uint32
	info := progInfo{nrMapIDs: uint32(len(ids)), mapIDs: unsafe.Pointer(&ids[0])}
	if err := objInfo(fd, unsafe.Pointer(&info), unsafe.Sizeof(info)); err != nil {
		return nil, err
	}
	return ids[:min(int(info.nrMapIDs), len(ids))], nil
}

// progInfo is struct bpf_prog_info up to map_ids.
type progInfo struct {
	typ, id                 uint32
	tag                     [8]byte
	jitedLen, xlatedLen     uint32
	jitedInsns, xlatedInsns uint64
	loadTime                uint64
	uid, nrMapIDs           uint32
	mapIDs                  unsafe.Pointer
}

// linkDetach cuts a link's program off (Linux 5.9); errNotSupported before.
func linkDetach(link int) error {
	attr := [1]uint32{uint32(link)}
	_, err := bpfCall(bpfLinkDetach, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err == unix.EINVAL || err == unix.EOPNOTSUPP || err == unix.Errno(errENOTSUPP) {
		return ErrNotSupported
	}
	return err
}
