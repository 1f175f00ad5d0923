package runtime

import (
	"fmt"
	"strconv"

	"cells/spec"
)

// CreateVolume ensures the directory of volume name (0755, then the octal
// mode when given), as upstream's `volume create`: runtime only, the DSL
// is not touched.
func CreateVolume(o StorageOptions, name, mode string) error {
	s, err := newStorage(o)
	if err != nil {
		return err
	}
	if !storageNameValid(name) {
		return fmt.Errorf("invalid volume name: %s", name)
	}
	if mode != "" {
		if m, err := strconv.ParseUint(mode, 8, 32); err != nil || m > 0o7777 {
			return fmt.Errorf("invalid volume mode: %s", mode)
		}
	}
	dir := s.p.Volume(name)
	if err := recoverRestore(dir, s.logf); err != nil {
		return err
	}
	if mode != "" {
		s.logf("info: volume runtime ensure %s mode=%s", dir, mode)
	} else {
		s.logf("info: volume runtime ensure %s", dir)
	}
	if err := EnsureVolumeDir(s.p, &spec.Volume{Name: name, Mode: mode}); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	return nil
}

// RemoveRequest selects what a remove deletes: one name, every runtime
// directory (All) or those without a declaration (Orphans).
type RemoveRequest struct {
	Name    string
	All     bool
	Orphans bool
	// Yes confirms the deletion; every remove needs it (DESIGN
	// difference 3).
	Yes bool
	// Force (cells only) stops a running cell and unmounts its root
	// first instead of refusing.
	Force bool
}

// selector is the option naming the request in messages.
func (r RemoveRequest) selector() string {
	switch {
	case r.All:
		return " --all"
	case r.Orphans:
		return " --orphans"
	}
	return ""
}

// RemoveVolumes deletes volume directories and returns how many. Nothing
// is deleted unless every selected volume may go: not referenced by a
// declared cell (`cannot remove volume <v>: referenced by cell <c>`) and
// nothing mounted at or below it (`cannot remove volume <v>: volume is
// mounted: <path>`).
func RemoveVolumes(o StorageOptions, r RemoveRequest) (int, error) {
	s, err := newStorage(o)
	if err != nil {
		return 0, err
	}
	if r.Name != "" && !storageNameValid(r.Name) {
		return 0, fmt.Errorf("invalid volume name: %s", r.Name)
	}
	if !r.Yes {
		return 0, fmt.Errorf("volume remove%s requires --yes in runtime mode", r.selector())
	}
	st, err := LoadState(s.p.DSLDir)
	if err != nil {
		return 0, err
	}
	var names []string
	if r.Name != "" {
		if err := recoverRestore(s.p.Volume(r.Name), s.logf); err != nil {
			return 0, err
		}
		if !dirExists(s.p.Volume(r.Name)) {
			return 0, fmt.Errorf("runtime volume not found: %s", r.Name)
		}
		names = []string{r.Name}
	} else {
		if err := recoverAll(s.p.VolumesDir, s.logf); err != nil {
			return 0, err
		}
		valid, invalid, err := runtimeDirs(s.p.VolumesDir)
		if err != nil {
			return 0, err
		}
		for _, n := range invalid {
			s.logf("warn: skipping invalid runtime volume directory name: %s", n)
		}
		for _, n := range valid {
			if r.Orphans && st.Volume(n) != nil {
				continue
			}
			names = append(names, n)
		}
	}
	for _, n := range names {
		if users := volumeUsers(st, n); len(users) > 0 {
			return 0, fmt.Errorf("cannot remove volume %s: referenced by cell %s", n, users[0])
		}
		if m, ok, err := MountedUnder(s.p.Volume(n)); err != nil {
			return 0, err
		} else if ok {
			return 0, fmt.Errorf("cannot remove volume %s: volume is mounted: %s", n, m)
		}
	}
	for i, n := range names {
		if err := recoverRestore(s.p.Volume(n), s.logf); err != nil {
			return i, err
		}
		s.logf("info: volume runtime remove %s", s.p.Volume(n))
		if err := removeTree(s.p.Volume(n), false); err != nil {
			return i, err
		}
	}
	return len(names), nil
}
