//go:build linux

package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLinuxDirectExecThreads: the holder starts processes from threads it
// gives the target's identity, capabilities and filter, one thread per
// process, ended afterwards. Nothing of one start may carry over to the
// next, and the holder's own threads must keep theirs.
func TestLinuxDirectExecThreads(t *testing.T) {
	d := lxTestDriver(t)
	id := lxCreate(t, d, "threads", lxTestRoot(t), ProfileLow)
	nobody := &Cred{UID: 65534, GID: 65534, Groups: []uint32{65534}}
	status := []string{"sh", "-c", "id -u; grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status"}
	rootOut := lxOut(t, d, id, status...)
	for i := 0; i < 3; i++ {
		out, st := lxRun(t, d, id, ExecSpec{Argv: status, Cred: nobody})
		if !st.Success() || !strings.HasPrefix(out, "65534\nCapEff:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t2") {
			t.Fatalf("as nobody, round %d: %q %+v", i, out, st)
		}
		if got := lxOut(t, d, id, status...); got != rootOut {
			t.Fatalf("as root after nobody, round %d: %q, first %q", i, got, rootOut)
		}
	}
	if !strings.HasPrefix(rootOut, "0\n") || strings.Contains(rootOut, "CapEff:\t0000000000000000") {
		t.Fatalf("as root in a low cell: %q", rootOut)
	}
	// The holder's threads: root, not filtered.
	rec, err := d.st.record(id)
	if err != nil {
		t.Fatal(err)
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", rec.HolderPid))
	if len(tasks) == 0 {
		t.Fatal("no holder threads")
	}
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // a thread that just ended
		}
		s := string(b)
		if !strings.Contains(s, "\nSeccomp:\t0\n") || !strings.Contains(s, "\nUid:\t0\t0\t0\t0\n") {
			t.Errorf("holder thread %s changed:\n%s", f, s)
		}
	}
}
