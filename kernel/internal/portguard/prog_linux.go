package portguard

// Names of the pins inside the pin directory.
const (
	mapName   = "cells_ports" // the map, pinned by name
	link4Name = "bind4"       // the bpf_link of the cgroup/bind4 program
	link6Name = "bind6"       // the bpf_link of the cgroup/bind6 program
)

// The reservation map: key a u32 holding the port in host byte order,
// value the owner's u64 cgroup id. 65536 entries cover every port;
// BPF_F_NO_PREALLOC keeps the kernel from allocating all of them up front
// (a handful of ports is the usual load).
const mapMaxEntries = 1 << 16

// Offset of user_port in struct bpf_sock_addr (include/uapi/linux/bpf.h):
// user_family u32 @0, user_ip4 u32 @4, user_ip6 [4]u32 @8, user_port u32 @24.
const offUserPort = 24

// insn encodes one BPF instruction (struct bpf_insn, little-endian):
// opcode, dst and src registers, 16-bit offset, 32-bit immediate.
func insn(op uint8, dst, src uint8, off int16, imm int32) uint64 {
	return uint64(op) | uint64(dst&0xf)<<8 | uint64(src&0xf)<<12 |
		uint64(uint16(off))<<16 | uint64(uint32(imm))<<32
}

// Registers, helpers and opcodes used below.
const (
	r0, r1, r2, r6, r10 = 0, 1, 2, 6, 10

	fnMapLookupElem            = 1
	fnGetCurrentCgroupID       = 80
	opLdxW                     = 0x61 // BPF_LDX|BPF_MEM|BPF_W
	opLdxDW                    = 0x79 // BPF_LDX|BPF_MEM|BPF_DW
	opStxW                     = 0x63 // BPF_STX|BPF_MEM|BPF_W
	opToBE                     = 0xdc // BPF_ALU|BPF_END|BPF_TO_BE
	opLdImm64                  = 0x18 // BPF_LD|BPF_IMM|BPF_DW (two slots)
	opMovReg                   = 0xbf // BPF_ALU64|BPF_MOV|BPF_X
	opMovImm                   = 0xb7 // BPF_ALU64|BPF_MOV|BPF_K
	opAddImm                   = 0x07 // BPF_ALU64|BPF_ADD|BPF_K
	opCall                     = 0x85 // BPF_JMP|BPF_CALL
	opJeqImm                   = 0x15 // BPF_JMP|BPF_JEQ|BPF_K
	opJeqReg                   = 0x1d // BPF_JMP|BPF_JEQ|BPF_X
	opExit                     = 0x95 // BPF_JMP|BPF_EXIT
	pseudoMapFD          uint8 = 1    // BPF_PSEUDO_MAP_FD in src of a ld_imm64
)

// progInsns is the bind hook (the same for bind4 and bind6):
//
//	key = ntohs(ctx->user_port)
//	owner = lookup(ports, &key)
//	if owner == NULL: return 1              // not reserved
//	if *owner == get_current_cgroup_id(): return 1
//	return 0                                // bind() fails with EPERM
//
// user_port is a __be16 widened to u32: the port in network byte order in
// the low 16 bits. The 16-bit to-big-endian swap turns it into the
// host-order port on a little-endian host.
func progInsns(mapFD int) []uint64 {
	return []uint64{
		insn(opLdxW, r2, r1, offUserPort, 0),
		insn(opToBE, r2, 0, 0, 16),
		insn(opStxW, r10, r2, -4, 0),
		insn(opLdImm64, r1, pseudoMapFD, 0, int32(mapFD)), insn(0, 0, 0, 0, 0),
		insn(opMovReg, r2, r10, 0, 0),
		insn(opAddImm, r2, 0, 0, -4),
		insn(opCall, 0, 0, 0, fnMapLookupElem),
		insn(opJeqImm, r0, 0, 5, 0), // to allow
		// R6-R9 survive helper calls; R0-R5 do not.
		insn(opLdxDW, r6, r0, 0, 0),
		insn(opCall, 0, 0, 0, fnGetCurrentCgroupID),
		insn(opJeqReg, r0, r6, 2, 0), // to allow
		insn(opMovImm, r0, 0, 0, 0),
		insn(opExit, 0, 0, 0, 0),
		insn(opMovImm, r0, 0, 0, 1), // allow
		insn(opExit, 0, 0, 0, 0),
	}
}

// progName names the hook for attach type at.
func progName(at uint32) string {
	if at == attachInet6Bind {
		return "cells_bind6"
	}
	return "cells_bind4"
}
