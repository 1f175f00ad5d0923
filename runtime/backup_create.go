package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cells/modules/archive"
)

// CreateBackup archives the volume or overlay of name into
// <backups>/<volumes|overlays>/<name>_<YYYYmmddHHMMSS>.tar.gz (local time)
// and returns its path and counts. The archive is written under a
// temporary name in the same directory, fsynced, and linked to its final
// name, which fails if that exists: there is never a partial archive under
// a final name, and an archive is never overwritten. An overlay is refused
// while its cell runs or its tree is mounted; a volume is archived live,
// as upstream.
func CreateBackup(o StorageOptions, k BackupKind, name string) (string, archive.Stats, error) {
	var st archive.Stats
	s, err := newStorage(o)
	if err != nil {
		return "", st, err
	}
	if !storageNameValid(name) {
		return "", st, k.invalidName(name)
	}
	target := k.Target(s.p, name)
	if err := recoverRestore(target, s.logf); err != nil {
		return "", st, err
	}
	if !dirExists(target) {
		return "", st, k.notFound(name)
	}
	if k == OverlayBackup {
		if busy, err := s.overlayBusy(name); err != nil {
			return "", st, err
		} else if busy {
			return "", st, fmt.Errorf("cannot backup overlay %s: cell is running or overlay is mounted", name)
		}
	}
	dir := k.Dirs(s.p)[0]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", st, fmt.Errorf("cannot create %s: %w", dir, err)
	}
	base := name + "_" + time.Now().Format(tsLayout) + ".tar.gz"
	final := filepath.Join(dir, base)
	if _, err := os.Lstat(final); err == nil {
		return "", st, fmt.Errorf("backup archive already exists: %s", final)
	}
	removeStaleTemps(dir, name)
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return "", st, fmt.Errorf("%s backup create: %w", k.Label(), err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	pr := startProgress(o.Progress, "backup "+name, 0)
	bw := bufio.NewWriterSize(pr.writer(tmp), 1<<20)
	st, err = archive.Create(bw, target, archive.CreateOptions{
		AbsoluteLinks: true,
		Whiteouts:     k == OverlayBackup && whiteoutsSupported,
		Warn: func(format string, args ...any) {
			s.logf("warn: %s backup %s: %s", k.Label(), name, fmt.Sprintf(format, args...))
		},
	})
	if err == nil {
		err = bw.Flush()
	}
	pr.stop()
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", st, fmt.Errorf("%s backup create %s: %w", k.Label(), name, err)
	}
	// link(2) refuses an existing name: the final name is taken
	// atomically, never overwritten.
	if err := os.Link(tmp.Name(), final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", st, fmt.Errorf("backup archive already exists: %s", final)
		}
		return "", st, fmt.Errorf("%s backup create %s: %w", k.Label(), name, err)
	}
	ok = true
	os.Remove(tmp.Name())
	fsyncDir(dir)
	return final, st, nil
}

// removeStaleTemps removes temporary archives of name that a killed
// backup left behind.
func removeStaleTemps(dir, name string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, "."+name+"_") && strings.Contains(n, ".tar.gz.tmp-") && e.Type().IsRegular() {
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Minute {
				os.Remove(filepath.Join(dir, n))
			}
		}
	}
}

// overlayBusy reports whether cell name runs or its overlay or root is
// mounted.
func (s *storage) overlayBusy(name string) (bool, error) {
	if run, err := s.cellRunning(name); err != nil || run {
		return run, err
	}
	l := Layout(s.p, name)
	for _, d := range []string{l.Overlay, l.Root} {
		if _, ok, err := MountedUnder(d); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}
