package cellabi

import (
	"errors"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func enterSetup(t *testing.T) (*FakeKernel, *recSys, *InitRequest) {
	t.Helper()
	k := newFake(t)
	a := mkCreate(t, "a", "/cells/a")
	id, err := (Driver{k}).Create(a)
	if err != nil {
		t.Fatal(err)
	}
	s := newRecSys(k)
	s.files["/usr/bin/id"] = 0o755
	s.files["/bin/id"] = 0o755
	s.files["/bin/noexec"] = 0o644
	s.files["/usr/bin/dir"] = fsDir
	req := &InitRequest{
		Version: InitRequestVersion, ID: id, Root: "/cells/a",
		Argv: []string{"id", "-u"}, Env: []string{"HOME=/", "PATH=/usr/local/bin:rel:/usr/bin:/bin"},
		Dir:  "/srv",
		Cred: &InitCred{UID: 1000, GID: 100, Groups: []uint32{100, 5}},
		Rlimits: []InitRlimit{
			{ResourceNofile, 256}, {ResourceAS, RlimitInfinity}, {ResourceCore, 0},
		},
	}
	return k, s, req
}

const fsDir = 1 << 31 // fs.ModeDir

func TestRunInitOrder(t *testing.T) {
	k, s, req := enterSetup(t)
	s.fds[3] = false // inherited: must be closed
	s.fds[4] = true  // the status pipe (kept)
	s.fds[5] = true  // close-on-exec: this process's own (the runtime poller)
	s.fds[7] = false // inherited
	if err := RunInit(s, req, []int{4}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"close 3", "close 7",
		"chroot /cells/a", "chdir /srv",
		"sysctl security.models.cell.id=1",
		"setgroups [100 5]", "setgid 100",
		"prepare /usr/bin/id",
		"setrlimit nofile 256", "setrlimit as 18446744073709551615", "setrlimit core 0",
		"setuid 1000",
		`exec /usr/bin/id ["id" "-u"] ["HOME=/" "PATH=/usr/local/bin:rel:/usr/bin:/bin"]`,
	}
	if !reflect.DeepEqual(s.log, want) {
		t.Fatalf("steps:\n got %q\nwant %q", s.log, want)
	}
	if c := k.Caller(); c.Cell != 1 || c.EUID != 1000 || c.Root != "/cells/a" {
		t.Fatalf("caller after enter: %+v", c)
	}
	if _, ok := s.fds[4]; !ok {
		t.Fatal("status fd closed")
	}
	if _, ok := s.fds[5]; !ok {
		t.Fatal("close-on-exec fd closed under the runtime")
	}
}

func TestRunInitDefaults(t *testing.T) {
	_, s, req := enterSetup(t)
	req.Cred, req.Rlimits, req.Dir, req.Env = nil, nil, "", nil
	req.Argv = []string{"id"}
	if err := RunInit(s, req, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"chroot /cells/a", "chdir /", "sysctl security.models.cell.id=1", "prepare /usr/bin/id", `exec /usr/bin/id ["id"] []`}
	if !reflect.DeepEqual(s.log, want) {
		t.Fatalf("steps:\n got %q\nwant %q", s.log, want)
	}
}

func TestRunInitPathSeparateFromArgv0(t *testing.T) {
	_, s, req := enterSetup(t)
	req.Cred, req.Rlimits, req.Env = nil, nil, nil
	req.Path, req.Argv = "id", []string{"-id", "-u"}
	if err := RunInit(s, req, nil); err != nil {
		t.Fatal(err)
	}
	if last := s.log[len(s.log)-1]; last != `exec /usr/bin/id ["-id" "-u"] []` {
		t.Fatalf("exec step %q", last)
	}
	_, s, req = enterSetup(t)
	req.Path, req.Argv = "", []string{""}
	if err := RunInit(s, req, nil); err == nil || err.Error() != "enter cell 1: bad request: empty command" {
		t.Fatalf("empty program: %v", err)
	}
	_, s, req = enterSetup(t)
	req.Path, req.Argv = "id", []string{""}
	if err := RunInit(s, req, nil); err != nil {
		t.Fatalf("empty argv[0] with a path: %v", err)
	}
}

func TestRunInitRelativeDirStaysInside(t *testing.T) {
	_, s, req := enterSetup(t)
	req.Dir = "../../etc"
	if err := RunInit(s, req, nil); err != nil {
		t.Fatal(err)
	}
	if !contains2(s.log, "chdir /etc") {
		t.Fatalf("steps %q", s.log)
	}
}

func contains2(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestRunInitFailures(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(s *recSys, r *InitRequest)
		msg     string
		errno   syscall.Errno
		notDone string // a step that must not have happened
	}{
		{"close", func(s *recSys, r *InitRequest) { s.fds[9] = false; s.fail["close"] = syscall.EIO },
			"enter cell 1: close inherited descriptors: close 9: input/output error", syscall.EIO, "chroot"},
		{"chroot before rlimits", func(s *recSys, r *InitRequest) { s.fail["chroot"] = syscall.EPERM },
			"enter cell 1: chroot /cells/a: operation not permitted", syscall.EPERM, "setrlimit"},
		{"setrlimit", func(s *recSys, r *InitRequest) { s.fail["setrlimit as"] = syscall.EPERM },
			"enter cell 1: setrlimit as: operation not permitted", syscall.EPERM, "setuid"},
		{"prepare", func(s *recSys, r *InitRequest) { s.fail["prepare"] = syscall.EINVAL },
			"enter cell 1: exec /usr/bin/id: invalid argument", syscall.EINVAL, "setrlimit"},
		{"chroot", func(s *recSys, r *InitRequest) { s.fail["chroot"] = syscall.ENOENT },
			"enter cell 1: chroot /cells/a: no such file or directory", syscall.ENOENT, "sysctl"},
		{"chdir", func(s *recSys, r *InitRequest) { s.fail["chdir"] = syscall.ENOTDIR },
			"enter cell 1: chdir /srv: not a directory", syscall.ENOTDIR, "sysctl"},
		{"destroyed meanwhile", func(s *recSys, r *InitRequest) { r.ID = 2 },
			"enter cell 2: write security.models.cell.id: no such file or directory", syscall.ENOENT, "setgroups"},
		{"wrong root", func(s *recSys, r *InitRequest) { r.Root = "/cells/b" },
			"enter cell 1: write security.models.cell.id: operation not permitted", syscall.EPERM, "setgroups"},
		{"setgroups", func(s *recSys, r *InitRequest) { s.fail["setgroups"] = syscall.EINVAL },
			"enter cell 1: setgroups: invalid argument", syscall.EINVAL, "setgid"},
		{"setgid", func(s *recSys, r *InitRequest) { s.fail["setgid"] = syscall.EPERM },
			"enter cell 1: setgid 100: operation not permitted", syscall.EPERM, "setrlimit"},
		{"setuid", func(s *recSys, r *InitRequest) { s.fail["setuid"] = syscall.EAGAIN },
			"enter cell 1: setuid 1000: resource temporarily unavailable", syscall.EAGAIN, "exec"},
		{"not in PATH", func(s *recSys, r *InitRequest) { r.Argv = []string{"nope"} },
			`enter cell 1: exec nope: exec: "nope": executable file not found in $PATH`, 0, "setrlimit"},
		{"not executable", func(s *recSys, r *InitRequest) { r.Argv = []string{"noexec"} },
			`enter cell 1: exec noexec: exec: "noexec": executable file not found in $PATH`, 0, "exec"},
		{"directory", func(s *recSys, r *InitRequest) { r.Argv = []string{"dir"} },
			`enter cell 1: exec dir: exec: "dir": executable file not found in $PATH`, 0, "exec"},
		{"relative PATH entry ignored", func(s *recSys, r *InitRequest) { s.files["rel/tool"] = 0o755; r.Argv = []string{"tool"} },
			`enter cell 1: exec tool: exec: "tool": executable file not found in $PATH`, 0, "exec"},
		{"exec", func(s *recSys, r *InitRequest) { s.fail["exec"] = syscall.EACCES; r.Argv = []string{"/bin/x"} },
			"enter cell 1: exec /bin/x: permission denied", syscall.EACCES, ""},
		{"bad request", func(s *recSys, r *InitRequest) { r.Argv = nil },
			"enter cell 1: bad request: empty command", 0, "close"},
		{"bad version", func(s *recSys, r *InitRequest) { r.Version = 2 },
			"enter cell 1: bad request: request version 2, want 1", 0, "close"},
		{"relative root", func(s *recSys, r *InitRequest) { r.Root = "cells/a" },
			`enter cell 1: bad request: root "cells/a" is not absolute`, 0, "close"},
		{"host id", func(s *recSys, r *InitRequest) { r.ID = 0 },
			"enter cell 0: bad request: cell id 0 is the host", 0, "close"},
		{"unknown rlimit", func(s *recSys, r *InitRequest) { r.Rlimits = []InitRlimit{{"cpu", 1}} },
			`enter cell 1: bad request: unknown resource limit "cpu"`, 0, "close"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, s, req := enterSetup(t)
			tt.mod(s, req)
			err := RunInit(s, req, nil)
			if err == nil || err.Error() != tt.msg {
				t.Fatalf("err %v\nwant %s", err, tt.msg)
			}
			if tt.errno != 0 && !errors.Is(err, tt.errno) {
				t.Fatalf("err %v does not wrap %v", err, tt.errno)
			}
			if strings.Contains(tt.msg, "not found") && !errors.Is(err, exec.ErrNotFound) {
				t.Fatalf("err %v does not wrap exec.ErrNotFound", err)
			}
			if s.execd {
				t.Fatal("exec happened")
			}
			for _, l := range s.log {
				if tt.notDone != "" && strings.HasPrefix(l, tt.notDone) {
					t.Fatalf("step %q ran after the failure: %q", l, s.log)
				}
			}
		})
	}
}

func TestStatusRecord(t *testing.T) {
	var b strings.Builder
	err := RunInit(newRecSys(newFake(t)), &InitRequest{Version: 1, ID: 3, Root: "/nope", Argv: []string{"/bin/x"}}, nil)
	if err := writeStatus(&b, err); err != nil {
		t.Fatal(err)
	}
	got := parseStatus([]byte(b.String()))
	var ie *InitError
	if !errors.As(got, &ie) || !errors.Is(got, syscall.ENOENT) ||
		got.Error() != "enter cell 3: write security.models.cell.id: no such file or directory" {
		t.Fatalf("round trip: %#v", got)
	}
	b.Reset()
	_ = writeStatus(&b, &exec.Error{Name: "x", Err: exec.ErrNotFound})
	if got := parseStatus([]byte(b.String())); !errors.Is(got, syscall.ENOENT) {
		t.Fatalf("not found maps to ENOENT: %#v", got)
	}
	b.Reset()
	_ = writeStatus(&b, errors.New("plain"))
	if got := parseStatus([]byte(b.String())); errors.Unwrap(got) != nil || got.Error() != "plain" {
		t.Fatalf("plain error: %#v", got)
	}
	if got := parseStatus([]byte{1}); got == nil {
		t.Fatal("short status accepted")
	}
}

// nopSys counts calls without allocating.
type nopSys struct {
	recSys
	calls int
}

func (s *nopSys) Setrlimit(Resource, uint64) error { s.calls++; return nil }
func (s *nopSys) Setuid(uint32) error              { s.calls++; return nil }

func TestFinishInitDoesNotAllocate(t *testing.T) {
	s := &nopSys{}
	req := &InitRequest{Cred: &InitCred{UID: 1}, Rlimits: []InitRlimit{{ResourceNofile, 1}, {ResourceAS, 1 << 30}, {ResourceCore, 0}}}
	execve := func() error { s.calls++; return syscall.ENOEXEC }
	allocs := testing.AllocsPerRun(100, func() {
		if step, err := finishInit(s, req, execve); step != 4 || err != syscall.ENOEXEC {
			t.Fatalf("finishInit: %d %v", step, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("finishInit allocates %.1f times per run after the address-space limit", allocs)
	}
	if s.calls != 101*5 {
		t.Fatalf("%d calls", s.calls)
	}
}
