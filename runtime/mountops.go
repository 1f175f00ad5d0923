package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"cells/runtime/paths"
	"cells/spec"
)

// PlannedMount is a declared mount checked at start time and ready to be
// executed: Source is a host directory (a volume's directory or a host
// path), Target an absolute path inside the cell.
type PlannedMount struct {
	Spec     spec.Mount
	Source   string
	Target   string
	ReadOnly bool
	Volume   *spec.Volume // the volume document, nil for a host path
}

// PlanMounts checks the declared mounts of cell c with upstream's
// start-time rules and messages (reference §3.5): each specification,
// overlapping targets, host paths gated by CELL_ALLOW_HOST_MOUNTS=YES (the
// environment first, then cellman.conf) and existing, volume manifests
// declared. Nothing is created or mounted.
func PlanMounts(p paths.Paths, st *spec.State, c *spec.Cell, cfg Config) ([]PlannedMount, error) {
	var out []PlannedMount
	for _, decl := range c.Mounts {
		m, err := spec.ParseMount(decl.String())
		if err != nil {
			return nil, err
		}
		out = append(out, PlannedMount{Spec: m, Target: m.Target, ReadOnly: m.Mode == "ro"})
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			a, b := out[i].Target, out[j].Target
			if withinDir(a, b) || withinDir(b, a) {
				return nil, fmt.Errorf("overlapping mount targets are not allowed: %s and %s", a, b)
			}
		}
	}
	for i := range out {
		m := &out[i]
		if m.Spec.Host() {
			if cfg.Get("CELL_ALLOW_HOST_MOUNTS") != "YES" {
				return nil, errors.New("host-path mounts are disabled (set CELL_ALLOW_HOST_MOUNTS=YES)")
			}
			if fi, err := os.Stat(m.Spec.Source); err != nil || !fi.IsDir() {
				return nil, fmt.Errorf("host mount source is not a directory: %s", m.Spec.Source)
			}
			m.Source = m.Spec.Source
			continue
		}
		v := st.Volume(m.Spec.Source)
		if v == nil {
			return nil, fmt.Errorf("missing referenced volume manifest: %s", m.Spec.Source)
		}
		m.Volume = v
		m.Source = p.Volume(v.Name)
	}
	return out, nil
}

// EnsureVolumeDir creates the directory of volume v when it is missing
// (0755) and gives it the declared mode, as upstream does on first use.
func EnsureVolumeDir(p paths.Paths, v *spec.Volume) error {
	dir := p.Volume(v.Name)
	if err := os.MkdirAll(p.VolumesDir, 0o755); err != nil {
		return fmt.Errorf("volume %s: %w", v.Name, err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("volume %s: %w", v.Name, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("volume %s: %w", v.Name, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("volume %s: %s is not a directory", v.Name, dir)
	}
	if v.Mode == "" {
		return nil
	}
	mode, err := strconv.ParseUint(v.Mode, 8, 32)
	if err != nil || mode > 0o7777 {
		return fmt.Errorf("volume %s: invalid mode '%s'", v.Name, v.Mode)
	}
	want := os.FileMode(mode).Perm()
	if mode&0o1000 != 0 {
		want |= os.ModeSticky
	}
	if mode&0o2000 != 0 {
		want |= os.ModeSetgid
	}
	if mode&0o4000 != 0 {
		want |= os.ModeSetuid
	}
	if fi.Mode()&(os.ModePerm|os.ModeSticky|os.ModeSetgid|os.ModeSetuid) == want {
		return nil
	}
	if err := os.Chmod(dir, want); err != nil {
		return fmt.Errorf("volume %s: %w", v.Name, err)
	}
	return nil
}

// MountDeclared executes the planned mounts of a cell into its mounted
// root (reference §6.2): each volume directory is made ready, each target
// is created inside the root (never through a link out of it) and the
// source bound there, read-only for "ro"; a target already mounted from
// the same source is kept. On any failure the mounts this call made are
// unmounted again, newest first.
func MountDeclared(p paths.Paths, root string, mounts []PlannedMount, logf func(string, ...any)) error {
	root = canonicalPath(root)
	log := &mountLog{}
	for _, m := range mounts {
		if m.Volume != nil {
			if err := EnsureVolumeDir(p, m.Volume); err != nil {
				log.rollback(logf)
				return err
			}
		}
		if err := mountDeclaredOne(root, m, log); err != nil {
			log.rollback(logf)
			return err
		}
	}
	return nil
}

// mountEntry is one line of the mount table.
type mountEntry struct {
	Point  string // where it is mounted
	Source string // device or source as the table names it
	FSType string
	Opts   string // file system options (Linux super options)
}

// CellMounts returns the mount points at or under root, deepest (longest
// path) first: what stopping the cell must unmount.
func CellMounts(root string) ([]string, error) {
	table, err := readMountTable()
	if err != nil {
		return nil, err
	}
	return mountsUnder(table, canonicalPath(root)), nil
}

// canonicalPath resolves the links of a host-controlled path (the prefix
// may be reached through one): the mount table names mounts by their real
// paths. A path that does not resolve is returned cleaned.
func canonicalPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return filepath.Clean(p)
}

func mountsUnder(table []mountEntry, root string) []string {
	var pts []string
	seen := map[string]bool{}
	for _, e := range table {
		if withinDir(e.Point, root) && !seen[e.Point] {
			seen[e.Point] = true
			pts = append(pts, e.Point)
		}
	}
	sort.SliceStable(pts, func(i, j int) bool { return len(pts[i]) > len(pts[j]) })
	return pts
}

// UnmountCell unmounts everything mounted at or under root, deepest first,
// reading the mount table afresh after each unmount (an unmount can take
// others with it), as upstream's stop does.
func UnmountCell(root string, logf func(string, ...any)) error {
	root = canonicalPath(root)
	tries := map[string]int{}
	for {
		pts, err := CellMounts(root)
		if err != nil {
			return err
		}
		if len(pts) == 0 {
			return nil
		}
		p := pts[0]
		// Several mounts can be stacked on one point; a point that
		// stays after that many unmounts is stuck.
		if tries[p]++; tries[p] > 16 {
			return fmt.Errorf("unmount %s: still mounted", p)
		}
		if err := unmountPoint(p, logf); err != nil {
			return err
		}
	}
}

// Busy retries of an unmount (EBUSY), then a lazy unmount as last resort.
var (
	unmountAttempts = 20
	unmountWait     = 100 * time.Millisecond
)

// unmountPoint unmounts the topmost mount at p, retrying while busy; the
// last resort is a lazy (detached) unmount, logged as a warning.
func unmountPoint(p string, logf func(string, ...any)) error {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	var err error
	for i := 0; i < unmountAttempts; i++ {
		err = unmountOnce(p, false)
		if err == nil || errors.Is(err, errNotMounted) {
			return nil
		}
		if !errors.Is(err, errBusy) {
			return fmt.Errorf("unmount %s: %w", p, err)
		}
		time.Sleep(unmountWait)
	}
	logf("warning: %s busy after %d attempts; detaching it lazily", p, unmountAttempts)
	if err := unmountOnce(p, true); err != nil && !errors.Is(err, errNotMounted) {
		return fmt.Errorf("unmount %s: %w", p, err)
	}
	return nil
}

// Errors unmountOnce reports for the caller's retry logic.
var (
	errBusy       = errors.New("device busy")
	errNotMounted = errors.New("not mounted")
)

// withinDir reports whether p equals dir or lies below it (clean paths).
func withinDir(p, dir string) bool {
	if dir == "/" || p == dir {
		return true
	}
	return strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// topMount returns the last (topmost) mount at point.
func topMount(table []mountEntry, point string) (mountEntry, bool) {
	for i := len(table) - 1; i >= 0; i-- {
		if table[i].Point == point {
			return table[i], true
		}
	}
	return mountEntry{}, false
}

// unmountResult classifies an unmount error: busy (retry), not mounted
// (done), or another failure.
func unmountResult(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EBUSY):
		return errBusy
	case errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.ENOENT):
		return errNotMounted
	}
	return err
}
