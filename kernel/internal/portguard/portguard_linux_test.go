package portguard

import (
	"errors"
	"maps"
	"os"
	"sync"
	"testing"
)

func wantPorts(t *testing.T, g *Guard, want map[uint16]uint64) {
	t.Helper()
	got, err := g.Ports()
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Errorf("Ports() = %v, want %v", got, want)
	}
}

func wantOwner(t *testing.T, g *Guard, port uint16, id uint64, held bool) {
	t.Helper()
	got, ok, err := g.Owner(port)
	if err != nil {
		t.Fatal(err)
	}
	if ok != held || got != id {
		t.Errorf("Owner(%d) = %d, %v; want %d, %v", port, got, ok, id, held)
	}
}

func TestReservedPortOnlyForOwner(t *testing.T) {
	f := newFixture(t)
	p := freePort(t, f)
	q := freePort(t, f, p)

	if err := f.g.Reserve(f.idA, []uint16{p}); err != nil {
		t.Fatal(err)
	}
	progs := f.attachedIDs(t)
	if len(progs) != 2 {
		t.Fatalf("after Reserve: %d pinned bind hooks, want 2", len(progs))
	}
	wantOwner(t, f.g, p, f.idA, true)
	wantOwner(t, f.g, q, 0, false)
	wantPorts(t, f.g, map[uint16]uint64{p: f.idA})

	wantAll(t, "cgroup A (owner)", p, bindIn(t, f.dirA, p), "ok")
	wantAll(t, "cgroup B", p, bindIn(t, f.dirB, p), "EPERM")
	wantAll(t, "root cgroup", p, bindIn(t, f.root, p), "EPERM")
	wantAll(t, "host (test process)", p, bindHere(p), "EPERM")
	wantAll(t, "cgroup B, unreserved port", q, bindIn(t, f.dirB, q), "ok")
	wantAll(t, "host, unreserved port", q, bindHere(q), "ok")

	// B may not take A's port, and the failed call changes nothing,
	// not even for the free port listed with it.
	err := f.g.Reserve(f.idB, []uint16{q, p})
	if !errors.Is(err, ErrPortReserved) {
		t.Fatalf("Reserve(B, held port) = %v, want ErrPortReserved", err)
	}
	wantPorts(t, f.g, map[uint16]uint64{p: f.idA})
	wantAll(t, "cgroup B after failed Reserve", q, bindIn(t, f.dirB, q), "ok")

	// Reserving again what one already owns is fine.
	if err := f.g.Reserve(f.idA, []uint16{p, q, q}); err != nil {
		t.Fatal(err)
	}
	wantPorts(t, f.g, map[uint16]uint64{p: f.idA, q: f.idA})
	wantAll(t, "cgroup B, second port of A", q, bindIn(t, f.dirB, q), "EPERM")

	// Releasing an owner of nothing changes nothing.
	if err := f.g.Release(f.idB); err != nil {
		t.Fatal(err)
	}
	wantPorts(t, f.g, map[uint16]uint64{p: f.idA, q: f.idA})

	if err := f.g.Release(f.idA); err != nil {
		t.Fatal(err)
	}
	wantPorts(t, f.g, map[uint16]uint64{})
	wantAll(t, "cgroup B after Release", p, bindIn(t, f.dirB, p), "ok")
	wantAll(t, "host after Release", p, bindHere(p), "ok")
	f.assertGone(t, progs)
}

func TestReservationOutlivesProcess(t *testing.T) {
	f := newFixture(t)
	p := freePort(t, f)
	reserveElsewhere(t, f, f.idA, p)
	wantOwner(t, f.g, p, f.idA, true)
	wantAll(t, "cgroup B", p, bindIn(t, f.dirB, p), "EPERM")
	wantAll(t, "cgroup A (owner)", p, bindIn(t, f.dirA, p), "ok")

	// Another process (this one) releases what the helper reserved.
	progs := f.attachedIDs(t)
	if err := f.g.Release(f.idA); err != nil {
		t.Fatal(err)
	}
	wantAll(t, "cgroup B after Release", p, bindIn(t, f.dirB, p), "ok")
	f.assertGone(t, progs)
}

func TestSharedOwnerStaysAttached(t *testing.T) {
	f := newFixture(t)
	p := freePort(t, f)
	q := freePort(t, f, p)
	if err := f.g.Reserve(f.idA, []uint16{p}); err != nil {
		t.Fatal(err)
	}
	if err := f.g.Reserve(f.idB, []uint16{q}); err != nil {
		t.Fatal(err)
	}
	progs := f.attachedIDs(t)
	if err := f.g.Release(f.idA); err != nil {
		t.Fatal(err)
	}
	// B still owns q: the programs must stay, the same ones.
	if got := f.attachedIDs(t); len(got) != 2 || got[0] != progs[0] || got[1] != progs[1] {
		t.Fatalf("after releasing A: pinned programs %v, want %v", got, progs)
	}
	wantAll(t, "cgroup A, B's port", q, bindIn(t, f.dirA, q), "EPERM")
	wantAll(t, "cgroup A, its released port", p, bindIn(t, f.dirA, p), "ok")
	if err := f.g.Release(f.idB); err != nil {
		t.Fatal(err)
	}
	f.assertGone(t, progs)
}

func TestInvalidAndEmpty(t *testing.T) {
	f := newFixture(t)
	if err := f.g.Reserve(0, []uint16{4000}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Reserve(cgroup 0) = %v, want ErrInvalid", err)
	}
	if err := f.g.Reserve(f.idA, []uint16{4000, 0}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Reserve(port 0) = %v, want ErrInvalid", err)
	}
	if err := f.g.Reserve(f.idA, nil); err != nil {
		t.Errorf("Reserve(no ports) = %v", err)
	}
	if err := f.g.Release(f.idA); err != nil {
		t.Errorf("Release(nothing reserved) = %v", err)
	}
	wantPorts(t, f.g, map[uint16]uint64{})
	wantOwner(t, f.g, 4000, 0, false)
	if _, err := os.Stat(f.g.PinDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no reservation, yet pin directory exists (stat: %v)", err)
	}
}

// TestConcurrent races many reservations of the same ports through separate
// lock descriptors (as separate cellctl processes would): exactly one owner
// wins each round, and when all is released nothing is left.
func TestConcurrent(t *testing.T) {
	f := newFixture(t)
	p := freePort(t, f)
	q := freePort(t, f, p)
	const workers = 8
	for round := range 5 {
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for w := range workers {
			wg.Go(func() {
				errs[w] = f.g.Reserve(uint64(1000+w), []uint16{p, q})
			})
		}
		wg.Wait()
		winners := 0
		for w, err := range errs {
			switch {
			case err == nil:
				winners++
				wantPorts(t, f.g, map[uint16]uint64{p: uint64(1000 + w), q: uint64(1000 + w)})
			case !errors.Is(err, ErrPortReserved):
				t.Fatalf("round %d worker %d: %v", round, w, err)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d winners, want 1", round, winners)
		}
		progs := f.attachedIDs(t)
		for w := range workers {
			wg.Go(func() {
				errs[w] = f.g.Release(uint64(1000 + w))
			})
		}
		wg.Wait()
		for w, err := range errs {
			if err != nil {
				t.Fatalf("round %d release %d: %v", round, w, err)
			}
		}
		f.assertGone(t, progs)
	}
	// Distinct ports, many owners at once.
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			if err := f.g.Reserve(uint64(2000+w), []uint16{uint16(40000 + w)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := f.g.Ports()
	if err != nil || len(got) != workers {
		t.Fatalf("Ports() = %v, %v; want %d entries", got, err, workers)
	}
	progs := f.attachedIDs(t)
	for w := range workers {
		wg.Go(func() {
			if err := f.g.Release(uint64(2000 + w)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	f.assertGone(t, progs)
}

// TestChildCgroupIsNotOwner pins down the documented decision: ownership is
// the exact cgroup, a child cgroup of the owner is just another cgroup.
func TestChildCgroupIsNotOwner(t *testing.T) {
	f := newFixture(t)
	child := f.dirA + "/child"
	if err := os.Mkdir(child, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(child) }) // runs before the fixture's
	p := freePort(t, f)
	if err := f.g.Reserve(f.idA, []uint16{p}); err != nil {
		t.Fatal(err)
	}
	wantAll(t, "child of owner", p, bindIn(t, child, p), "EPERM")
	wantAll(t, "owner", p, bindIn(t, f.dirA, p), "ok")
}

// TestStaleLinksReplaced simulates debris of an interrupted teardown: links
// still pinned but the map pin gone. The next Reserve creates a new map and
// must replace the links, whose programs read the old map.
func TestStaleLinksReplaced(t *testing.T) {
	f := newFixture(t)
	p := freePort(t, f)
	q := freePort(t, f, p)
	if err := f.g.Reserve(f.idA, []uint16{p}); err != nil {
		t.Fatal(err)
	}
	stale := f.attachedIDs(t)
	if err := os.Remove(f.g.pin(mapName)); err != nil {
		t.Fatal(err)
	}
	if err := f.g.Reserve(f.idB, []uint16{q}); err != nil {
		t.Fatal(err)
	}
	fresh := f.attachedIDs(t)
	if len(fresh) != 2 || fresh[0] == stale[0] || fresh[1] == stale[1] {
		t.Fatalf("links not replaced: stale programs %v, now %v", stale, fresh)
	}
	wantPorts(t, f.g, map[uint16]uint64{q: f.idB})
	wantAll(t, "cgroup A, B's port", q, bindIn(t, f.dirA, q), "EPERM")
	wantAll(t, "cgroup B, A's lost port", p, bindIn(t, f.dirB, p), "ok")
	if err := f.g.Release(f.idB); err != nil {
		t.Fatal(err)
	}
	f.assertGone(t, append(stale, fresh...))
}

func TestSupported(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: probes BPF program types")
	}
	root, err := CgroupRoot()
	if err != nil {
		t.Skipf("no cgroup v2 here: %v", err)
	}
	if err := Supported(); err != nil {
		t.Fatalf("cgroup v2 at %s, yet Supported() = %v", root, err)
	}
	// That CgroupID is what bpf_get_current_cgroup_id() returns is shown
	// by TestReservedPortOnlyForOwner: only then may the owner bind.
}
