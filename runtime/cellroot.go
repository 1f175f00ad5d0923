package runtime

import (
	"path/filepath"

	"cells/runtime/paths"
)

// CellLayout is the runtime directory of one cell:
//
//	<prefix>/var/cellman/cells/<name>/
//	  root/            the cell root: a mount point, empty while stopped
//	  overlay/         the cell's own writable tree (upstream's name)
//	    upper/         Linux: the overlayfs upper layer, every file the cell
//	                   wrote or changed relative to the base (what a backup
//	                   of the overlay must keep)
//	    work/          Linux: overlayfs's scratch directory (same file
//	                   system as upper/; an overlay backup carries it along,
//	                   overlayfs empties it at the next mount)
//	  state/           hash files of the apply engine
//
// On Linux root/ is an overlayfs (lower = the base layer, upper and work as
// above) mounted in the host's mount namespace, with the host's real system
// directories (HostSystemDirs) bound read-only, nosuid, nodev on top; the
// kernel driver adds /dev and /proc inside the cell's own namespace. On
// NetBSD root/ is a read-only null mount of the base, overlay/ is
// null-mounted at root/.overlay (the base's writable names are links into
// it) and root/dev is a tmpfs, as upstream (reference §6.1).
type CellLayout struct {
	Dir     string // cells/<name>
	Root    string // cells/<name>/root
	Overlay string // cells/<name>/overlay
	Upper   string // cells/<name>/overlay/upper (Linux)
	Work    string // cells/<name>/overlay/work (Linux)
	State   string // cells/<name>/state
}

// Layout returns the runtime directories of cell name.
func Layout(p paths.Paths, name string) CellLayout {
	ov := p.CellOverlay(name)
	return CellLayout{
		Dir:     p.CellDir(name),
		Root:    p.CellRoot(name),
		Overlay: ov,
		Upper:   filepath.Join(ov, "upper"),
		Work:    filepath.Join(ov, "work"),
		State:   p.CellState(name),
	}
}

// mountLog records the mounts one operation made, so a failure can undo
// exactly those, newest first.
type mountLog struct {
	points []string
}

func (l *mountLog) add(point string) { l.points = append(l.points, point) }

// rollback unmounts what was recorded, in reverse order. It returns the
// first failure; it goes on past failures to undo as much as it can.
func (l *mountLog) rollback(logf func(string, ...any)) error {
	var first error
	for i := len(l.points) - 1; i >= 0; i-- {
		if err := unmountPoint(l.points[i], logf); err != nil && first == nil {
			first = err
		}
	}
	l.points = nil
	return first
}
