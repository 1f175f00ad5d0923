package portguard

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// fixture is a private guard (its own pin directory, so it never touches
// real reservations) plus two fresh cgroup v2 directories.
type fixture struct {
	g          *Guard
	root       string // cgroup v2 root
	dirA, dirB string
	idA, idB   uint64
}

func randName() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// needRoot skips unless the test runs as root on a system with the hooks.
func needRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: loads BPF programs and creates cgroups")
	}
	if err := Supported(); err != nil {
		tb.Skipf("needs cgroup v2 and cgroup-BPF bind hooks: %v", err)
	}
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	needRoot(tb)
	root, err := CgroupRoot()
	if err != nil {
		tb.Fatal(err)
	}
	name := "cells-test-" + randName()
	f := &fixture{
		g:    New(Config{PinDir: filepath.Join(bpffsRoot, name)}),
		root: root,
		dirA: filepath.Join(root, name+"-a"),
		dirB: filepath.Join(root, name+"-b"),
	}
	tb.Cleanup(f.cleanup)
	for _, d := range []string{f.dirA, f.dirB} {
		if err := os.Mkdir(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	if f.idA, err = CgroupID(f.dirA); err != nil {
		tb.Fatal(err)
	}
	if f.idB, err = CgroupID(f.dirB); err != nil {
		tb.Fatal(err)
	}
	return f
}

// cleanup releases, detaches and unpins everything and removes the cgroups,
// whatever state a failed test left behind.
func (f *fixture) cleanup() {
	f.g.Release(f.idA)
	f.g.Release(f.idB)
	if unlock, err := f.g.lock(true); err == nil {
		f.g.teardownIfEmpty(nil) // nil: unconditionally
		unlock()
	}
	for _, d := range []string{f.dirA, f.dirB} {
		// The helpers have been reaped, but the kernel may take a
		// moment to let go of an emptied cgroup.
		for i := 0; i < 50; i++ {
			if err := os.Remove(d); err == nil || errors.Is(err, os.ErrNotExist) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// attachedIDs returns the ids of the programs behind the guard's pinned
// links (empty when nothing is pinned).
func (f *fixture) attachedIDs(tb testing.TB) []ebpf.ProgramID {
	tb.Helper()
	var ids []ebpf.ProgramID
	for _, h := range hooks {
		l, err := link.LoadPinnedLink(f.g.pin(h.pin), nil)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			tb.Fatal(err)
		}
		info, err := l.Info()
		l.Close()
		if err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, info.Program)
	}
	return ids
}

// rootPrograms lists the programs attached at the cgroup v2 root for the
// two bind hooks.
func (f *fixture) rootPrograms(tb testing.TB) []ebpf.ProgramID {
	tb.Helper()
	dir, err := os.Open(f.root)
	if err != nil {
		tb.Fatal(err)
	}
	defer dir.Close()
	var ids []ebpf.ProgramID
	for _, h := range hooks {
		res, err := link.QueryPrograms(link.QueryOptions{Target: int(dir.Fd()), Attach: ebpf.AttachType(h.attach)})
		if err != nil {
			tb.Fatal(err)
		}
		for _, p := range res.Programs {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

// assertGone checks that nothing of the guard is left: no pin directory, and
// none of the given programs attached at the root or even loaded.
func (f *fixture) assertGone(tb testing.TB, progs []ebpf.ProgramID) {
	tb.Helper()
	if _, err := os.Stat(f.g.PinDir()); !errors.Is(err, os.ErrNotExist) {
		tb.Errorf("pin directory %s still exists (stat: %v)", f.g.PinDir(), err)
	}
	attached := f.rootPrograms(tb)
	for _, id := range progs {
		for _, a := range attached {
			if a == id {
				tb.Errorf("program %d still attached at %s", id, f.root)
			}
		}
		if p, err := ebpf.NewProgramFromID(id); err == nil {
			p.Close()
			tb.Errorf("program %d still loaded", id)
		}
	}
}

// freePort returns a port that all four socket kinds can bind on the
// loopback right now and that the guard does not hold.
func freePort(tb testing.TB, f *fixture, avoid ...uint16) uint16 {
	tb.Helper()
	for range 100 {
		p, err := ephemeral()
		if err != nil {
			tb.Fatal(err)
		}
		ok := true
		for _, a := range avoid {
			ok = ok && a != p
		}
		if _, held, _ := f.g.Owner(p); held {
			ok = false
		}
		for _, n := range socketKinds {
			ok = ok && bindOnce(n, p) == nil
		}
		if ok {
			return p
		}
	}
	tb.Fatal("no free port found")
	return 0
}

// reserveElsewhere reserves port for id from a separate, short-lived
// process, as cellctl does.
func reserveElsewhere(tb testing.TB, f *fixture, id uint64, port uint16) {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=reserve", pinEnv+"="+f.g.PinDir(),
		cgidEnv+"="+strconv.FormatUint(id, 10), portEnv+"="+strconv.Itoa(int(port)))
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("reserve helper: %v: %s", err, out)
	}
}
