package seccomp

import (
	"math/rand"
	"testing"
)

// want is the verdict of f for one call, straight from the definition.
func (f Filter) want(nr, arch uint32, args [6]uint64) uint32 {
	eperm := uint32(RetErrno | errEPERM)
	if arch != f.Arch {
		return RetKill
	}
	if f.RejectX32 && nr >= x32Bit {
		return eperm
	}
	for _, d := range f.Deny {
		if d == nr {
			return eperm
		}
	}
	for _, d := range f.Devices {
		if d.Nr == nr {
			if m := uint32(args[d.Arg]) & sIFMT; m == sIFCHR || m == sIFBLK {
				return eperm
			}
			return RetAllow
		}
	}
	return RetAllow
}

// TestTreeMatchesDefinition runs random filters, small and large, with
// duplicates and numbers both denied and device-checked, against every
// syscall number and the device modes.
func TestTreeMatchesDefinition(t *testing.T) {
	const arch = 0xc000003e
	rng := rand.New(rand.NewSource(1))
	modes := []uint64{0, 0o020666, 0o060600, 0o010600, 0o100644, 0o140600, 1<<32 | 0o020000}
	for iter := 0; iter < 60; iter++ {
		f := Filter{Arch: arch, RejectX32: iter%2 == 0}
		n := rng.Intn(120)
		if iter < 5 {
			n = iter // 0 to 4 numbers: leaf-only trees
		}
		for i := 0; i < n; i++ {
			f.Deny = append(f.Deny, uint32(rng.Intn(460)))
		}
		for i := 0; i < rng.Intn(4); i++ {
			f.Devices = append(f.Devices, DeviceArg{Nr: uint32(rng.Intn(460)), Arg: rng.Intn(6)})
		}
		tree, ok := f.assembleTree()
		if !ok {
			if n < 100 {
				t.Fatalf("iteration %d: %d numbers do not fit a tree", iter, n)
			}
			continue
		}
		prog, err := f.Assemble()
		if err != nil {
			t.Fatal(err)
		}
		if len(prog) != len(tree) {
			t.Fatalf("iteration %d: Assemble did not pick the tree", iter)
		}
		for nr := uint32(0); nr < 500; nr++ {
			for _, m := range modes {
				var args [6]uint64
				for i := range args {
					args[i] = m
				}
				args[rng.Intn(6)] = modes[rng.Intn(len(modes))]
				if got, want := run(t, tree, nr, arch, args), f.want(nr, arch, args); got != want {
					t.Fatalf("iteration %d, nr %d, args %o: got %#x, want %#x (filter %+v)", iter, nr, args, got, want, f)
				}
			}
		}
		for _, nr := range []uint32{x32Bit, x32Bit | 1, ^uint32(0)} {
			if got, want := run(t, tree, nr, arch, [6]uint64{}), f.want(nr, arch, [6]uint64{}); got != want {
				t.Fatalf("iteration %d, nr %#x: got %#x, want %#x", iter, nr, got, want)
			}
		}
		if got := run(t, tree, 0, 0x40000003, [6]uint64{}); got != RetKill {
			t.Fatalf("iteration %d: foreign arch: got %#x", iter, got)
		}
	}
}

// TestTreeIsShallow checks the point of the tree: a listed-heavy filter
// decides any number in a few instructions.
func TestTreeIsShallow(t *testing.T) {
	f := Filter{Arch: 1, RejectX32: true}
	for nr := uint32(0); nr < 90; nr++ {
		f.Deny = append(f.Deny, nr*5)
	}
	prog, err := f.Assemble()
	if err != nil {
		t.Fatal(err)
	}
	for nr := uint32(0); nr < 500; nr++ {
		steps := 0
		var acc uint32
		for pc := 0; pc < len(prog); pc++ {
			steps++
			in := prog[pc]
			switch in.Code {
			case opLdAbsW:
				acc = map[uint32]uint32{offArch: 1, offNr: nr}[in.K]
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
				pc = len(prog)
			}
		}
		if steps > 20 {
			t.Fatalf("nr %d: %d instructions run", nr, steps)
		}
	}
}
