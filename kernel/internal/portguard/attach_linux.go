package portguard

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// hooks are the two attach points and the names of their link pins.
var hooks = []struct {
	pin    string
	attach ebpf.AttachType
}{
	{link4Name, ebpf.AttachCGroupInet4Bind},
	{link6Name, ebpf.AttachCGroupInet6Bind},
}

// ensureAttached makes sure both bind hooks are attached at the cgroup v2
// root through pinned bpf_links whose programs use m. A pinned link whose
// program reads another map (debris of a half-finished teardown) would not
// enforce the reservations in m, so it is replaced.
func (g *Guard) ensureAttached(m *ebpf.Map, root string) error {
	for _, h := range hooks {
		path := g.pin(h.pin)
		l, err := link.LoadPinnedLink(path, nil)
		switch {
		case err == nil:
			ok, err := linkUsesMap(l, m)
			if err == nil && ok {
				l.Close()
				continue
			}
			dropLink(l)
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
func attach(m *ebpf.Map, root string, at ebpf.AttachType, path string) error {
	prog, err := ebpf.NewProgram(progSpec(m, at))
	if err != nil {
		return fmt.Errorf("portguard: load %s program: %w", at, err)
	}
	defer prog.Close()
	l, err := link.AttachCgroup(link.CgroupOptions{Path: root, Attach: at, Program: prog})
	if err != nil {
		return fmt.Errorf("portguard: attach %s program at %s: %w", at, root, err)
	}
	defer l.Close()
	if err := l.Pin(path); err != nil {
		return fmt.Errorf("portguard: pin %s link (needs bpf_link, Linux 5.7+): %w", at, err)
	}
	return nil
}

// linkUsesMap reports whether the program behind l references m.
func linkUsesMap(l link.Link, m *ebpf.Map) (bool, error) {
	li, err := l.Info()
	if err != nil {
		return false, err
	}
	prog, err := ebpf.NewProgramFromID(li.Program)
	if err != nil {
		return false, err
	}
	defer prog.Close()
	pi, err := prog.Info()
	if err != nil {
		return false, err
	}
	mi, err := m.Info()
	if err != nil {
		return false, err
	}
	mid, ok1 := mi.ID()
	ids, ok2 := pi.MapIDs()
	if !ok1 || !ok2 {
		return false, fmt.Errorf("map ids: %w", ebpf.ErrNotSupported)
	}
	return slices.Contains(ids, mid), nil
}

// dropLink unpins l and detaches it. Detach (BPF_LINK_DETACH) cuts the
// program off even if another process still holds an fd of the link;
// without it (before Linux 5.9) dropping the last reference does it.
func dropLink(l link.Link) error {
	defer l.Close()
	if err := l.Unpin(); err != nil {
		return err
	}
	if err := l.Detach(); err != nil && !errors.Is(err, ebpf.ErrNotSupported) {
		return err
	}
	return nil
}

// teardownIfEmpty removes the links, the map pin and the pin directory when
// m (the pinned map, or nil if there is none) holds no reservation.
func (g *Guard) teardownIfEmpty(m *ebpf.Map) error {
	if m != nil {
		var key uint32
		err := m.NextKey(nil, &key)
		if err == nil {
			return nil // still in use
		}
		if !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("portguard: read map: %w", err)
		}
	}
	var errs []error
	for _, h := range hooks {
		path := g.pin(h.pin)
		l, err := link.LoadPinnedLink(path, nil)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("portguard: open link %s: %w", path, err))
			continue
		}
		if err := dropLink(l); err != nil {
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
