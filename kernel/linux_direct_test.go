//go:build linux

package kernel

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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

// TestLinuxCellsDirectory: Cells names what List lists, from the records,
// and leaves out a cell whose holder died.
func TestLinuxCellsDirectory(t *testing.T) {
	d := lxTestDriver(t)
	root := lxTestRoot(t)
	a := lxCreate(t, d, "dir-a", root, ProfileHigh)
	b := lxCreate(t, d, "dir-b", root, ProfileLow)
	names := func(cells []Cell) string {
		var s []string
		for _, c := range cells {
			s = append(s, fmt.Sprintf("%d:%s:%s:%d", c.ID, c.Name, c.Root, c.Profile))
		}
		return strings.Join(s, " ")
	}
	listed, err := d.List()
	if err != nil {
		t.Fatal(err)
	}
	named, err := d.Cells()
	if err != nil {
		t.Fatal(err)
	}
	if names(named) != names(listed) || len(named) != 2 {
		t.Fatalf("Cells %q, List %q", names(named), names(listed))
	}
	rec, err := d.st.record(a)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Kill(rec.HolderPid, syscall.SIGKILL)
	for i := 0; i < 100; i++ {
		if named, _ = d.Cells(); len(named) == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(named) != 1 || named[0].ID != b {
		t.Fatalf("after the holder of %d died: %q", a, names(named))
	}
}

// TestLinuxHolderOutOfReach: while processes are started in a cell, as
// root and as another user, that user cannot signal or limit any thread of
// the holder (a holder thread with the user's uid could be); and the
// cell's root, which can, kills the holder with none of the signals the Go
// runtime would die of when they come from kill(2).
func TestLinuxHolderOutOfReach(t *testing.T) {
	d := lxTestDriver(t)
	id := lxCreate(t, d, "reach", lxTestRoot(t), ProfileHigh)
	nobody := &Cred{UID: 65534, GID: 65534, Groups: []uint32{65534}}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	attacker, err := d.Exec(id, ExecSpec{Argv: []string{"/bin/probe", "holder-attack", "1500"}, Cred: nobody, Stdout: w, Stderr: w})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if out, st := lxRun(t, d, id, ExecSpec{Argv: []string{"true"}, Cred: nobody}); !st.Success() {
			t.Fatalf("exec as nobody %d: %q %+v", i, out, st)
		}
		lxOut(t, d, id, "true")
	}
	var buf strings.Builder
	b := make([]byte, 256)
	for {
		n, err := r.Read(b)
		buf.Write(b[:n])
		if err != nil {
			break
		}
	}
	r.Close()
	attacker.Wait()
	if got := strings.TrimSpace(buf.String()); got != "hits 0" {
		t.Errorf("nobody against the holder's threads: %q, want hits 0", got)
	}
	if out := lxOut(t, d, id, "sh", "-c", "for s in ABRT SEGV BUS FPE ILL TRAP SYS QUIT TERM; do kill -$s 1; done; echo sent"); out != "sent" {
		t.Fatalf("signals from the cell's root: %q", out)
	}
	if out := lxOut(t, d, id, "sh", "-c", "ulimit -n"); out == "8" {
		t.Errorf("a process started after the attack has the attacker's limit: %q", out)
	}
	if out := lxOut(t, d, id, "echo", "alive"); out != "alive" {
		t.Fatalf("holder after the signals: %q", out)
	}
}
