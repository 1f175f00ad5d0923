package kernel

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"cells/kernel/cellabi"
)

// The NetBSD driver against the fake secmodel_cell: everything but the raw
// syscalls runs here on any host.

func netbsdTestDriver(t *testing.T) (*netbsdDriver, *cellabi.FakeKernel, *uint64) {
	t.Helper()
	k := cellabi.NewFakeKernel()
	k.Stat = func(p string) (bool, error) {
		switch p {
		case "/cells/a", "/cells/b":
			return true, nil
		case "/cells/file":
			return false, nil
		}
		return false, fs.ErrNotExist
	}
	now := new(uint64)
	*now = 1_000_000_000_000
	k.Now = func() uint64 { return *now }
	d := newNetbsdDriver(k, func() uint64 { return *now }, "/usr/sbin/cellctl")
	d.start = func(*exec.Cmd, *cellabi.InitRequest) error {
		t.Fatal("unexpected exec")
		return nil
	}
	return d, k, now
}

// wantKernelErr checks sentinel, errno and message.
func wantKernelErr(t *testing.T, err, sentinel error, errno syscall.Errno, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", msg)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("%q does not match %v", err, sentinel)
	}
	if errno != 0 && !errors.Is(err, errno) {
		t.Errorf("%q does not match errno %d", err, int(errno))
	}
	if err.Error() != msg {
		t.Errorf("message %q\n         want %q", err, msg)
	}
}

func TestNetbsdCreateEncodesSpec(t *testing.T) {
	d, k, _ := netbsdTestDriver(t)
	id, err := d.Create(CreateSpec{
		Name: "web", Root: "/cells/a", Profile: ProfileMedium, ProfileSet: true,
		Ports:   []uint16{8080, 8443},
		Rlimits: Rlimits{Nofile: Rlimit{Set: true, Value: 4096}, Core: Rlimit{Set: true, Value: RlimitInfinity}},
	})
	if err != nil || id != 1 {
		t.Fatalf("Create: %d %v", id, err)
	}
	prof, ports, _ := k.Profile(1)
	if prof != uint32(ProfileMedium) || !reflect.DeepEqual(ports, []uint16{8080, 8443}) {
		t.Fatalf("profile %d ports %v", prof, ports)
	}
	id, err = d.Create(CreateSpec{Name: "db", Root: "/cells/b"})
	if err != nil || id != 2 {
		t.Fatalf("Create minimal: %d %v", id, err)
	}
	if prof, ports, _ := k.Profile(2); prof != uint32(ProfileHigh) || len(ports) != 0 {
		t.Fatalf("default profile %d ports %v", prof, ports)
	}
	cells, err := d.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 2 || cells[0].Rlimits.Nofile != (Rlimit{Set: true, Value: 4096}) ||
		cells[0].Rlimits.Core.Set || cells[0].Rlimits.AS.Set || cells[1].Rlimits != (Rlimits{}) {
		t.Fatalf("rlimits: %+v", cells)
	}
}

func TestNetbsdCreateErrors(t *testing.T) {
	d, k, _ := netbsdTestDriver(t)
	if _, err := d.Create(CreateSpec{Name: "a", Root: "/cells/a", Ports: []uint16{80}}); err != nil {
		t.Fatal(err)
	}
	_, err := d.Create(CreateSpec{Name: "a", Root: "/cells/b"})
	wantKernelErr(t, err, ErrExist, syscall.EEXIST, "create cell a: name exists (cell 1): "+syscall.EEXIST.Error())
	_, err = d.Create(CreateSpec{Name: "b", Root: "/cells/b", Ports: []uint16{81, 80}})
	wantKernelErr(t, err, ErrExist, syscall.EEXIST, "create cell b: a reserved port is taken by another cell: "+syscall.EEXIST.Error())
	_, err = d.Create(CreateSpec{Name: "b", Root: "/cells/none"})
	wantKernelErr(t, err, ErrInvalid, syscall.ENOENT, "create cell b: root /cells/none: "+syscall.ENOENT.Error())
	if errors.Is(err, ErrNotExist) {
		t.Error("a missing root is not a missing cell")
	}
	_, err = d.Create(CreateSpec{Name: "b", Root: "/cells/file"})
	wantKernelErr(t, err, ErrInvalid, syscall.ENOTDIR, "create cell b: root /cells/file: "+syscall.ENOTDIR.Error())
	_, err = d.Create(CreateSpec{Name: "b/c", Root: "/cells/b"})
	wantKernelErr(t, err, ErrInvalid, syscall.EINVAL, "create cell b/c: "+syscall.EINVAL.Error())
	_, err = d.Create(CreateSpec{Name: "b", Root: "/cells/b", Profile: 7, ProfileSet: true})
	wantKernelErr(t, err, ErrInvalid, syscall.EINVAL, "create cell b: "+syscall.EINVAL.Error())
	_, err = d.Create(CreateSpec{Name: strings.Repeat("n", 64), Root: "/cells/b"})
	wantKernelErr(t, err, ErrInvalid, syscall.EINVAL, "create cell "+strings.Repeat("n", 64)+": name too long (max 63)")
	_, err = d.Create(CreateSpec{Name: "b", Root: "/" + strings.Repeat("r", 255)})
	wantKernelErr(t, err, ErrInvalid, syscall.EINVAL, "create cell b: root too long (max 255)")
	_, err = d.Create(CreateSpec{Name: "b", Root: "/cells/b", Ports: make([]uint16, 33)})
	wantKernelErr(t, err, ErrInvalid, syscall.EINVAL, "create cell b: too many reserved ports (max 32)")
	k.SetCaller(cellabi.FakeCaller{EUID: 1000, Root: "/"})
	_, err = d.Create(CreateSpec{Name: "b", Root: "/cells/b"})
	wantKernelErr(t, err, ErrPermission, syscall.EPERM, "create cell b: "+syscall.EPERM.Error())
}

func TestNetbsdCreateMakesRootAbsolute(t *testing.T) {
	d, k, _ := netbsdTestDriver(t)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	var seen string
	k.Stat = func(p string) (bool, error) { seen = p; return true, nil }
	if _, err := d.Create(CreateSpec{Name: "rel", Root: "cells/x/"}); err != nil {
		t.Fatal(err)
	}
	if want := wd + "/cells/x"; seen != want {
		t.Fatalf("root sent %q, want %q", seen, want)
	}
}

func TestNetbsdDestroy(t *testing.T) {
	d, k, _ := netbsdTestDriver(t)
	members := uint64(0)
	k.Members = func(uint32) uint64 { return members }
	id, _ := d.Create(CreateSpec{Name: "a", Root: "/cells/a"})
	members = 2
	wantKernelErr(t, d.Destroy(id), ErrBusy, syscall.EBUSY, "destroy cell 1: "+syscall.EBUSY.Error())
	wantKernelErr(t, d.Destroy(0), ErrInvalid, syscall.EINVAL, "destroy cell 0: "+syscall.EINVAL.Error())
	wantKernelErr(t, d.Destroy(5), ErrNotExist, syscall.ENOENT, "destroy cell 5: "+syscall.ENOENT.Error())
	members = 0
	if err := d.Destroy(id); err != nil {
		t.Fatal(err)
	}
	if cells, _ := d.List(); len(cells) != 0 {
		t.Fatalf("cells after destroy: %+v", cells)
	}
}

func TestNetbsdListCounters(t *testing.T) {
	d, k, now := netbsdTestDriver(t)
	d.Create(CreateSpec{Name: "a", Root: "/cells/a",
		Rlimits: Rlimits{Nofile: Rlimit{Set: true, Value: 64}, AS: Rlimit{Set: true, Value: 1 << 30}}})
	*now += 2_500_000_000
	d.Create(CreateSpec{Name: "b", Root: "/cells/b"})
	k.SetCounters(1, cellabi.FakeCounters{Refcount: 4, ProcCurrent: 3, MemoryBytes: 123456, CPUTicks1s: 11, CPUTicks10s: 6})
	*now += 61_999_999_999
	cells, err := d.List()
	if err != nil {
		t.Fatal(err)
	}
	want := []Cell{
		{ID: 1, Name: "a", Root: "/cells/a", Refs: 4, Procs: 3, Memory: 123456, CPU1s: 11, CPU10s: 6, Age: 64,
			Rlimits: Rlimits{Nofile: Rlimit{Set: true, Value: 64}, AS: Rlimit{Set: true, Value: 1 << 30}}},
		{ID: 2, Name: "b", Root: "/cells/b", Age: 61},
	}
	if !reflect.DeepEqual(cells, want) {
		t.Fatalf("List:\n got %+v\nwant %+v", cells, want)
	}
	// A clock behind the creation time (another boot's value) is age 0.
	*now = 0
	if cells, _ := d.List(); cells[0].Age != 0 {
		t.Fatalf("age with a clock behind: %d", cells[0].Age)
	}
	k.SetCaller(cellabi.FakeCaller{EUID: 0, Cell: 1, Root: "/cells/a"})
	_, err = d.List()
	wantKernelErr(t, err, ErrPermission, syscall.EPERM, "list cells: "+syscall.EPERM.Error())
}

type netbsdBadList struct{}

func (netbsdBadList) Sysctl(name string, old []byte, oldlen *int, new []byte) error {
	*oldlen = 401
	return nil
}

func TestNetbsdListBadLength(t *testing.T) {
	d := newNetbsdDriver(netbsdBadList{}, func() uint64 { return 0 }, "x")
	_, err := d.List()
	if !errors.Is(err, cellabi.ErrListLength) || err.Error() != "list cells: unexpected cell list length" {
		t.Fatalf("List: %v", err)
	}
}

func TestNetbsdRlimitMapping(t *testing.T) {
	const f = cellabi.CreateRlimitAS
	for _, tt := range []struct {
		flags uint32
		v     uint64
		want  Rlimit
	}{
		{0, 0, Rlimit{}},
		{0, 99, Rlimit{}},
		{f, 0, Rlimit{Set: true, Value: 0}},
		{f, 99, Rlimit{Set: true, Value: 99}},
		{f, cellabi.RlimitInfinity, Rlimit{}},
	} {
		if got := netbsdRlimit(tt.flags, f, tt.v); got != tt.want {
			t.Errorf("flags %#x value %d: %+v, want %+v", tt.flags, tt.v, got, tt.want)
		}
	}
}

func TestNetbsdExecRequest(t *testing.T) {
	d, _, _ := netbsdTestDriver(t)
	id, _ := d.Create(CreateSpec{Name: "a", Root: "/cells/a",
		Rlimits: Rlimits{Nofile: Rlimit{Set: true, Value: 128}, Core: Rlimit{Set: true, Value: RlimitInfinity}}})
	var got *cellabi.InitRequest
	var cmd *exec.Cmd
	d.start = func(c *exec.Cmd, r *cellabi.InitRequest) error {
		cmd, got = c, r
		c.Path, c.Args = "/bin/sh", []string{"sh", "-c", "exit 3"}
		return c.Start()
	}
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	p, err := d.Exec(id, ExecSpec{Argv: []string{"httpd", "-f"}, Dir: "/srv", Stdout: out, Setsid: true,
		Cred: &Cred{UID: 80, GID: 81, Groups: []uint32{82}}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait()
	if err != nil || st != (ExitStatus{Code: 3}) {
		t.Fatalf("Wait: %+v %v", st, err)
	}
	if st2, _ := p.Wait(); st2 != st {
		t.Fatal("second Wait differs")
	}
	want := &cellabi.InitRequest{
		Version: cellabi.InitRequestVersion, ID: 1, Root: "/cells/a",
		Argv: []string{"httpd", "-f"}, Env: []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin", "HOME=/"}, Dir: "/srv",
		Cred:    &cellabi.InitCred{UID: 80, GID: 81, Groups: []uint32{82}},
		Rlimits: []cellabi.InitRlimit{{Resource: cellabi.ResourceNofile, Value: 128}, {Resource: cellabi.ResourceCore, Value: cellabi.RlimitInfinity}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("request:\n got %+v\nwant %+v", got, want)
	}
	if cmd.Stdout != out || cmd.Stdin != nil || cmd.Stderr != nil || len(cmd.Env) != 0 || cmd.Env == nil ||
		!cmd.SysProcAttr.Setsid || cmd.SysProcAttr.Setctty {
		t.Fatalf("helper command: %+v %+v", cmd, cmd.SysProcAttr)
	}

	// NoRlimits, an explicit environment, a tty.
	d.start = func(c *exec.Cmd, r *cellabi.InitRequest) error {
		got, cmd = r, c
		if c.Path != "/usr/sbin/cellctl" || !reflect.DeepEqual(c.Args, []string{InitArg0}) {
			t.Errorf("helper %s %q", c.Path, c.Args)
		}
		c.Path, c.Args = "/bin/sh", []string{"sh", "-c", "kill -TERM $$"}
		return c.Start()
	}
	p, err = d.Exec(id, ExecSpec{Argv: []string{"-sh"}, Path: "/bin/sh", Env: []string{"A=b"}, NoRlimits: true, Stdin: os.Stdin, Setctty: true})
	if err != nil {
		// Setctty needs a terminal on stdin; the request is what matters.
		if got == nil {
			t.Fatal(err)
		}
	} else if st, err := p.Wait(); err != nil || st != (ExitStatus{Signal: int(syscall.SIGTERM)}) {
		t.Fatalf("Wait: %+v %v", st, err)
	}
	if got.Rlimits != nil || !reflect.DeepEqual(got.Env, []string{"A=b"}) || got.Cred != nil ||
		got.Path != "/bin/sh" || !reflect.DeepEqual(got.Argv, []string{"-sh"}) {
		t.Fatalf("request: %+v", got)
	}
	if !cmd.SysProcAttr.Setsid || !cmd.SysProcAttr.Setctty || cmd.SysProcAttr.Ctty != 0 {
		t.Fatalf("tty attrs: %+v", cmd.SysProcAttr)
	}
}

func TestNetbsdExecErrors(t *testing.T) {
	d, _, _ := netbsdTestDriver(t)
	id, _ := d.Create(CreateSpec{Name: "a", Root: "/cells/a"})
	_, err := d.Exec(id, ExecSpec{})
	wantKernelErr(t, err, ErrInvalid, syscall.EINVAL, "enter cell 1: empty command")
	_, err = d.Exec(9, ExecSpec{Argv: []string{"sh"}})
	wantKernelErr(t, err, ErrNotExist, syscall.ENOENT, "enter cell 9: no such cell")
	for _, tt := range []struct {
		errno    syscall.Errno
		sentinel error
	}{{syscall.EPERM, ErrPermission}, {syscall.ENOENT, ErrNotExist}, {syscall.EIO, nil}} {
		msg := "enter cell 1: write security.models.cell.id: " + tt.errno.Error()
		d.start = func(*exec.Cmd, *cellabi.InitRequest) error {
			return &cellabi.InitError{Msg: msg, Errno: tt.errno}
		}
		_, err = d.Exec(id, ExecSpec{Argv: []string{"sh"}})
		wantKernelErr(t, err, tt.sentinel, tt.errno, msg)
		var ie *cellabi.InitError
		if tt.sentinel != nil && errors.As(err, &ie) {
			t.Fatal("InitError leaked through the kernel error")
		}
	}
	d.start = func(*exec.Cmd, *cellabi.InitRequest) error { return errors.New("enter cell 1: start helper: boom") }
	_, err = d.Exec(id, ExecSpec{Argv: []string{"sh"}})
	if err == nil || err.Error() != "enter cell 1: start helper: boom" {
		t.Fatalf("start error: %v", err)
	}
}

func TestNetbsdErrorUnwrap(t *testing.T) {
	err := netbsdWrap("destroy cell 3", syscall.EBUSY)
	var errno syscall.Errno
	if !errors.As(err, &errno) || errno != syscall.EBUSY || !errors.Is(err, ErrBusy) || errors.Is(err, ErrExist) {
		t.Fatalf("%v", err)
	}
	err = netbsdWrap("x", syscall.EIO)
	if !errors.Is(err, syscall.EIO) || err.Error() != "x: "+syscall.EIO.Error() {
		t.Fatalf("%v", err)
	}
	for _, s := range []error{ErrExist, ErrBusy, ErrNotExist, ErrPermission, ErrInvalid} {
		if errors.Is(err, s) {
			t.Fatalf("EIO matches %v", s)
		}
	}
}
