//go:build linux

package kernel

import (
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLinuxCreateExecDestroy(t *testing.T) {
	d := lxTestDriver(t)
	root := lxTestRoot(t)
	id := lxCreate(t, d, "smoke", root, ProfileHigh)
	if got := lxOut(t, d, id, "cat", "/cell-marker"); got != "inside" {
		t.Fatalf("cell root: got %q", got)
	}
	if got := lxOut(t, d, id, "hostname"); got != "smoke" {
		t.Errorf("hostname: got %q, want smoke", got)
	}
	out, st := lxRun(t, d, id, ExecSpec{Argv: []string{"sh", "-c", "exit 3"}})
	if st.Code != 3 || st.Signal != 0 {
		t.Errorf("exit status: got %+v (%s), want code 3", st, out)
	}
	if _, err := d.Exec(id, ExecSpec{Argv: []string{"no-such-command"}}); err == nil || !strings.Contains(err.Error(), "no-such-command") {
		t.Errorf("exec of a missing command: got %v", err)
	}
	cells, err := d.List()
	if err != nil || len(cells) != 1 || cells[0].ID != id || cells[0].Name != "smoke" || cells[0].Root != root {
		t.Fatalf("list: %+v, %v", cells, err)
	}
	if err := d.Destroy(id); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if cells, _ := d.List(); len(cells) != 0 {
		t.Fatalf("list after destroy: %+v", cells)
	}
	if err := d.Destroy(id); !errors.Is(err, ErrNotExist) {
		t.Fatalf("destroy again: got %v, want ErrNotExist", err)
	}
}

func TestLinuxCreateValidation(t *testing.T) {
	d := lxTestDriver(t)
	root := lxTestRoot(t)
	file := root + "/cell-marker"
	cases := []struct {
		spec  CreateSpec
		want  error
		errno syscall.Errno
	}{
		{CreateSpec{Name: "", Root: root}, ErrInvalid, syscall.EINVAL},
		{CreateSpec{Name: "bad/name", Root: root}, ErrInvalid, syscall.EINVAL},
		{CreateSpec{Name: strings.Repeat("n", 64), Root: root}, ErrInvalid, syscall.EINVAL},
		{CreateSpec{Name: "r", Root: "/" + strings.Repeat("r", 255)}, ErrInvalid, syscall.EINVAL},
		{CreateSpec{Name: "r", Root: root + "/missing"}, ErrInvalid, syscall.ENOENT},
		{CreateSpec{Name: "r", Root: file}, ErrInvalid, syscall.ENOTDIR},
		{CreateSpec{Name: "r", Root: root + "\n"}, ErrInvalid, syscall.EINVAL},
		{CreateSpec{Name: "r", Root: root, Profile: 3, ProfileSet: true}, ErrInvalid, syscall.EINVAL},
		{CreateSpec{Name: "r", Root: root, Ports: []uint16{0}}, ErrInvalid, syscall.EINVAL},
		{CreateSpec{Name: "r", Root: root, Ports: []uint16{80, 80}}, ErrInvalid, syscall.EINVAL},
		{CreateSpec{Name: "r", Root: root, Rlimits: Rlimits{AS: Rlimit{Value: 5}}}, ErrInvalid, syscall.EINVAL},
	}
	for _, c := range cases {
		_, err := d.Create(c.spec)
		if !errors.Is(err, c.want) || !errors.Is(err, c.errno) {
			t.Errorf("create %q root %q: got %v, want %v (%v)", c.spec.Name, c.spec.Root, err, c.want, c.errno)
		}
	}
	id := lxCreate(t, d, "dup", root, ProfileHigh)
	if _, err := d.Create(CreateSpec{Name: "dup", Root: root}); !errors.Is(err, ErrExist) || !errors.Is(err, syscall.EEXIST) {
		t.Errorf("duplicate name: got %v, want ErrExist", err)
	}
	if cells, _ := d.List(); len(cells) != 1 || cells[0].ID != id || cells[0].Profile != ProfileHigh {
		t.Errorf("failed creates left cells behind: %+v", cells)
	}
}

// TestLinuxIDsNeverReused: ids grow across destroy and across re-opening
// the driver on the same state directory.
func TestLinuxIDsNeverReused(t *testing.T) {
	d := lxTestDriver(t)
	root := lxTestRoot(t)
	a := lxCreate(t, d, "a", root, ProfileHigh)
	if err := d.Destroy(a); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(Options{StateDir: d.st.dir})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	b := lxCreate(t, d2, "a", root, ProfileHigh)
	if b <= a {
		t.Fatalf("id after destroy and re-open: %d, previous %d", b, a)
	}
	if err := d2.Destroy(b); err != nil {
		t.Fatal(err)
	}
	c := lxCreate(t, d, "a", root, ProfileHigh)
	if c <= b {
		t.Fatalf("id %d after %d", c, b)
	}
}

// TestLinuxCrashedHolder: a holder that died takes its cell with it; List
// does not show it, its cgroup goes, and the name is free again.
func TestLinuxCrashedHolder(t *testing.T) {
	d := lxTestDriver(t)
	root := lxTestRoot(t)
	id := lxCreate(t, d, "crash", root, ProfileHigh)
	p, _ := lxStartSleeper(t, d, id)
	rec, err := d.st.record(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(rec.HolderPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The namespace's PID 1 is gone: the kernel kills the members too.
	if st, err := p.Wait(); err == nil && st.Signal == 0 {
		t.Errorf("member of a crashed cell: %+v", st)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		cells, err := d.List()
		if err != nil {
			t.Fatal(err)
		}
		if len(cells) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("crashed cell still listed: %+v", cells)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(rec.Cgroup); !os.IsNotExist(err) {
		t.Errorf("cgroup of the crashed cell: %v", err)
	}
	if err := d.Destroy(id); !errors.Is(err, ErrNotExist) {
		t.Errorf("destroy crashed cell: got %v, want ErrNotExist", err)
	}
	again := lxCreate(t, d, "crash", root, ProfileHigh)
	if again <= id {
		t.Errorf("id %d reused after %d", again, id)
	}
}

// TestLinuxRlimitsAndCred: the cell's rlimits apply unless NoRlimits, and
// the credentials take effect with no capabilities left.
func TestLinuxRlimitsAndCred(t *testing.T) {
	d := lxTestDriver(t)
	root := lxTestRoot(t)
	id, err := d.Create(CreateSpec{Name: "limits", Root: root, Rlimits: Rlimits{
		Nofile: Rlimit{Set: true, Value: 64},
		AS:     Rlimit{Set: true, Value: 512 << 20},
		Core:   Rlimit{Set: true, Value: 0},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := lxOut(t, d, id, "sh", "-c", "ulimit -n; ulimit -v; ulimit -c"); got != "64\n524288\n0" {
		t.Errorf("rlimits inside: got %q", got)
	}
	out, st := lxRun(t, d, id, ExecSpec{Argv: []string{"sh", "-c", "ulimit -n"}, NoRlimits: true})
	if !st.Success() || strings.TrimSpace(out) == "64" {
		t.Errorf("NoRlimits: got %q %+v", out, st)
	}
	out, st = lxRun(t, d, id, ExecSpec{
		Argv: []string{"sh", "-c", "id -u; id -g; id -G; pwd; grep CapEff /proc/self/status"},
		Cred: &Cred{UID: 65534, GID: 65534, Groups: []uint32{65534, 5}},
		Dir:  "/tmp",
		Env:  []string{"PATH=/bin"},
	})
	want := "65534\n65534\n65534 5\n/tmp\nCapEff:\t0000000000000000\n"
	if !st.Success() || out != want {
		t.Errorf("credentials: got %q %+v, want %q", out, st, want)
	}
	out, st = lxRun(t, d, id, ExecSpec{Path: "sh", Argv: []string{"-sh", "-c", "echo $0"}})
	if !st.Success() || out != "-sh\n" {
		t.Errorf("Path with argv[0] -sh: got %q %+v", out, st)
	}
	if got := lxOut(t, d, id, "env"); !strings.Contains(got, "PATH=") {
		t.Errorf("default environment: %q", got)
	}
}

// TestLinuxStdinAndSignal: stdin reaches the process, Signal ends it.
func TestLinuxStdinAndSignal(t *testing.T) {
	d := lxTestDriver(t)
	root := lxTestRoot(t)
	id := lxCreate(t, d, "stdio", root, ProfileHigh)
	inR, inW, _ := os.Pipe()
	outR, outW, _ := os.Pipe()
	p, err := d.Exec(id, ExecSpec{Argv: []string{"cat"}, Stdin: inR, Stdout: outW})
	inR.Close()
	outW.Close()
	if err != nil {
		t.Fatal(err)
	}
	inW.Write([]byte("hello cell\n"))
	inW.Close()
	b, _ := io.ReadAll(outR)
	outR.Close()
	if string(b) != "hello cell\n" {
		t.Errorf("cat: got %q", b)
	}
	if st, err := p.Wait(); err != nil || !st.Success() {
		t.Errorf("cat: %+v %v", st, err)
	}
	s, err := d.Exec(id, ExecSpec{Argv: []string{"sleep", "60"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Pid() <= 1 {
		t.Errorf("host pid: %d", s.Pid())
	}
	if err := s.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Wait(); err != nil || st.Signal != int(syscall.SIGTERM) {
		t.Errorf("terminated sleep: %+v %v", st, err)
	}
	if err := s.Signal(syscall.SIGTERM); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("signal after exit: %v", err)
	}
}

// TestLinuxCounters: CPU ticks, processes and memory move with the load.
func TestLinuxCounters(t *testing.T) {
	d := lxTestDriver(t)
	root := lxTestRoot(t)
	id := lxCreate(t, d, "load", root, ProfileHigh)
	p, err := d.Exec(id, ExecSpec{Argv: []string{"sh", "-c", "while :; do :; done"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Signal(syscall.SIGKILL); p.Wait() }()
	var c Cell
	deadline := time.Now().Add(6 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		cells, err := d.List()
		if err != nil || len(cells) != 1 {
			t.Fatalf("list: %+v %v", cells, err)
		}
		c = cells[0]
		if c.CPU1s >= 20 && c.CPU10s >= 10 && c.Age >= 2 {
			break
		}
	}
	if c.CPU1s < 20 || c.CPU10s < 10 || c.Procs != 1 || c.Refs != 1 || c.Memory == 0 || c.Age < 2 {
		t.Errorf("busy cell counters: %+v", c)
	}
}

// TestLinuxConcurrentCreate: creates from several driver instances at once
// get distinct ids; a name is taken once.
func TestLinuxConcurrentCreate(t *testing.T) {
	d := lxTestDriver(t)
	root := lxTestRoot(t)
	const n = 6
	ids := make(chan uint32, 2*n)
	errs := make(chan error, 2*n)
	done := make(chan struct{})
	for i := 0; i < n; i++ {
		go func(i int) {
			defer func() { done <- struct{}{} }()
			drv, err := Open(Options{StateDir: d.st.dir})
			if err != nil {
				errs <- err
				return
			}
			defer drv.Close()
			for _, name := range []string{"same", "own" + strconv.Itoa(i)} {
				id, err := drv.Create(CreateSpec{Name: name, Root: root})
				if err != nil {
					errs <- err
					continue
				}
				ids <- id
			}
		}(i)
	}
	for i := 0; i < n; i++ {
		<-done
	}
	close(ids)
	close(errs)
	seen := map[uint32]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("id %d handed out twice", id)
		}
		seen[id] = true
	}
	exist := 0
	for err := range errs {
		if !errors.Is(err, ErrExist) {
			t.Errorf("unexpected error: %v", err)
		}
		exist++
	}
	if len(seen) != n+1 || exist != n-1 {
		t.Errorf("%d cells created, %d name conflicts; want %d and %d", len(seen), exist, n+1, n-1)
	}
	if cells, err := d.List(); err != nil || len(cells) != n+1 {
		t.Errorf("list: %d cells, %v", len(cells), err)
	}
}
