// Package cellabi is the userland side of the upstream secmodel_cell sysctl
// ABI (sys/sys/cell.h, security.models.cell.*): the exact byte layouts of
// struct cell_create and struct cell_info, a portable driver core that speaks
// the ABI through any Sysctler, a fake kernel implementing the documented
// semantics, and the enter helper's step sequence. It is pure Go without
// build tags and imports nothing of this project, so all of it is tested on
// any host; the NetBSD glue (raw __sysctl, real syscalls) lives in package
// kernel.
package cellabi

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Limits and flags of sys/sys/cell.h.
const (
	NameMax  = 63  // CELL_NAME_MAX: longest name, without the NUL
	RootMax  = 255 // CELL_ROOT_MAX: longest root path, without the NUL
	PortsMax = 32  // CELL_PORTS_MAX
	HostID   = 0   // CELLID_HOST

	CreateProfile      = 0x01 // CELL_CREATE_PROFILE: cc_profile is meaningful
	CreatePorts        = 0x02 // CELL_CREATE_PORTS: cc_nports/cc_ports are meaningful
	CreateRlimitNofile = 0x04 // CELL_CREATE_RLIMIT_NOFILE
	CreateRlimitAS     = 0x08 // CELL_CREATE_RLIMIT_AS
	CreateRlimitCore   = 0x10 // CELL_CREATE_RLIMIT_CORE
	// CreateFlagsAll is every flag bit the ABI defines; others are EINVAL.
	CreateFlagsAll = CreateProfile | CreatePorts | CreateRlimitNofile | CreateRlimitAS | CreateRlimitCore

	ProfileLow    = 0 // CELL_PROFILE_LOW
	ProfileMedium = 1 // CELL_PROFILE_MEDIUM
	ProfileHigh   = 2 // CELL_PROFILE_HIGH

	RlimitInfinity = ^uint64(0) // CELL_RLIMIT_INFINITY
)

// Sizes of the ABI structures (identical on LP64 and ILP32 NetBSD ports:
// every uint64 falls on an 8-byte offset either way).
const (
	SizeofCreate = 424 // sizeof(struct cell_create)
	SizeofInfo   = 400 // sizeof(struct cell_info)
)

// Sysctl node names of the module.
const (
	NodeName    = "security.models.cell.name"
	NodeID      = "security.models.cell.id"
	NodeCreate  = "security.models.cell.create"
	NodeDestroy = "security.models.cell.destroy"
	NodeList    = "security.models.cell.list"
)

// ByteOrder is the order of every integer in the ABI: the host's, because
// the kernel copies the C structs as they are in memory (little-endian on
// amd64 and aarch64).
var ByteOrder = binary.NativeEndian

// Offsets of struct cell_create.
const (
	offCCFlags   = 0
	offCCID      = 4
	offCCProfile = 8
	offCCNports  = 12
	offCCPorts   = 14 // 32 x uint16, then 2 bytes of padding (78..79)
	offCCNofile  = 80
	offCCAS      = 88
	offCCCore    = 96
	offCCName    = 104 // char[64]
	offCCRoot    = 168 // char[256]
)

// Offsets of struct cell_info.
const (
	offCIID        = 0
	offCIFlags     = 4
	offCIRefcount  = 8
	offCIName      = 16 // char[64]
	offCIRoot      = 80 // char[256]
	offCICreatedNS = 336
	offCIProcs     = 344
	offCIMemory    = 352
	offCICPU1s     = 360
	offCICPU10s    = 368
	offCINofile    = 376
	offCIAS        = 384
	offCICore      = 392
)

// Create is struct cell_create. Name and Root are the raw C arrays so that
// a decoder (the fake kernel) can check NUL termination the way the kernel
// does; use SetName/SetRoot and CString to fill and read them.
type Create struct {
	Flags        uint32
	ID           uint32 // cc_id: set by the kernel in the reply
	Profile      uint32
	NPorts       uint16
	Ports        [PortsMax]uint16
	RlimitNofile uint64
	RlimitAS     uint64
	RlimitCore   uint64
	Name         [NameMax + 1]byte
	Root         [RootMax + 1]byte
}

// SetName stores s NUL-terminated in c.Name.
func (c *Create) SetName(s string) error {
	return putCString(c.Name[:], s, "name")
}

// SetRoot stores s NUL-terminated in c.Root.
func (c *Create) SetRoot(s string) error {
	return putCString(c.Root[:], s, "root")
}

// SetPorts stores the reserved ports and their count; it does not touch
// the CreatePorts flag.
func (c *Create) SetPorts(ports []uint16) error {
	if len(ports) > PortsMax {
		return fmt.Errorf("cell_create: %d reserved ports (max %d)", len(ports), PortsMax)
	}
	c.Ports = [PortsMax]uint16{}
	copy(c.Ports[:], ports)
	c.NPorts = uint16(len(ports))
	return nil
}

// ErrCString reports a string that does not fit a C array or holds a NUL.
var ErrCString = errors.New("does not fit the ABI field")

func putCString(dst []byte, s, field string) error {
	if len(s) >= len(dst) {
		return fmt.Errorf("cell_create: %s: %d bytes (max %d): %w", field, len(s), len(dst)-1, ErrCString)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return fmt.Errorf("cell_create: %s: contains NUL: %w", field, ErrCString)
		}
	}
	clear(dst)
	copy(dst, s)
	return nil
}

// CString returns b up to its first NUL (all of b when there is none).
func CString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// EncodeCreate returns the SizeofCreate bytes of c in ABI layout (padding
// zeroed).
func EncodeCreate(c *Create) []byte {
	b := make([]byte, SizeofCreate)
	o := ByteOrder
	o.PutUint32(b[offCCFlags:], c.Flags)
	o.PutUint32(b[offCCID:], c.ID)
	o.PutUint32(b[offCCProfile:], c.Profile)
	o.PutUint16(b[offCCNports:], c.NPorts)
	for i, p := range c.Ports {
		o.PutUint16(b[offCCPorts+2*i:], p)
	}
	o.PutUint64(b[offCCNofile:], c.RlimitNofile)
	o.PutUint64(b[offCCAS:], c.RlimitAS)
	o.PutUint64(b[offCCCore:], c.RlimitCore)
	copy(b[offCCName:offCCName+NameMax+1], c.Name[:])
	copy(b[offCCRoot:offCCRoot+RootMax+1], c.Root[:])
	return b
}

// DecodeCreate parses exactly SizeofCreate bytes.
func DecodeCreate(b []byte) (*Create, error) {
	if len(b) != SizeofCreate {
		return nil, fmt.Errorf("cell_create: %d bytes, want %d", len(b), SizeofCreate)
	}
	o := ByteOrder
	c := &Create{
		Flags:        o.Uint32(b[offCCFlags:]),
		ID:           o.Uint32(b[offCCID:]),
		Profile:      o.Uint32(b[offCCProfile:]),
		NPorts:       o.Uint16(b[offCCNports:]),
		RlimitNofile: o.Uint64(b[offCCNofile:]),
		RlimitAS:     o.Uint64(b[offCCAS:]),
		RlimitCore:   o.Uint64(b[offCCCore:]),
	}
	for i := range c.Ports {
		c.Ports[i] = o.Uint16(b[offCCPorts+2*i:])
	}
	copy(c.Name[:], b[offCCName:])
	copy(c.Root[:], b[offCCRoot:])
	return c, nil
}

// Info is struct cell_info, one active cell with its counters.
type Info struct {
	ID           uint32
	CreateFlags  uint32 // the cell's CELL_CREATE_* flags
	Refcount     uint64 // members on allproc + zombproc
	Name         string
	Root         string
	CreatedNS    uint64 // CLOCK_MONOTONIC nanoseconds at creation
	ProcCurrent  uint64 // members on allproc
	MemoryBytes  uint64 // summed vm_map size of the members
	CPUTicks1s   uint64 // tick delta of the last second
	CPUTicks10s  uint64 // mean of the last <= 10 deltas
	RlimitNofile uint64
	RlimitAS     uint64
	RlimitCore   uint64
}

// EncodeInfo returns the SizeofInfo bytes of i in ABI layout; Name and Root
// must fit their arrays with the NUL.
func EncodeInfo(i *Info) ([]byte, error) {
	b := make([]byte, SizeofInfo)
	if err := putCString(b[offCIName:offCIName+NameMax+1], i.Name, "name"); err != nil {
		return nil, err
	}
	if err := putCString(b[offCIRoot:offCIRoot+RootMax+1], i.Root, "root"); err != nil {
		return nil, err
	}
	o := ByteOrder
	o.PutUint32(b[offCIID:], i.ID)
	o.PutUint32(b[offCIFlags:], i.CreateFlags)
	o.PutUint64(b[offCIRefcount:], i.Refcount)
	o.PutUint64(b[offCICreatedNS:], i.CreatedNS)
	o.PutUint64(b[offCIProcs:], i.ProcCurrent)
	o.PutUint64(b[offCIMemory:], i.MemoryBytes)
	o.PutUint64(b[offCICPU1s:], i.CPUTicks1s)
	o.PutUint64(b[offCICPU10s:], i.CPUTicks10s)
	o.PutUint64(b[offCINofile:], i.RlimitNofile)
	o.PutUint64(b[offCIAS:], i.RlimitAS)
	o.PutUint64(b[offCICore:], i.RlimitCore)
	return b, nil
}

// DecodeInfo parses exactly SizeofInfo bytes.
func DecodeInfo(b []byte) (*Info, error) {
	if len(b) != SizeofInfo {
		return nil, fmt.Errorf("cell_info: %d bytes, want %d", len(b), SizeofInfo)
	}
	o := ByteOrder
	return &Info{
		ID:           o.Uint32(b[offCIID:]),
		CreateFlags:  o.Uint32(b[offCIFlags:]),
		Refcount:     o.Uint64(b[offCIRefcount:]),
		Name:         CString(b[offCIName : offCIName+NameMax+1]),
		Root:         CString(b[offCIRoot : offCIRoot+RootMax+1]),
		CreatedNS:    o.Uint64(b[offCICreatedNS:]),
		ProcCurrent:  o.Uint64(b[offCIProcs:]),
		MemoryBytes:  o.Uint64(b[offCIMemory:]),
		CPUTicks1s:   o.Uint64(b[offCICPU1s:]),
		CPUTicks10s:  o.Uint64(b[offCICPU10s:]),
		RlimitNofile: o.Uint64(b[offCINofile:]),
		RlimitAS:     o.Uint64(b[offCIAS:]),
		RlimitCore:   o.Uint64(b[offCICore:]),
	}, nil
}

// ErrListLength is the error of a list reply whose length is not a multiple
// of SizeofInfo (cellctl's message).
var ErrListLength = errors.New("unexpected cell list length")

// DecodeInfoList parses the reply of security.models.cell.list.
func DecodeInfoList(b []byte) ([]Info, error) {
	if len(b)%SizeofInfo != 0 {
		return nil, ErrListLength
	}
	out := make([]Info, 0, len(b)/SizeofInfo)
	for off := 0; off < len(b); off += SizeofInfo {
		i, err := DecodeInfo(b[off : off+SizeofInfo])
		if err != nil {
			return nil, err
		}
		out = append(out, *i)
	}
	return out, nil
}
