//go:build linux

package kernel

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lxStartSleeper starts "sleep 60" in a cell and returns it with its pid
// inside the cell; the caller kills it (a cleanup kills it regardless).
func lxStartSleeper(t *testing.T, d Driver, id uint32) (Process, int) {
	t.Helper()
	p, err := d.Exec(id, ExecSpec{Argv: []string{"sleep", "60"}})
	if err != nil {
		t.Fatalf("start sleeper: %v", err)
	}
	t.Cleanup(func() { p.Signal(os.Kill); p.Wait() })
	// The pid inside the cell, from the host's view of the namespaces.
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		t.Fatalf("sleeper status: %v", err)
	}
	inner := 0
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "NSpid:"); ok {
			f := strings.Fields(v)
			inner, _ = strconv.Atoi(f[len(f)-1])
		}
	}
	if inner == 0 {
		t.Fatalf("no NSpid for %d", p.Pid())
	}
	return p, inner
}

// TestLinuxIsolationMatrix runs the probes of every policy rule in a cell
// of each profile and checks what the profile allows and denies.
func TestLinuxIsolationMatrix(t *testing.T) {
	d := lxTestDriver(t)
	root := lxTestRoot(t)
	// A sibling cell with a running process: invisible from the others.
	sib := lxCreate(t, d, "sibling", root, ProfileLow)
	sibProc, sibInner := lxStartSleeper(t, d, sib)

	type want map[string]string // probe op -> expected output prefix
	deny := "err"
	cases := []struct {
		p    Profile
		want want
	}{
		{ProfileLow, want{"mount": "ok", "mknod": "ok", "mkfifo": "ok", "module": "err EPERM",
			"sysctl": "ok", "ipc": "ok", "chroot-escape": "inside", "dotdot": "inside"}},
		{ProfileMedium, want{"mount": "err EPERM", "mknod": "err EPERM", "mkfifo": "ok", "module": "err EPERM",
			"sysctl": deny, "ipc": "ok", "chroot-escape": "err EPERM", "dotdot": "inside"}},
		{ProfileHigh, want{"mount": "err EPERM", "mknod": "err EPERM", "mkfifo": "ok", "module": "err EPERM",
			"sysctl": deny, "ipc": "err EPERM", "chroot-escape": "err EPERM", "dotdot": "inside"}},
	}
	for _, tc := range cases {
		t.Run(tc.p.String(), func(t *testing.T) {
			id := lxCreate(t, d, "matrix-"+tc.p.String(), root, tc.p)
			for op, w := range tc.want {
				if got := lxOut(t, d, id, "probe", op); !strings.HasPrefix(got, w) {
					t.Errorf("%s: probe %s: got %q, want %q", tc.p, op, got, w)
				}
			}
			// Processes outside the cell: the host (this test) and the
			// sibling cell, by host pid and by the sibling's inner pid
			// (which inside this cell names nothing, or our own pid 1...).
			for _, pid := range []int{os.Getpid(), sibProc.Pid(), os.Getppid()} {
				for _, op := range []string{"kill", "ptrace"} {
					if got := lxOut(t, d, id, "probe", op, strconv.Itoa(pid)); got != "err ESRCH" {
						t.Errorf("%s: %s host pid %d: got %q, want err ESRCH", tc.p, op, pid, got)
					}
				}
			}
			_ = sibInner
			// The holder (PID 1) is neither traceable nor writable.
			if got := lxOut(t, d, id, "probe", "ptrace", "1"); got != "err EPERM" {
				t.Errorf("%s: ptrace of the holder: got %q, want err EPERM", tc.p, got)
			}
			if got := lxOut(t, d, id, "probe", "exe-write"); !strings.HasPrefix(got, "err") {
				t.Errorf("%s: open holder binary for write: got %q", tc.p, got)
			}
			// No host descriptor leaks: 0-2 plus the directory being read.
			fds := strings.Fields(lxOut(t, d, id, "probe", "fds"))
			for _, f := range fds {
				n, link, _ := strings.Cut(f, "=")
				if n == "0" || n == "1" || n == "2" {
					continue
				}
				if !strings.HasPrefix(link, "/proc/") || !strings.HasSuffix(link, "/fd") {
					t.Errorf("%s: leaked descriptor %s", tc.p, f)
				}
			}
			if len(fds) > 4 {
				t.Errorf("%s: descriptors inside: %v", tc.p, fds)
			}
			caps := lxOut(t, d, id, "probe", "caps")
			if !strings.Contains(caps, "Seccomp:\t2") {
				t.Errorf("%s: no seccomp filter: %s", tc.p, caps)
			}
			if nnp := strings.Contains(caps, "NoNewPrivs:\t1"); nnp != (tc.p == ProfileHigh) {
				t.Errorf("%s: no_new_privs %v: %s", tc.p, nnp, caps)
			}
			if err := d.Destroy(id); err != nil {
				t.Errorf("destroy: %v", err)
			}
		})
	}
}

// TestLinuxProcessVisibility: ps inside shows only the cell's processes.
func TestLinuxProcessVisibility(t *testing.T) {
	d := lxTestDriver(t)
	root := lxTestRoot(t)
	id := lxCreate(t, d, "ps", root, ProfileHigh)
	other := lxCreate(t, d, "other", root, ProfileHigh)
	lxStartSleeper(t, d, other)
	_, inner := lxStartSleeper(t, d, id)
	out := lxOut(t, d, id, "ps", "-o", "pid,comm")
	lines := strings.Split(out, "\n")[1:]
	pids := map[string]string{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 2 {
			pids[f[0]] = f[1]
		}
	}
	// PID 1 (the holder), the sleeper, ps itself: nothing else.
	if len(pids) != 3 || pids["1"] == "" || pids[strconv.Itoa(inner)] != "sleep" {
		t.Fatalf("ps in cell shows %v, want the holder, sleep (%d) and ps:\n%s", pids, inner, out)
	}
}

// TestLinuxDestroyBusy: destroy is refused while a member runs (also a
// zombie), and succeeds once it is gone.
func TestLinuxDestroyBusy(t *testing.T) {
	d := lxTestDriver(t)
	root := lxTestRoot(t)
	id := lxCreate(t, d, "busy", root, ProfileMedium)
	p, _ := lxStartSleeper(t, d, id)
	if err := d.Destroy(id); !lxIsBusy(err) {
		t.Fatalf("destroy with a running member: got %v, want ErrBusy", err)
	}
	// A zombie: "sleep 0" exits and its parent never reaps it.
	z, err := d.Exec(id, ExecSpec{Argv: []string{"sh", "-c", "sleep 0 & exec sleep 60"}})
	if err != nil {
		t.Fatal(err)
	}
	var c Cell
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		cells, err := d.List()
		if err != nil {
			t.Fatal(err)
		}
		c = cells[0]
		if c.Procs == 2 && c.Refs == 3 { // sh has to fork, exec, and sleep 0 to end
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c.Procs != 2 || c.Refs != 3 || c.Memory == 0 {
		t.Errorf("counters with two sleepers and a zombie: procs %d refs %d memory %d", c.Procs, c.Refs, c.Memory)
	}
	p.Signal(os.Kill)
	p.Wait()
	if err := d.Destroy(id); !lxIsBusy(err) {
		t.Fatalf("destroy with a zombie: got %v, want ErrBusy", err)
	}
	z.Signal(os.Kill)
	if st, err := z.Wait(); err != nil || st.Signal != 9 {
		t.Errorf("killed process: %+v, %v", st, err)
	}
	if err := d.Destroy(id); err != nil {
		t.Fatalf("destroy after the members exited: %v", err)
	}
	if cells, _ := d.List(); len(cells) != 0 {
		t.Fatalf("cell still listed: %+v", cells)
	}
}

func lxIsBusy(err error) bool {
	return err != nil && strings.Contains(err.Error(), "member") && errorsIs(err, ErrBusy)
}
