package portguard

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// Names of the pins inside the pin directory.
const (
	mapName   = "cells_ports" // the map, pinned by name
	link4Name = "bind4"       // the bpf_link of the cgroup/bind4 program
	link6Name = "bind6"       // the bpf_link of the cgroup/bind6 program
)

// mapSpec describes the reservation map: key a u32 holding the port in host
// byte order, value the owner's u64 cgroup id. 65536 entries cover every
// port; BPF_F_NO_PREALLOC keeps the kernel from allocating all of them up
// front (a handful of ports is the usual load).
func mapSpec() *ebpf.MapSpec {
	return &ebpf.MapSpec{
		Name:       mapName,
		Type:       ebpf.Hash,
		KeySize:    4,
		ValueSize:  8,
		MaxEntries: 1 << 16,
		Flags:      unix.BPF_F_NO_PREALLOC,
		Pinning:    ebpf.PinByName,
	}
}

// Offset of user_port in struct bpf_sock_addr (include/uapi/linux/bpf.h):
// user_family u32 @0, user_ip4 u32 @4, user_ip6 [4]u32 @8, user_port u32 @24.
const offUserPort = 24

// progSpec returns the bind hook for attach (AttachCGroupInet4Bind or
// AttachCGroupInet6Bind); both share the same instructions and map.
//
//	key = ntohs(ctx->user_port)
//	owner = lookup(ports, &key)
//	if owner == NULL: return 1              // not reserved
//	if *owner == get_current_cgroup_id(): return 1
//	return 0                                // bind() fails with EPERM
func progSpec(ports *ebpf.Map, attach ebpf.AttachType) *ebpf.ProgramSpec {
	insns := asm.Instructions{
		// user_port is a __be16 widened to u32: the port in network
		// byte order in the low 16 bits. HostTo(BE, Half) swaps the
		// low 16 bits on a little-endian host (and only truncates on a
		// big-endian one), which turns it into the host-order port.
		asm.LoadMem(asm.R2, asm.R1, offUserPort, asm.Word),
		asm.HostTo(asm.BE, asm.R2, asm.Half),
		asm.StoreMem(asm.RFP, -4, asm.R2, asm.Word),
		asm.LoadMapPtr(asm.R1, ports.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "allow"),
		// R6-R9 survive helper calls; R0-R5 do not.
		asm.LoadMem(asm.R6, asm.R0, 0, asm.DWord),
		asm.FnGetCurrentCgroupId.Call(),
		asm.JEq.Reg(asm.R0, asm.R6, "allow"),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("allow"),
		asm.Return(),
	}
	name := "cells_bind4"
	if attach == ebpf.AttachCGroupInet6Bind {
		name = "cells_bind6"
	}
	return &ebpf.ProgramSpec{
		Name:         name,
		Type:         ebpf.CGroupSockAddr,
		AttachType:   attach,
		Instructions: insns,
		License:      "Dual BSD/GPL",
	}
}
