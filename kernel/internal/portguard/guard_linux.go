package portguard

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Supported returns nil when cgroup v2 and the cgroup-BPF bind hooks are
// usable, else an error wrapping ErrNotSupported that says what is missing.
// Pinning the links needs bpf_link for cgroups (Linux 5.7 or later).
func (g *Guard) Supported() error {
	if _, err := g.cgroupRoot(); err != nil {
		return err
	}
	// The probe is the hook itself: an unpinned map and the program that
	// reads it, loaded and dropped again.
	m, err := newPortMap()
	if err != nil {
		return notSupported("hash maps", err)
	}
	defer m.Close()
	prog, err := loadProg(progInsns(m.fd), progName(attachInet4Bind), attachInet4Bind)
	if err != nil {
		return notSupported("cgroup_sock_addr programs with bpf_get_current_cgroup_id", err)
	}
	unix.Close(prog)
	return nil
}

// notSupported wraps a probe failure: the errors of a kernel without the
// feature (EINVAL for an unknown type or helper, ENOTSUPP, EOPNOTSUPP,
// ENOSYS) as ErrNotSupported, others (EPERM...) as they are.
func notSupported(what string, err error) error {
	for _, e := range []error{unix.EINVAL, unix.Errno(errENOTSUPP), unix.EOPNOTSUPP, unix.ENOSYS} {
		if errors.Is(err, e) {
			return fmt.Errorf("portguard: %s: %v: %w", what, err, ErrNotSupported)
		}
	}
	return fmt.Errorf("portguard: probe %s: %w", what, err)
}

// Reserve reserves ports for the cgroup v2 whose id is cgroupID (see
// CgroupID). It is all or nothing: if any port is reserved by another cgroup,
// it fails with an error wrapping ErrPortReserved and changes nothing. Ports
// the cgroup already owns stay reserved; an empty list is a no-op.
func (g *Guard) Reserve(cgroupID uint64, ports []uint16) (err error) {
	if cgroupID == 0 {
		return fmt.Errorf("portguard: reserve: cgroup id 0: %w", ErrInvalid)
	}
	want := make([]uint16, 0, len(ports))
	seen := make(map[uint16]bool, len(ports))
	for _, p := range ports {
		if p == 0 {
			return fmt.Errorf("portguard: reserve: port 0: %w", ErrInvalid)
		}
		if !seen[p] {
			seen[p] = true
			want = append(want, p)
		}
	}
	if len(want) == 0 {
		return nil
	}
	root, err := g.cgroupRoot()
	if err != nil {
		return err
	}
	unlock, err := g.lock(true)
	if err != nil {
		return err
	}
	defer unlock()

	liftMemlock()
	if err := g.ensurePinDir(); err != nil {
		return err
	}
	m, err := openOrCreatePinned(g.pin(mapName))
	if err != nil {
		g.removePinDir() // only if empty: never drop a map we cannot read
		return fmt.Errorf("portguard: reserve: open map: %w", err)
	}
	defer m.Close()
	// Whatever fails below, a map left empty (we may have just created
	// it) must not leave pins or programs behind.
	defer func() {
		if err != nil {
			g.teardownIfEmpty(m)
		}
	}()

	var add []uint16
	for _, p := range want {
		owner, ok, err := lookup(m, p)
		if err != nil {
			return fmt.Errorf("portguard: reserve port %d: %w", p, err)
		}
		if ok && owner != cgroupID {
			return fmt.Errorf("portguard: reserve port %d: held by cgroup %d: %w", p, owner, ErrPortReserved)
		}
		if !ok {
			add = append(add, p)
		}
	}
	if err := g.ensureAttached(m, root); err != nil {
		return err
	}
	for i, p := range add {
		if err := m.Insert(uint32(p), cgroupID); err != nil {
			for _, q := range add[:i] {
				m.Delete(uint32(q))
			}
			return fmt.Errorf("portguard: reserve port %d: %w", p, err)
		}
	}
	return nil
}

// Release removes every reservation of cgroupID. Releasing a cgroup that owns
// nothing is not an error. When no reservation remains, the programs are
// detached and every pin is removed.
func (g *Guard) Release(cgroupID uint64) error {
	unlock, err := g.lock(true)
	if err != nil {
		return err
	}
	defer unlock()

	m, err := loadPinnedMap(g.pin(mapName), false)
	if errors.Is(err, os.ErrNotExist) {
		// No map: at most debris of an interrupted teardown.
		return g.teardownIfEmpty(nil)
	}
	if err != nil {
		return fmt.Errorf("portguard: release: open map: %w", err)
	}
	defer m.Close()

	all, err := m.All()
	if err != nil {
		return fmt.Errorf("portguard: release: read map: %w", err)
	}
	var mine []uint32
	for key, owner := range all {
		if owner == cgroupID {
			mine = append(mine, key)
		}
	}
	for _, k := range mine {
		if err := m.Delete(k); err != nil && err != errNoKey {
			return fmt.Errorf("portguard: release port %d: %w", k, err)
		}
	}
	return g.teardownIfEmpty(m)
}

// Owner reports the cgroup id that reserved port, and whether it is reserved.
func (g *Guard) Owner(port uint16) (uint64, bool, error) {
	m, unlock, err := g.openShared()
	if err != nil || m == nil {
		return 0, false, err
	}
	defer unlock()
	defer m.Close()
	owner, ok, err := lookup(m, port)
	if err != nil {
		return 0, false, fmt.Errorf("portguard: owner of port %d: %w", port, err)
	}
	return owner, ok, nil
}

// Ports returns every reservation, port → owner cgroup id.
func (g *Guard) Ports() (map[uint16]uint64, error) {
	res := map[uint16]uint64{}
	m, unlock, err := g.openShared()
	if err != nil || m == nil {
		return res, err
	}
	defer unlock()
	defer m.Close()
	all, err := m.All()
	if err != nil {
		return nil, fmt.Errorf("portguard: ports: read map: %w", err)
	}
	for key, owner := range all {
		res[uint16(key)] = owner
	}
	return res, nil
}

// openShared takes the shared lock and opens the pinned map; a nil map and
// nil error mean nothing is reserved.
func (g *Guard) openShared() (*bpfMap, func(), error) {
	unlock, err := g.lock(false)
	if err != nil {
		return nil, nil, err
	}
	m, err := loadPinnedMap(g.pin(mapName), true)
	if errors.Is(err, os.ErrNotExist) {
		unlock()
		return nil, nil, nil
	}
	if err != nil {
		unlock()
		return nil, nil, fmt.Errorf("portguard: open map: %w", err)
	}
	return m, unlock, nil
}

func lookup(m *bpfMap, port uint16) (uint64, bool, error) {
	owner, err := m.Lookup(uint32(port))
	if err == errNoKey {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return owner, true, nil
}

// liftMemlock raises RLIMIT_MEMLOCK to infinity for this process, best
// effort: kernels before 5.11 charge BPF maps and programs to it, later ones
// to the memory cgroup and ignore it.
//
// Why not cilium/ebpf's rlimit package: its init creates a probe BPF map in
// every process that links it (cellctl, and each cell's holder and exec
// stage re-executed from the same binary), about 0.3 ms per start.
func liftMemlock() {
	inf := unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	unix.Setrlimit(unix.RLIMIT_MEMLOCK, &inf)
}
