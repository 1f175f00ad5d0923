package seccomp

import "sort"

// treeLeaf is how many numbers a leaf of the search tree compares one by
// one.
const treeLeaf = 3

// key is a listed syscall number and what happens to it: denied, or a
// device check of argument arg (arg >= 0).
type key struct {
	nr  uint32
	arg int
}

// asm is a program under construction whose jumps name instruction
// indexes; resolve turns them into offsets.
type asm struct {
	p       []Instruction
	jt, jf  []int // absolute targets, -1 for "next"
	overrun bool
}

func (a *asm) emit(in Instruction, jt, jf int) int {
	a.p = append(a.p, in)
	a.jt = append(a.jt, jt)
	a.jf = append(a.jf, jf)
	return len(a.p) - 1
}

func (a *asm) resolve() {
	for i := range a.p {
		for _, tgt := range []struct {
			abs int
			off *uint8
		}{{a.jt[i], &a.p[i].Jt}, {a.jf[i], &a.p[i].Jf}} {
			if tgt.abs < 0 {
				continue
			}
			d := tgt.abs - i - 1
			if d < 0 || d > 255 {
				a.overrun = true
				continue
			}
			*tgt.off = uint8(d)
		}
	}
}

// assembleTree is the binary-search program, with the same verdicts as
// assembleLinear: a number in Deny fails, else the first Devices entry
// for it checks its mode argument, else it is allowed. ok is false when a
// jump does not fit.
func (f Filter) assembleTree() (prog []Instruction, ok bool) {
	eperm := uint32(RetErrno | errEPERM)
	seen := map[uint32]bool{}
	var keys []key
	for _, nr := range f.Deny {
		if !seen[nr] {
			seen[nr] = true
			keys = append(keys, key{nr: nr, arg: -1})
		}
	}
	for _, d := range f.Devices {
		if !seen[d.Nr] {
			seen[d.Nr] = true
			keys = append(keys, key{nr: d.Nr, arg: d.Arg})
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].nr < keys[j].nr })

	a := &asm{}
	a.emit(Instruction{Code: opLdAbsW, K: offArch}, -1, -1)
	a.emit(Instruction{Code: opJeqK, Jt: 1, Jf: 0, K: f.Arch}, -1, -1)
	a.emit(Instruction{Code: opRetK, K: RetKill}, -1, -1)
	a.emit(Instruction{Code: opLdAbsW, K: offNr}, -1, -1)
	if f.RejectX32 {
		a.emit(Instruction{Code: opJgeK, Jt: 0, Jf: 1, K: x32Bit}, -1, -1)
		a.emit(Instruction{Code: opRetK, K: eperm}, -1, -1)
	}
	var node func(ks []key)
	node = func(ks []key) {
		if len(ks) <= treeLeaf {
			// if nr == k: its verdict; ...; else allow.
			jumps := make([]int, len(ks))
			for i, k := range ks {
				jumps[i] = a.emit(Instruction{Code: opJeqK, K: k.nr}, 0, -1)
			}
			a.emit(Instruction{Code: opRetK, K: RetAllow}, -1, -1)
			deny := -1
			for i, k := range ks {
				if k.arg < 0 {
					if deny < 0 {
						deny = a.emit(Instruction{Code: opRetK, K: eperm}, -1, -1)
					}
					a.jt[jumps[i]] = deny
					continue
				}
				// A = mode & S_IFMT; a device node fails, the rest passes.
				a.jt[jumps[i]] = a.emit(Instruction{Code: opLdAbsW, K: uint32(offArgs + 8*k.arg)}, -1, -1)
				a.emit(Instruction{Code: opAndK, K: sIFMT}, -1, -1)
				a.emit(Instruction{Code: opJeqK, Jt: 2, Jf: 0, K: sIFCHR}, -1, -1)
				a.emit(Instruction{Code: opJeqK, Jt: 1, Jf: 0, K: sIFBLK}, -1, -1)
				a.emit(Instruction{Code: opRetK, K: RetAllow}, -1, -1)
				a.emit(Instruction{Code: opRetK, K: eperm}, -1, -1)
			}
			return
		}
		mid := len(ks) / 2
		// if nr >= ks[mid]: right half, else left half (next).
		j := a.emit(Instruction{Code: opJgeK, K: ks[mid].nr}, 0, -1)
		node(ks[:mid])
		a.jt[j] = len(a.p)
		node(ks[mid:])
	}
	node(keys)
	a.resolve()
	if a.overrun || len(a.p) > 4096 {
		return nil, false
	}
	return a.p, true
}
