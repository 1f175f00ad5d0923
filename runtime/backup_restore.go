package runtime

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"cells/modules/archive"
)

// restoreLimit is the expanded size a restore accepts: the environment's
// CELLMAN_RESTORE_MAX_BYTES, else archive.DefaultMaxBytes, and never more
// than the free space below dir (when dir is given).
func restoreLimit(dir string) (int64, error) {
	limit := archive.DefaultMaxBytes
	if v := os.Getenv("CELLMAN_RESTORE_MAX_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("invalid CELLMAN_RESTORE_MAX_BYTES: %s", v)
		}
		limit = n
	}
	if dir != "" {
		if free, err := freeBytes(dir); err == nil && free < limit {
			limit = free
		}
	}
	return limit, nil
}

// RestoreBackup replaces the volume or overlay of name with the contents
// of an archive (resolved as ResolveArchive does) and returns its path.
// The caller has asked for --yes. Refused while the volume is mounted, or
// while the cell runs or its overlay or root is mounted. The archive is
// validated while it is extracted into a staging directory next to the
// live one; only a complete, valid extraction is swapped in (see
// backup_swap.go): a bad archive leaves the live data untouched.
func RestoreBackup(o StorageOptions, k BackupKind, name, arg string, latest bool) (string, error) {
	s, err := newStorage(o)
	if err != nil {
		return "", err
	}
	path, err := ResolveArchive(s.p, k, name, arg, latest, "restore")
	if err != nil {
		return "", err
	}
	target := k.Target(s.p, name)
	safeRoot := s.p.VolumesDir
	if k == OverlayBackup {
		safeRoot = s.p.CellsDir
	}
	if !withinDir(target, safeRoot) || target == safeRoot {
		return "", fmt.Errorf("refusing to restore into unsafe %s path: %s", k.Label(), target)
	}
	if err := recoverRestore(target, s.logf); err != nil {
		return "", err
	}
	if err := s.restoreBusy(k, name); err != nil {
		return "", err
	}
	parent := filepath.Dir(target)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("cannot create %s: %w", parent, err)
	}
	f, size, err := openArchive(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	limit, err := restoreLimit(parent)
	if err != nil {
		return "", err
	}
	staging, err := os.MkdirTemp(parent, filepath.Base(target)+stagingInfix+"*")
	if err != nil {
		return "", fmt.Errorf("%s backup restore: %w", k.Label(), err)
	}
	fail := func(err error) (string, error) {
		if rerr := removeTree(staging, false); rerr != nil {
			s.logf("warn: %v", rerr)
		}
		return "", err
	}
	// The live directory's own mode and owner, unless the archive has
	// its "./" entry.
	if fi, err := os.Lstat(target); err == nil && fi.IsDir() {
		os.Chmod(staging, fi.Mode()&(os.ModePerm|os.ModeSticky))
		if sys, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
			os.Lchown(staging, int(sys.Uid), int(sys.Gid))
		}
	} else {
		os.Chmod(staging, 0o755)
	}
	opts := k.archiveOptions()
	opts.MaxBytes = limit
	pr := startProgress(o.Progress, "restore "+name, size)
	_, err = archive.Extract(pr.reader(bufio.NewReaderSize(f, 1<<20)), staging, opts)
	pr.stop()
	if err != nil {
		return fail(fmt.Errorf("%s backup restore %s: %w", k.Label(), path, err))
	}
	if err := syncFS(staging); err != nil {
		return fail(err)
	}
	restorePause("extracted")
	// A cell may have started while the archive was extracted.
	s.listed = false
	if err := s.restoreBusy(k, name); err != nil {
		return fail(err)
	}
	if err := swapIn(target, staging); err != nil {
		return fail(err)
	}
	return path, nil
}

// restoreBusy refuses a restore while its data is in use.
func (s *storage) restoreBusy(k BackupKind, name string) error {
	if k == OverlayBackup {
		busy, err := s.overlayBusy(name)
		if err != nil {
			return err
		}
		if busy {
			return fmt.Errorf("cannot restore overlay %s: cell is running or overlay is mounted", name)
		}
		return nil
	}
	_, ok, err := MountedUnder(k.Target(s.p, name))
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("cannot restore runtime volume %s: currently mounted", name)
	}
	return nil
}
