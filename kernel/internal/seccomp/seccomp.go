// Package seccomp assembles and installs the classic-BPF deny-list filters
// of the Linux cell driver. It is deliberately small: a filter checks the
// architecture, rejects the x32 ABI, returns EPERM for a list of syscall
// numbers and, for mknod-style calls, only when the mode asks for a device
// node. Everything else is allowed.
package seccomp

import "errors"

// Classic BPF opcodes and seccomp return values (linux/filter.h,
// linux/seccomp.h); defined here so the assembler is testable on any OS.
const (
	opLdAbsW = 0x20 // BPF_LD | BPF_W | BPF_ABS
	opJeqK   = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
	opJgeK   = 0x35 // BPF_JMP | BPF_JGE | BPF_K
	opAndK   = 0x54 // BPF_ALU | BPF_AND | BPF_K
	opRetK   = 0x06 // BPF_RET | BPF_K

	RetAllow = 0x7fff0000 // SECCOMP_RET_ALLOW
	RetErrno = 0x00050000 // SECCOMP_RET_ERRNO
	RetKill  = 0x80000000 // SECCOMP_RET_KILL_PROCESS

	offNr   = 0  // seccomp_data.nr
	offArch = 4  // seccomp_data.arch
	offArgs = 16 // seccomp_data.args[0]; args are 8 bytes each

	x32Bit   = 0x40000000 // __X32_SYSCALL_BIT
	sIFMT    = 0o170000
	sIFCHR   = 0o020000
	sIFBLK   = 0o060000
	errEPERM = 1
)

// Instruction is one classic BPF instruction (struct sock_filter).
type Instruction struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

// DeviceArg names a syscall whose mode argument (index Arg) decides: it is
// denied only when the mode creates a character or block device.
type DeviceArg struct {
	Nr  uint32
	Arg int
}

// Filter is a deny list for one architecture.
type Filter struct {
	Arch      uint32      // AUDIT_ARCH_* the filter accepts; others are killed
	RejectX32 bool        // deny syscall numbers with the x32 bit (amd64)
	Deny      []uint32    // syscalls that fail with EPERM
	Devices   []DeviceArg // mknod-style syscalls denied for device modes
}

// Assemble returns the program: the syscall numbers are found by a binary
// search (a few comparisons per syscall instead of one per listed number,
// which also makes the kernel's per-filter action cache, computed by
// running the filter for every syscall number at install, several times
// cheaper). Should a jump not fit the 8-bit offsets of classic BPF, it
// falls back to the linear list.
func (f Filter) Assemble() ([]Instruction, error) {
	lin, err := f.assembleLinear()
	if err != nil {
		return nil, err
	}
	if tree, ok := f.assembleTree(); ok {
		return tree, nil
	}
	return lin, nil
}

// assembleLinear is the plain program: one comparison per listed number.
// Every jump is local (at most a few instructions), so the 8-bit jump
// offsets of classic BPF never overflow.
func (f Filter) assembleLinear() ([]Instruction, error) {
	if f.Arch == 0 {
		return nil, errors.New("seccomp: assemble: no architecture")
	}
	eperm := uint32(RetErrno | errEPERM)
	p := []Instruction{
		{Code: opLdAbsW, K: offArch},
		{Code: opJeqK, Jt: 1, Jf: 0, K: f.Arch},
		{Code: opRetK, K: RetKill},
		{Code: opLdAbsW, K: offNr},
	}
	if f.RejectX32 {
		p = append(p,
			Instruction{Code: opJgeK, Jt: 0, Jf: 1, K: x32Bit},
			Instruction{Code: opRetK, K: eperm})
	}
	for _, nr := range f.Deny {
		p = append(p,
			Instruction{Code: opJeqK, Jt: 0, Jf: 1, K: nr},
			Instruction{Code: opRetK, K: eperm})
	}
	for _, d := range f.Devices {
		if d.Arg < 0 || d.Arg > 5 {
			return nil, errors.New("seccomp: assemble: argument index out of range")
		}
		// if nr == d.Nr { A = low word of args[d.Arg] & S_IFMT;
		//   if A == S_IFCHR || A == S_IFBLK return EPERM; return ALLOW }
		p = append(p,
			Instruction{Code: opJeqK, Jt: 0, Jf: 6, K: d.Nr},
			Instruction{Code: opLdAbsW, K: uint32(offArgs + 8*d.Arg)},
			Instruction{Code: opAndK, K: sIFMT},
			Instruction{Code: opJeqK, Jt: 2, Jf: 0, K: sIFCHR},
			Instruction{Code: opJeqK, Jt: 1, Jf: 0, K: sIFBLK},
			Instruction{Code: opRetK, K: RetAllow},
			Instruction{Code: opRetK, K: eperm},
		)
	}
	p = append(p, Instruction{Code: opRetK, K: RetAllow})
	if len(p) > 4096 {
		return nil, errors.New("seccomp: assemble: program too long")
	}
	return p, nil
}
