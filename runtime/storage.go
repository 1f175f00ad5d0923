package runtime

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"cells/kernel"
	"cells/runtime/paths"
	"cells/spec"
)

// The storage commands (reference §2.4 remove, §2.5, §2.7 reset, §5):
// volume create/remove, cell remove, system reset and the backups of
// volumes and overlays. Everything that deletes data is refused while the
// data is mounted or its cell runs (DESIGN difference 3); trees are removed
// descriptor by descriptor and never across a mount (peers C.2, Bastille
// #662).

// StorageOptions configure the storage operations.
type StorageOptions struct {
	Paths paths.Paths
	// Logf receives log lines ("info: ...", "warn: ..."); nil discards them.
	Logf func(format string, args ...any)
	// Progress is where long backups and restores show their progress;
	// only a terminal gets it. nil shows none.
	Progress io.Writer
	// Driver is the kernel bridge; nil opens the system's for the prefix.
	Driver kernel.Driver
}

// storage is one storage call with its resources.
type storage struct {
	o      StorageOptions
	p      paths.Paths
	logf   func(string, ...any)
	active []kernel.Cell
	listed bool
}

func newStorage(o StorageOptions) (*storage, error) {
	s := &storage{o: o, logf: o.Logf}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	p := o.Paths
	if p.Prefix == "" {
		p = paths.FromEnv() // paths.New makes the prefix absolute
	}
	s.p = p
	return s, nil
}

// storageNameValid is upstream's naming rule without "." and "..", which
// would name the parent directories themselves.
func storageNameValid(s string) bool {
	return spec.ValidName(s) && s != "." && s != ".."
}

// kernelCells lists the active kernel cells once per call (fail closed: a
// kernel that cannot be listed refuses the operation).
func (s *storage) kernelCells() ([]kernel.Cell, error) {
	if s.listed {
		return s.active, nil
	}
	d := s.o.Driver
	if d == nil {
		var err error
		if d, err = kernel.Open(kernel.Options{StateDir: s.p.KernelState()}); err != nil {
			return nil, fmt.Errorf("kernel: %w", err)
		}
		defer d.Close()
	}
	cells, err := d.List()
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	s.active, s.listed = cells, true
	return cells, nil
}

// cellRunning reports whether a kernel cell is named name or has its root
// in the runtime directory of cell name.
func (s *storage) cellRunning(name string) (bool, error) {
	cells, err := s.kernelCells()
	if err != nil {
		return false, err
	}
	dir := s.p.CellDir(name)
	for _, k := range cells {
		if k.Name == name || withinDir(filepath.Clean(k.Root), dir) {
			return true, nil
		}
	}
	return false, nil
}

// MountedUnder returns the first (shortest) path at or below dir that the
// host's mounts involve: a mount point, the source directory of a bind or
// null mount, or a layer of an overlay mount. ok is false when nothing
// below dir is mounted.
func MountedUnder(dir string) (string, bool, error) {
	return mountedBelow(dir, false)
}

// mountedBelow is MountedUnder; with belowOnly a mount exactly at dir is
// ignored (a tree that is its own file system, emptied but kept).
func mountedBelow(dir string, belowOnly bool) (string, bool, error) {
	dirs := []string{filepath.Clean(dir)}
	if real, err := filepath.EvalSymlinks(dir); err == nil && real != dirs[0] {
		dirs = append(dirs, real)
	}
	set, err := Mounts()
	if err != nil {
		return "", false, err
	}
	var hits []string
	for p := range set {
		for _, d := range dirs {
			if withinDir(p, d) && !(belowOnly && p == d) {
				hits = append(hits, p)
			}
		}
	}
	table, err := readMountTable()
	if err != nil {
		return "", false, err
	}
	for _, e := range table {
		for _, opt := range strings.Split(e.Opts, ",") {
			k, v, _ := strings.Cut(opt, "=")
			if k != "lowerdir" && k != "upperdir" && k != "workdir" {
				continue
			}
			for _, layer := range strings.Split(v, ":") {
				for _, d := range dirs {
					if l := filepath.Clean(layer); layer != "" && withinDir(l, d) && !(belowOnly && l == d) {
						hits = append(hits, e.Point)
					}
				}
			}
		}
	}
	if len(hits) == 0 {
		return "", false, nil
	}
	sort.Slice(hits, func(i, j int) bool {
		if len(hits[i]) != len(hits[j]) {
			return len(hits[i]) < len(hits[j])
		}
		return hits[i] < hits[j]
	})
	return hits[0], true, nil
}

// runtimeDirs lists the subdirectories of dir: valid names, and the others
// (warned about by the callers). A missing dir has none.
func runtimeDirs(dir string) (valid, invalid []string, err error) {
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if isRestoreLeftover(e.Name()) {
			continue
		}
		if storageNameValid(e.Name()) {
			valid = append(valid, e.Name())
		} else {
			invalid = append(invalid, e.Name())
		}
	}
	return valid, invalid, nil
}

// dirExists reports whether path is a directory (not a link to one).
func dirExists(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.IsDir()
}
