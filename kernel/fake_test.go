package kernel

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func openTestFake(t *testing.T) (Driver, string) {
	t.Helper()
	dir := t.TempDir()
	d, err := OpenFake(Options{StateDir: filepath.Join(dir, "state")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "srv"), 0o755); err != nil {
		t.Fatal(err)
	}
	return d, root
}

func TestFakeCreateValidation(t *testing.T) {
	d, root := openTestFake(t)
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if id, err := d.Create(CreateSpec{Name: "web", Root: root, Ports: []uint16{80, 443}}); err != nil || id != 1 {
		t.Fatalf("create web = %d, %v; want 1, nil", id, err)
	}
	tests := []struct {
		name     string
		spec     CreateSpec
		sentinel error
		errno    syscall.Errno
	}{
		{"empty name", CreateSpec{Name: "", Root: root}, ErrInvalid, syscall.EINVAL},
		{"bad name", CreateSpec{Name: "a/b", Root: root}, ErrInvalid, syscall.EINVAL},
		{"long name", CreateSpec{Name: strings.Repeat("a", NameMax+1), Root: root}, ErrInvalid, syscall.EINVAL},
		{"empty root", CreateSpec{Name: "x", Root: ""}, ErrInvalid, syscall.EINVAL},
		{"long root", CreateSpec{Name: "x", Root: "/" + strings.Repeat("a", RootMax)}, ErrInvalid, syscall.EINVAL},
		{"control root", CreateSpec{Name: "x", Root: root + "\t"}, ErrInvalid, syscall.EINVAL},
		{"missing root", CreateSpec{Name: "x", Root: root + "/nope"}, ErrInvalid, syscall.ENOENT},
		{"file root", CreateSpec{Name: "x", Root: file}, ErrInvalid, syscall.ENOTDIR},
		{"bad profile", CreateSpec{Name: "x", Root: root, ProfileSet: true, Profile: 3}, ErrInvalid, syscall.EINVAL},
		{"port 0", CreateSpec{Name: "x", Root: root, Ports: []uint16{0}}, ErrInvalid, syscall.EINVAL},
		{"dup port", CreateSpec{Name: "x", Root: root, Ports: []uint16{8, 8}}, ErrInvalid, syscall.EINVAL},
		{"33 ports", CreateSpec{Name: "x", Root: root, Ports: make([]uint16, 33)}, ErrInvalid, syscall.EINVAL},
		{"dup name", CreateSpec{Name: "web", Root: root}, ErrExist, syscall.EEXIST},
		{"port taken", CreateSpec{Name: "x", Root: root, Ports: []uint16{443}}, ErrExist, syscall.EEXIST},
	}
	for _, tc := range tests {
		_, err := d.Create(tc.spec)
		if !errors.Is(err, tc.sentinel) || !errors.Is(err, tc.errno) {
			t.Errorf("%s: err = %v; want %v and errno %v", tc.name, err, tc.sentinel, tc.errno)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fake kernel: ") {
			t.Errorf("%s: err %q lacks context", tc.name, err)
		}
	}
	// Failed creates consume no id.
	if id, err := d.Create(CreateSpec{Name: "db", Root: root}); err != nil || id != 2 {
		t.Fatalf("create db = %d, %v; want 2, nil", id, err)
	}
}

func TestFakeIDsNeverReused(t *testing.T) {
	d, root := openTestFake(t)
	for want := uint32(1); want <= 3; want++ {
		id, err := d.Create(CreateSpec{Name: "c", Root: root})
		if err != nil || id != want {
			t.Fatalf("create = %d, %v; want %d", id, err, want)
		}
		if err := d.Destroy(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Destroy(3); !errors.Is(err, ErrNotExist) || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("destroy destroyed = %v; want ErrNotExist", err)
	}
	if err := d.Destroy(0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("destroy 0 = %v; want ErrInvalid", err)
	}
	// A second driver on the same state sees the persisted counter.
	d2, err := OpenFake(Options{StateDir: d.(*fakeDriver).dir})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := d2.Create(CreateSpec{Name: "c", Root: root}); err != nil || id != 4 {
		t.Fatalf("create after reopen = %d, %v; want 4", id, err)
	}
}

func TestFakeListOrderAgeAndFields(t *testing.T) {
	d, root := openTestFake(t)
	t.Setenv(FakeNowEnv, "1000")
	nofile := Rlimit{Set: true, Value: 64}
	if _, err := d.Create(CreateSpec{Name: "a", Root: root, ProfileSet: true, Profile: ProfileLow, Ports: []uint16{8080}, Rlimits: Rlimits{Nofile: nofile}}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(FakeNowEnv, "1010")
	if _, err := d.Create(CreateSpec{Name: "b", Root: root}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(FakeNowEnv, "1042")
	cells, err := d.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 2 || cells[0].ID != 1 || cells[1].ID != 2 {
		t.Fatalf("list = %+v", cells)
	}
	a, b := cells[0], cells[1]
	if a.Age != 42 || b.Age != 32 {
		t.Errorf("ages = %d, %d; want 42, 32", a.Age, b.Age)
	}
	if a.Name != "a" || a.Root != root || a.Profile != ProfileLow || !a.ProfileSet || len(a.Ports) != 1 || a.Ports[0] != 8080 || a.Rlimits.Nofile != nofile {
		t.Errorf("cell a = %+v", a)
	}
	if b.Profile != ProfileHigh || b.ProfileSet || b.Rlimits.Nofile.Set {
		t.Errorf("cell b defaults = %+v", b)
	}
	if a.Procs != 0 || a.Refs != 0 {
		t.Errorf("idle cell has members: %+v", a)
	}
}

func TestFakeExecBusyAndStatus(t *testing.T) {
	d, root := openTestFake(t)
	id, err := d.Create(CreateSpec{Name: "run", Root: root})
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	p, err := d.Exec(id, ExecSpec{
		Argv:   []string{"sh", "-c", `pwd; echo "$FOO"; read x; exit 7`},
		Env:    []string{"PATH=/usr/bin:/bin", "FOO=bar"},
		Dir:    "/srv",
		Stdout: out,
	})
	if err != nil {
		t.Fatal(err)
	}
	// A nil Stdin is /dev/null, so "read" returns at once.
	st, err := p.Wait()
	if err != nil || st.Code != 7 || st.Signal != 0 {
		t.Fatalf("wait = %+v, %v; want code 7", st, err)
	}
	b, _ := os.ReadFile(out.Name())
	if want := filepath.Join(root, "srv") + "\nbar\n"; string(b) != want {
		t.Errorf("output %q; want %q", b, want)
	}

	// A running member makes the cell busy and is counted.
	p, err = d.Exec(id, ExecSpec{Argv: []string{"sleep", "30"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Signal(syscall.SIGKILL); p.Wait() })
	cells, err := d.List()
	if err != nil {
		t.Fatal(err)
	}
	if cells[0].Procs != 1 || cells[0].Refs != 1 {
		t.Errorf("procs/refs = %d/%d; want 1/1", cells[0].Procs, cells[0].Refs)
	}
	if err := d.Destroy(id); !errors.Is(err, ErrBusy) || !errors.Is(err, syscall.EBUSY) {
		t.Fatalf("destroy with member = %v; want ErrBusy", err)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	st, err = p.Wait()
	if err != nil || st.Signal != int(syscall.SIGTERM) {
		t.Fatalf("wait = %+v, %v; want SIGTERM", st, err)
	}
	if err := d.Destroy(id); err != nil {
		t.Fatalf("destroy after exit: %v", err)
	}
	if _, err := d.Exec(id, ExecSpec{Argv: []string{"true"}}); !errors.Is(err, ErrNotExist) {
		t.Fatalf("exec in destroyed cell = %v; want ErrNotExist", err)
	}
}

func TestFakeExecNotFoundAndZombie(t *testing.T) {
	d, root := openTestFake(t)
	id, err := d.Create(CreateSpec{Name: "z", Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(id, ExecSpec{Argv: []string{"no-such-command-xyz"}}); err == nil {
		t.Fatal("exec of a missing command succeeded")
	}
	p, err := d.Exec(id, ExecSpec{Argv: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Wait() })
	// Unreaped, the member is a zombie: a reference, not a process, and
	// the cell stays busy (as ci_refcount upstream).
	deadline := time.Now().Add(5 * time.Second)
	for {
		cells, err := d.List()
		if err != nil {
			t.Fatal(err)
		}
		if cells[0].Procs == 0 {
			if cells[0].Refs != 1 {
				t.Fatalf("zombie refs = %d; want 1", cells[0].Refs)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("member never became a zombie")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := d.Destroy(id); !errors.Is(err, ErrBusy) {
		t.Fatalf("destroy with zombie = %v; want ErrBusy", err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := d.Destroy(id); err != nil {
		t.Fatalf("destroy after reap: %v", err)
	}
}

func TestOpenSelectsFake(t *testing.T) {
	t.Setenv("CELLS_DRIVER", "fake")
	d, err := Open(Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "fake" {
		t.Fatalf("name = %q", d.Name())
	}
}

// Concurrent creates through separate drivers (as separate cellctl
// processes would be) serialise on the lock: every id is handed out once.
func TestFakeConcurrentCreates(t *testing.T) {
	d, root := openTestFake(t)
	dir := d.(*fakeDriver).dir
	const n = 16
	ids := make(chan uint32, n)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			di, err := OpenFake(Options{StateDir: dir})
			if err != nil {
				errs <- err
				return
			}
			id, err := di.Create(CreateSpec{Name: "c" + strconv.Itoa(i), Root: root})
			if err != nil {
				errs <- err
				return
			}
			ids <- id
		}(i)
	}
	seen := map[uint32]bool{}
	for i := 0; i < n; i++ {
		select {
		case err := <-errs:
			t.Fatal(err)
		case id := <-ids:
			if seen[id] || id < 1 || id > n {
				t.Fatalf("id %d handed out twice or out of range", id)
			}
			seen[id] = true
		}
	}
	cells, err := d.List()
	if err != nil || len(cells) != n {
		t.Fatalf("list: %d cells, %v; want %d", len(cells), err, n)
	}
}

func TestFakeMemberMemory(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc/<pid>/stat: the fake reports no memory")
	}
	d, root := openTestFake(t)
	id, err := d.Create(CreateSpec{Name: "m", Root: root})
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.Exec(id, ExecSpec{Argv: []string{"sleep", "30"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Signal(syscall.SIGKILL); p.Wait() })
	cells, err := d.List()
	if err != nil {
		t.Fatal(err)
	}
	if cells[0].Memory == 0 {
		t.Errorf("memory of a running member = 0; want its virtual size")
	}
}
