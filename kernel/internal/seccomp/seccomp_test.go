package seccomp

import (
	"encoding/binary"
	"testing"
)

// run interprets the subset of classic BPF the assembler emits against a
// seccomp_data built from nr, arch and args.
func run(t *testing.T, prog []Instruction, nr, arch uint32, args [6]uint64) uint32 {
	t.Helper()
	data := make([]byte, 64)
	binary.LittleEndian.PutUint32(data[0:], nr)
	binary.LittleEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[16+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case opLdAbsW:
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case opAndK:
			acc &= in.K
		case opJeqK, opJgeK:
			hit := acc == in.K
			if in.Code == opJgeK {
				hit = acc >= in.K
			}
			if hit {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case opRetK:
			return in.K
		default:
			t.Fatalf("unexpected opcode %#x", in.Code)
		}
	}
	t.Fatal("program fell off the end")
	return 0
}

func TestFilter(t *testing.T) {
	const arch = 0xc000003e // AUDIT_ARCH_X86_64
	f := Filter{Arch: arch, RejectX32: true, Deny: []uint32{165, 166},
		Devices: []DeviceArg{{Nr: 133, Arg: 1}, {Nr: 259, Arg: 2}}}
	prog, err := f.Assemble()
	if err != nil {
		t.Fatal(err)
	}
	eperm := uint32(RetErrno | 1)
	cases := []struct {
		name string
		nr   uint32
		arch uint32
		args [6]uint64
		want uint32
	}{
		{"allowed", 0, arch, [6]uint64{}, RetAllow},
		{"denied mount", 165, arch, [6]uint64{}, eperm},
		{"denied umount2", 166, arch, [6]uint64{}, eperm},
		{"foreign arch", 0, 0x40000003, [6]uint64{}, RetKill},
		{"x32", 0x40000000 | 165, arch, [6]uint64{}, eperm},
		{"mknod chr", 133, arch, [6]uint64{0, 0o020666}, eperm},
		{"mknod blk", 133, arch, [6]uint64{0, 0o060600}, eperm},
		{"mknod fifo", 133, arch, [6]uint64{0, 0o010600}, RetAllow},
		{"mknodat chr", 259, arch, [6]uint64{0, 0, 0o020600}, eperm},
		{"mknodat sock", 259, arch, [6]uint64{0, 0, 0o140600}, RetAllow},
		{"mknodat mode in arg1 ignored", 259, arch, [6]uint64{0, 0o020600, 0o100600}, RetAllow},
	}
	for _, c := range cases {
		if got := run(t, prog, c.nr, c.arch, c.args); got != c.want {
			t.Errorf("%s: got %#x, want %#x", c.name, got, c.want)
		}
	}
}

func TestAssembleErrors(t *testing.T) {
	if _, err := (Filter{}).Assemble(); err == nil {
		t.Error("no arch: want an error")
	}
	if _, err := (Filter{Arch: 1, Devices: []DeviceArg{{Nr: 1, Arg: 6}}}).Assemble(); err == nil {
		t.Error("argument 6: want an error")
	}
}
