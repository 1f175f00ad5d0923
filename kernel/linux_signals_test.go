//go:build linux

package kernel

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLinuxNoIgnoredSignals: a process started in a cell ignores no signal.
// The holder drops the signals sent to it, but by catching them: ignored
// dispositions would pass through fork and exec to every process of the
// cell (no Ctrl-C in a shell, SIGTERM lost on a service).
func TestLinuxNoIgnoredSignals(t *testing.T) {
	d := lxTestDriver(t)
	id := lxCreate(t, d, "sigs", lxTestRoot(t), ProfileHigh)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := d.Exec(id, ExecSpec{Argv: []string{"grep", "^SigIgn:", "/proc/self/status"}, Stdout: w})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	out.ReadFrom(r)
	if st, err := p.Wait(); err != nil || !st.Success() {
		t.Fatalf("grep: %+v %v", st, err)
	}
	// Only the signals the holder drops are checked: whatever the test
	// run itself inherited as ignored may pass through.
	hex := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out.String()), "SigIgn:"))
	mask, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		t.Fatalf("SigIgn: %q: %v", out.String(), err)
	}
	for _, sig := range []unix.Signal{unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2,
		unix.SIGPIPE, unix.SIGTERM, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU} {
		if mask&(1<<(uint(sig)-1)) != 0 {
			t.Errorf("a cell process ignores %v (SigIgn %s)", sig, hex)
		}
	}
}
