// Package paths derives every on-disk location of Cells from one prefix, the
// environment variable CELLMAN_PREFIX (empty means "/"), so tests, demos and
// unprivileged previews run anywhere. CELLMAN_DSL_DIR overrides the DSL
// directory as upstream. It imports nothing else of this project.
package paths

import (
	"os"
	"path/filepath"
)

// Paths are the locations of one installation.
type Paths struct {
	Prefix string // "/" or the CELLMAN_PREFIX value, cleaned

	DSLDir     string // /etc/cellman (or CELLMAN_DSL_DIR)
	ConfFile   string // /etc/cellman.conf
	VarDir     string // /var/cellman
	BaseDir    string // /var/cellman/base
	ReleaseDir string // /var/cellman/releases
	CellsDir   string // /var/cellman/cells
	VolumesDir string // /var/cellman/volumes
	StateDir   string // /var/cellman/state (driver state, id counter, locks)
	BackupDir  string // /var/backups/cellman
	RunDir     string // /var/run/cellman (pidfiles, sockets)
}

// FromEnv returns the paths for the current environment.
func FromEnv() Paths {
	return New(os.Getenv("CELLMAN_PREFIX"), os.Getenv("CELLMAN_DSL_DIR"))
}

// New returns the paths under prefix (made absolute); dslDir, when non-empty, overrides the
// DSL directory verbatim (as upstream, it is not relocated by the prefix).
func New(prefix, dslDir string) Paths {
	if prefix == "" {
		prefix = "/"
	}
	// Kernel roots and mount tables hold absolute paths: a relative
	// prefix is taken against the working directory once, here.
	if abs, err := filepath.Abs(prefix); err == nil {
		prefix = abs
	}
	prefix = filepath.Clean(prefix)
	j := func(p string) string { return filepath.Join(prefix, p) }
	p := Paths{
		Prefix:     prefix,
		DSLDir:     j("/etc/cellman"),
		ConfFile:   j("/etc/cellman.conf"),
		VarDir:     j("/var/cellman"),
		BaseDir:    j("/var/cellman/base"),
		ReleaseDir: j("/var/cellman/releases"),
		CellsDir:   j("/var/cellman/cells"),
		VolumesDir: j("/var/cellman/volumes"),
		StateDir:   j("/var/cellman/state"),
		BackupDir:  j("/var/backups/cellman"),
		RunDir:     j("/var/run/cellman"),
	}
	if dslDir != "" {
		p.DSLDir = dslDir
	}
	return p
}

// CellDir is /var/cellman/cells/<name>.
func (p Paths) CellDir(name string) string { return filepath.Join(p.CellsDir, name) }

// CellRoot is /var/cellman/cells/<name>/root.
func (p Paths) CellRoot(name string) string { return filepath.Join(p.CellsDir, name, "root") }

// CellOverlay is /var/cellman/cells/<name>/overlay.
func (p Paths) CellOverlay(name string) string {
	return filepath.Join(p.CellsDir, name, "overlay")
}

// CellState is /var/cellman/cells/<name>/state (the hash files).
func (p Paths) CellState(name string) string { return filepath.Join(p.CellsDir, name, "state") }

// Volume is /var/cellman/volumes/<name>.
func (p Paths) Volume(name string) string { return filepath.Join(p.VolumesDir, name) }

// VolumeBackups is /var/backups/cellman/volumes.
func (p Paths) VolumeBackups() string { return filepath.Join(p.BackupDir, "volumes") }

// OverlayBackups is /var/backups/cellman/overlays.
func (p Paths) OverlayBackups() string { return filepath.Join(p.BackupDir, "overlays") }

// KernelState is where the kernel driver keeps its state.
func (p Paths) KernelState() string { return filepath.Join(p.StateDir, "kernel") }
