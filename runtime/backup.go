package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"cells/modules/archive"
	"cells/runtime/paths"
)

// BackupKind is what a backup holds: a volume or a cell's overlay.
type BackupKind int

const (
	// VolumeBackup archives <volumes>/<name>.
	VolumeBackup BackupKind = iota
	// OverlayBackup archives <cells>/<name>/overlay, the cell's own
	// writable tree (on Linux upper/ and work/ of its overlayfs).
	OverlayBackup
)

// Label is the word of messages: "volume" or "overlay".
func (k BackupKind) Label() string {
	if k == OverlayBackup {
		return "overlay"
	}
	return "volume"
}

// Group is the command group and the list column: "volume" or "cell".
func (k BackupKind) Group() string {
	if k == OverlayBackup {
		return "cell"
	}
	return "volume"
}

// Dirs are the directories archives of this kind are looked up in, in
// order: volumes also have upstream's legacy location, the backup dir.
func (k BackupKind) Dirs(p paths.Paths) []string {
	if k == OverlayBackup {
		return []string{p.OverlayBackups()}
	}
	return []string{p.VolumeBackups(), p.BackupDir}
}

// Target is the directory a backup of name archives.
func (k BackupKind) Target(p paths.Paths, name string) string {
	if k == OverlayBackup {
		return p.CellOverlay(name)
	}
	return p.Volume(name)
}

func (k BackupKind) invalidName(name string) error {
	return fmt.Errorf("invalid %s name: %s", k.Group(), name)
}

func (k BackupKind) notFound(name string) error {
	return fmt.Errorf("runtime %s not found: %s", k.Label(), name)
}

// archiveOptions are the archive rules of the kind. Absolute link targets
// are kept for both: a volume and an overlay are only ever seen from
// inside a cell, where "/" is the cell root, and the host never follows
// links in them. Overlays keep the whiteouts of overlayfs.
func (k BackupKind) archiveOptions() archive.Options {
	return archive.Options{
		AbsoluteLinks: true,
		Whiteouts:     k == OverlayBackup && whiteoutsSupported,
		Owners:        os.Geteuid() == 0,
	}
}

// Backup is one archive of a volume or an overlay.
type Backup struct {
	Name      string // the volume or cell
	Timestamp string // YYYYmmddHHMMSS, local time of the backup
	Size      int64  // bytes of the archive
	Archive   string // path
}

// tsLayout is the time format of archive names.
const tsLayout = "20060102150405"

// archivePattern matches the archive names of name: <name>_<ts>.tar.gz.
func archivePattern(name string) *regexp.Regexp {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `_([0-9]{14})\.tar\.gz$`)
}

// ListBackups returns the archives of name, newest first (by the
// timestamp of the name; the primary directory before the legacy one).
func ListBackups(p paths.Paths, k BackupKind, name string) ([]Backup, error) {
	if !storageNameValid(name) {
		return nil, k.invalidName(name)
	}
	re := archivePattern(name)
	var out []Backup
	for _, dir := range k.Dirs(p) {
		ents, err := os.ReadDir(dir)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s backup list: %w", k.Label(), err)
		}
		for _, e := range ents {
			m := re.FindStringSubmatch(e.Name())
			if m == nil || !e.Type().IsRegular() {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue
			}
			out = append(out, Backup{Name: name, Timestamp: m[1], Size: fi.Size(), Archive: filepath.Join(dir, e.Name())})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Timestamp > out[j].Timestamp })
	return out, nil
}

// ResolveArchive finds the archive a restore, delete or verify of name
// acts on (reference §5.2): the newest with latest or no arg; else arg as a
// path; else arg as a name in each backup directory. The result must be a
// regular file named <name>_<ts>.tar.gz whose real path lies in one of the
// kind's backup directories. op names the operation in messages.
func ResolveArchive(p paths.Paths, k BackupKind, name, arg string, latest bool, op string) (string, error) {
	if !storageNameValid(name) {
		return "", k.invalidName(name)
	}
	if latest && arg != "" {
		return "", fmt.Errorf("%s backup %s: --latest cannot be combined with explicit archive path", k.Group(), op)
	}
	var path string
	if arg == "" {
		list, err := ListBackups(p, k, name)
		if err != nil {
			return "", err
		}
		if len(list) == 0 {
			return "", fmt.Errorf("no backups found for %s %s", k.Label(), name)
		}
		path = list[0].Archive
	} else if fi, err := os.Stat(arg); err == nil {
		if !fi.Mode().IsRegular() {
			return "", fmt.Errorf("backup archive is not a regular file: %s", arg)
		}
		path = arg
	} else {
		for _, dir := range k.Dirs(p) {
			c := filepath.Join(dir, arg)
			if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
				path = c
				break
			}
		}
		if path == "" {
			return "", fmt.Errorf("backup archive not found or unreadable: %s", arg)
		}
	}
	if !archivePattern(name).MatchString(filepath.Base(path)) {
		return "", fmt.Errorf("refusing %s backup %s for archive with invalid name pattern: %s", k.Label(), op, path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		return "", fmt.Errorf("backup archive not found or unreadable: %s", path)
	}
	for _, dir := range k.Dirs(p) {
		rd, err := filepath.EvalSymlinks(dir)
		if err != nil {
			continue
		}
		if rd, err = filepath.Abs(rd); err == nil && filepath.Dir(real) == rd {
			return real, nil
		}
	}
	return "", fmt.Errorf("refusing %s backup %s outside allowed backup directories: %s", k.Label(), op, path)
}

// openArchive opens a resolved archive without following a link (the name
// was resolved to its real path) and checks it is still a regular file:
// what is validated and extracted is this descriptor's bytes.
func openArchive(path string) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("backup archive not found or unreadable: %s", path)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("backup archive is not a regular file: %s", path)
	}
	return f, fi.Size(), nil
}

// DeleteBackup resolves and deletes an archive of name and returns its
// path. The caller has asked for --yes.
func DeleteBackup(p paths.Paths, k BackupKind, name, arg string, latest bool) (string, error) {
	path, err := ResolveArchive(p, k, name, arg, latest, "delete")
	if err != nil {
		return "", err
	}
	if err := os.Remove(path); err != nil {
		return "", fmt.Errorf("failed to delete backup archive: %s", path)
	}
	fsyncDir(filepath.Dir(path))
	return path, nil
}

// VerifyBackup resolves an archive of name and checks it with the rules
// of a restore, writing nothing. It returns the path and the counts.
func VerifyBackup(o StorageOptions, k BackupKind, name, arg string, latest bool) (string, archive.Stats, error) {
	s, err := newStorage(o)
	if err != nil {
		return "", archive.Stats{}, err
	}
	path, err := ResolveArchive(s.p, k, name, arg, latest, "verify")
	if err != nil {
		return "", archive.Stats{}, err
	}
	f, size, err := openArchive(path)
	if err != nil {
		return "", archive.Stats{}, err
	}
	defer f.Close()
	opts := k.archiveOptions()
	opts.MaxBytes, err = restoreLimit("")
	if err != nil {
		return "", archive.Stats{}, err
	}
	pr := startProgress(o.Progress, "verify "+filepath.Base(path), size)
	st, err := archive.Check(pr.reader(f), opts)
	pr.stop()
	if err != nil {
		return "", st, fmt.Errorf("%s backup verify %s: %w", k.Label(), path, err)
	}
	return path, st, nil
}

// trimNL drops a trailing newline of a message.
func trimNL(s string) string { return strings.TrimSuffix(s, "\n") }
