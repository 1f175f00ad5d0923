package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"cells/runtime/paths"
)

// Lock is the exclusive apply lock: an flock(2) on
// <prefix>/var/run/cellman/apply.lock. The kernel drops it when the process
// dies, so a killed apply never leaves a stale lock. The file records the
// holder as one line "pid=<p> op=<op> user=<u> started=<RFC 3339 UTC>".
type Lock struct {
	f *os.File
}

// LockPath is the apply lock file.
func LockPath(p paths.Paths) string { return filepath.Join(p.RunDir, "apply.lock") }

// AcquireLock takes the apply lock for op ("apply", "cell plan run", ...)
// without waiting. When another process holds it the error reads
// "apply lock held by pid <p> (<op>, started <t>)".
func AcquireLock(p paths.Paths, op string) (*Lock, error) {
	path := LockPath(p)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("apply lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("apply lock: %w", err)
	}
	// LOCK_NB: a second apply reports the holder instead of queueing.
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, lockHeld(f)
		}
		return nil, fmt.Errorf("apply lock: %s: %w", path, err)
	}
	who := "?"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	line := fmt.Sprintf("pid=%d op=%s user=%s started=%s\n", os.Getpid(), strings.ReplaceAll(op, " ", "_"),
		who, time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(line), 0)
		f.Sync()
	}
	return &Lock{f: f}, nil
}

// lockHeld reads the holder record of a held lock.
func lockHeld(f *os.File) error {
	b := make([]byte, 512)
	n, _ := f.ReadAt(b, 0)
	rec := map[string]string{}
	for _, field := range strings.Fields(string(b[:n])) {
		if k, v, ok := strings.Cut(field, "="); ok {
			rec[k] = v
		}
	}
	pid, op, at := rec["pid"], strings.ReplaceAll(rec["op"], "_", " "), rec["started"]
	if _, err := strconv.Atoi(pid); err != nil {
		return errors.New("apply lock held by another process")
	}
	return fmt.Errorf("apply lock held by pid %s (%s, started %s)", pid, op, at)
}

// Release drops the lock. The holder record stays (it is only read while
// the lock is held).
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	l.f.Close()
	l.f = nil
}
