package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// A restore never mixes old and new contents: it extracts into a staging
// directory next to the live one (same file system), then swaps them with
// two renames:
//
//	<dir>.restore~N  staging, filled and validated
//	<dir>         -> <dir>.old~N   (1)
//	<dir>.restore~N -> <dir>       (2), fsync of the parent
//	<dir>.old~N   removed
//
// After a crash at any point, recoverRestore finds either the live
// directory (the swap happened, or never started: leftovers are removed)
// or only <dir>.old~N (killed between (1) and (2): it is renamed back).
// The '~' keeps these names out of the valid object names, so read views
// never list them as volumes.

const (
	stagingInfix = ".restore~"
	oldInfix     = ".old~"
)

// isRestoreLeftover reports whether a directory name is a staging or old
// tree of a restore.
func isRestoreLeftover(name string) bool {
	return strings.Contains(name, stagingInfix) || strings.Contains(name, oldInfix)
}

// recoverRestore settles the leftovers of an interrupted restore of dir.
func recoverRestore(dir string, logf func(string, ...any)) error {
	parent, base := filepath.Split(dir)
	ents, err := os.ReadDir(parent)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore recovery: %w", err)
	}
	var olds, stagings []string
	for _, e := range ents {
		switch n := e.Name(); {
		case strings.HasPrefix(n, base+oldInfix):
			olds = append(olds, filepath.Join(parent, n))
		case strings.HasPrefix(n, base+stagingInfix):
			stagings = append(stagings, filepath.Join(parent, n))
		}
	}
	if len(olds) == 0 && len(stagings) == 0 {
		return nil
	}
	sort.Strings(olds)
	if _, err := os.Lstat(dir); os.IsNotExist(err) && len(olds) > 0 {
		if err := os.Rename(olds[0], dir); err != nil {
			return fmt.Errorf("restore recovery: %w", err)
		}
		if err := fsyncDir(parent); err != nil {
			return err
		}
		logf("warn: interrupted restore of %s rolled back to the previous contents", dir)
		olds = olds[1:]
	}
	for _, d := range append(olds, stagings...) {
		if err := removeTree(d, false); err != nil {
			return fmt.Errorf("restore recovery: %w", err)
		}
	}
	return nil
}

// recoverAll settles the leftovers of every interrupted restore of the
// directories in parent (before listing them).
func recoverAll(parent string, logf func(string, ...any)) error {
	ents, err := os.ReadDir(parent)
	if err != nil {
		return nil // nothing to settle in a missing or unreadable dir
	}
	done := map[string]bool{}
	for _, e := range ents {
		n := e.Name()
		i := strings.Index(n, stagingInfix)
		if j := strings.Index(n, oldInfix); i < 0 || (j >= 0 && j < i) {
			i = j
		}
		if i <= 0 || done[n[:i]] {
			continue
		}
		done[n[:i]] = true
		if err := recoverRestore(filepath.Join(parent, n[:i]), logf); err != nil {
			return err
		}
	}
	return nil
}

// fsyncDir fsyncs a directory so the renames in it are durable.
func fsyncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// swapIn replaces dir with the filled staging directory (see above); dir
// may be missing. The old tree is removed last.
func swapIn(dir, staging string) error {
	parent := filepath.Dir(dir)
	if _, err := os.Lstat(dir); os.IsNotExist(err) {
		if err := os.Rename(staging, dir); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		return fsyncDir(parent)
	}
	old, err := unusedName(dir + oldInfix)
	if err != nil {
		return err
	}
	if err := os.Rename(dir, old); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	restorePause("moved-old")
	if err := os.Rename(staging, dir); err != nil {
		if rerr := os.Rename(old, dir); rerr != nil {
			return fmt.Errorf("restore: %w (and rolling back: %v)", err, rerr)
		}
		return fmt.Errorf("restore: %w", err)
	}
	if err := fsyncDir(parent); err != nil {
		return err
	}
	restorePause("swapped")
	return removeTree(old, false)
}

// unusedName returns prefix plus a number naming nothing yet.
func unusedName(prefix string) (string, error) {
	for i := 0; i < 100; i++ {
		n := fmt.Sprintf("%s%d%d", prefix, time.Now().UnixNano()%1e9, i)
		if _, err := os.Lstat(n); errors.Is(err, os.ErrNotExist) {
			return n, nil
		}
	}
	return "", fmt.Errorf("restore: no free name for %s*", prefix)
}

// restorePause is a test hook: with CELLMAN_TEST_RESTORE_PAUSE=<step> the
// restore announces the step on stderr and stops there for a minute, so a
// test can SIGKILL it at that point.
func restorePause(step string) {
	if os.Getenv("CELLMAN_TEST_RESTORE_PAUSE") != step {
		return
	}
	fmt.Fprintf(os.Stderr, "restore paused at %s\n", step)
	time.Sleep(time.Minute)
}
