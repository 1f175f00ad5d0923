//go:build linux

package kernel

import (
	"bytes"
	"os"
	"strings"
	"testing"
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
	if got := strings.TrimSpace(out.String()); got != "SigIgn:\t0000000000000000" {
		t.Fatalf("a cell process ignores signals: %q", got)
	}
}
