package portguard

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"golang.org/x/sys/unix"
)

// hooks are the two attach points and the names of their link pins.
var hooks = []struct {
	pin    string
	attach uint32
}{
	{link4Name, attachInet4Bind},
	{link6Name, attachInet6Bind},
}

// ensureAttached makes sure both bind hooks are attached at the cgroup v2
// root through pinned bpf_links whose programs use m. A pinned link whose
// program reads another map (debris of a half-finished teardown) would not
// enforce the reservations in m, so it is replaced.
func (g *Guard) ensureAttached(m *bpfMap, root string) error {
	for _, h := range hooks {
		path := g.pin(h.pin)
		l, err := objGet(path, 0)
		switch {
		case err == nil:
			ok, err := linkUsesMap(l, m)
			if err == nil && ok {
				unix.Close(l)
				continue
			}
			dropLink(l, path)
		case !errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("portguard: open link %s: %w", path, err)
		}
		if err := attach(m, root, h.attach, path); err != nil {
			return err
		}
	}
	return nil
}

// attach loads the hook for at, attaches it at root and pins the link. The
// pin is what keeps the program attached after this process exits: a
// bpf_link detaches when its last reference (fd or pin) goes away.
func attach(m *bpfMap, root string, at uint32, path string) error {
	prog, err := loadProg(progInsns(m.fd), progName(at), at)
	if err != nil {
		return fmt.Errorf("portguard: load %s program: %w", progName(at), err)
	}
	defer unix.Close(prog)
	cg, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("portguard: attach %s program at %s: %w", progName(at), root, err)
	}
	defer unix.Close(cg)
	l, err := attachCgroupLink(prog, cg, at)
	if err != nil {
		return fmt.Errorf("portguard: attach %s program at %s (needs bpf_link, Linux 5.7+): %w", progName(at), root, err)
	}
	defer unix.Close(l)
	if err := objPin(l, path); err != nil {
		return fmt.Errorf("portguard: pin %s link: %w", progName(at), err)
	}
	return nil
}

// linkUsesMap reports whether the program behind the link l references m.
func linkUsesMap(l int, m *bpfMap) (bool, error) {
	pid, err := linkProgID(l)
	if err != nil {
		return false, err
	}
	ids, err := progMapIDs(pid)
	if err != nil {
		return false, err
	}
	mid, err := m.ID()
	if err != nil {
		return false, err
	}
	return slices.Contains(ids, mid), nil
}

// dropLink unpins the link l (pinned at path), detaches and closes it.
// Detach (BPF_LINK_DETACH) cuts the program off even if another process
// still holds an fd of the link; without it (before Linux 5.9) dropping
// the last reference does it.
func dropLink(l int, path string) error {
	defer unix.Close(l)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := linkDetach(l); err != nil && !errors.Is(err, ErrNotSupported) {
		return err
	}
	return nil
}

// teardownIfEmpty removes the links, the map pin and the pin directory when
// m (the pinned map, or nil if there is none) holds no reservation.
func (g *Guard) teardownIfEmpty(m *bpfMap) error {
	if m != nil {
		_, err := m.NextKey(nil)
		if err == nil {
			return nil // still in use
		}
		if err != errNoKey {
			return fmt.Errorf("portguard: read map: %w", err)
		}
	}
	var errs []error
	for _, h := range hooks {
		path := g.pin(h.pin)
		l, err := objGet(path, 0)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("portguard: open link %s: %w", path, err))
			continue
		}
		if err := dropLink(l, path); err != nil {
			errs = append(errs, fmt.Errorf("portguard: detach %s: %w", path, err))
		}
	}
	if err := os.Remove(g.pin(mapName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("portguard: unpin map: %w", err))
	}
	if len(errs) == 0 {
		errs = append(errs, g.removePinDir())
	}
	return errors.Join(errs...)
}
