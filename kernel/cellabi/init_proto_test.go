package cellabi

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The end-to-end tests re-execute this test binary as the helper: the pipe
// protocol, the status record, the fd sweep and the final exec are real;
// the privileged steps are recorded (procSys) and the kernel is a fake
// living in the helper process.

const initLogEnv = "CELLABI_INIT_LOG"

// realSys, set by a platform test file, is a helper system interface with
// real syscalls (root-only tests).
var realSys func() InitSetup

const realSysEnv = "CELLABI_REAL_SYS"

func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "cells-init" {
		if os.Getenv(realSysEnv) != "" && realSys != nil {
			os.Exit(InitMain(realSys()))
		}
		os.Exit(InitMain(newProcSys()))
	}
	os.Exit(m.Run())
}

type procSys struct {
	k   *FakeKernel
	log *os.File
}

func newProcSys() *procSys {
	k := NewFakeKernel()
	k.Stat = func(string) (bool, error) { return true, nil }
	c := &Create{}
	_ = c.SetName("a")
	_ = c.SetRoot("/cells/a")
	if _, err := (Driver{k}).Create(c); err != nil {
		panic(err)
	}
	f, err := os.OpenFile(os.Getenv(initLogEnv), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		panic(err)
	}
	return &procSys{k: k, log: f}
}

func (s *procSys) rec(format string, args ...any) error {
	_, err := fmt.Fprintf(s.log, format+"\n", args...)
	return err
}

func (s *procSys) Sysctl(name string, old []byte, oldlen *int, new []byte) error {
	return s.k.Sysctl(name, old, oldlen, new)
}

func (s *procSys) MaxFD() (int, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 255, nil
	}
	max := 2
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && n > max {
			max = n
		}
	}
	return max, nil
}

func (s *procSys) FDFlags(fd int) (bool, bool) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	if e != 0 {
		return false, false
	}
	return true, r&syscall.FD_CLOEXEC != 0
}

func (s *procSys) CloseFD(fd int) error {
	_ = s.rec("close %d", fd)
	return syscall.Close(fd)
}

func (s *procSys) CloseOnExec(fd int) error {
	syscall.CloseOnExec(fd)
	return nil
}

func (s *procSys) Setrlimit(r Resource, v uint64) error { return s.rec("setrlimit %s %d", r, v) }

func (s *procSys) Chroot(dir string) error {
	c := s.k.Caller()
	c.Root = dir
	s.k.SetCaller(c)
	return s.rec("chroot %s", dir)
}

func (s *procSys) Chdir(dir string) error     { return s.rec("chdir %s", dir) }
func (s *procSys) Setgroups(g []uint32) error { return s.rec("setgroups %v", g) }
func (s *procSys) Setgid(g uint32) error      { return s.rec("setgid %d", g) }
func (s *procSys) Setuid(u uint32) error      { return s.rec("setuid %d", u) }
func (s *procSys) Stat(p string) (fs.FileMode, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	return fi.Mode(), nil
}

func (s *procSys) PrepareExec(p string, argv, env []string) (func() error, error) {
	if err := s.rec("prepare %s", p); err != nil {
		return nil, err
	}
	return func() error {
		s.log.Close()
		return syscall.Exec(p, argv, env)
	}, nil
}

func helperCmd(t *testing.T) (*exec.Cmd, string, *os.File) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "steps")
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	cmd := &exec.Cmd{Path: exe, Args: []string{"cells-init"}, Env: []string{initLogEnv + "=" + logPath}, Stdout: out, Stderr: out}
	return cmd, logPath, out
}

// leakFD opens a descriptor without close-on-exec, as a caller of cellctl
// might hand one down; os/exec passes it on to every child.
func leakFD(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Open(os.DevNull, syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	return fd
}

func probeScript(fd int) string {
	return fmt.Sprintf(`echo "foo=$FOO pid=$$"; if { true <&%d; } 2>/dev/null; then echo "fd %d open"; fi`, fd, fd)
}

func TestInitEndToEnd(t *testing.T) {
	fd := leakFD(t)
	// Control: a plain child inherits the descriptor, so the probe works.
	ctl, err := exec.Command("sh", "-c", probeScript(fd)).Output()
	if err != nil || !strings.Contains(string(ctl), fmt.Sprintf("fd %d open", fd)) {
		t.Fatalf("control probe did not see the leaked fd %d: %q %v", fd, ctl, err)
	}

	cmd, logPath, out := helperCmd(t)
	req := &InitRequest{
		Version: InitRequestVersion, ID: 1, Root: "/cells/a",
		Argv: []string{"sh", "-c", probeScript(fd)}, Env: []string{"PATH=/usr/bin:/bin", "FOO=bar"},
		Rlimits: []InitRlimit{{ResourceCore, 0}},
		Cred:    &InitCred{UID: 7, GID: 8},
	}
	if err := StartInit(cmd, req); err != nil {
		t.Fatalf("StartInit: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("command: %v", err)
	}
	b, _ := os.ReadFile(out.Name())
	want := fmt.Sprintf("foo=bar pid=%d\n", cmd.Process.Pid)
	if string(b) != want {
		t.Fatalf("output %q, want %q (the helper's pid, no leaked fd)", b, want)
	}
	steps, _ := os.ReadFile(logPath)
	lines := strings.Split(strings.TrimSpace(string(steps)), "\n")
	// The sweep comes first and closes our leak (and whatever else this
	// test process inherited from its own parent).
	var closes []string
	for len(lines) > 0 && strings.HasPrefix(lines[0], "close ") {
		closes = append(closes, lines[0])
		lines = lines[1:]
	}
	if !slices.Contains(closes, fmt.Sprintf("close %d", fd)) {
		t.Fatalf("leaked fd %d not swept: %q", fd, closes)
	}
	wantSteps := []string{"chroot /cells/a", "chdir /", "setgroups []", "setgid 8", "", "setrlimit core 0", "setuid 7"}
	if len(lines) != len(wantSteps) || !strings.HasPrefix(lines[4], "prepare /") || !strings.HasSuffix(lines[4], "/sh") {
		t.Fatalf("steps %q", lines)
	}
	wantSteps[4] = lines[4]
	for i, w := range wantSteps {
		if lines[i] != w {
			t.Fatalf("step %d: %q, want %q (all: %q)", i, lines[i], w, lines)
		}
	}
}

func TestInitEndToEndFailure(t *testing.T) {
	cmd, _, out := helperCmd(t)
	req := &InitRequest{Version: InitRequestVersion, ID: 99, Root: "/cells/a", Argv: []string{"true"}}
	err := StartInit(cmd, req)
	var ie *InitError
	if !errors.As(err, &ie) || !errors.Is(err, syscall.ENOENT) ||
		err.Error() != "enter cell 99: write security.models.cell.id: no such file or directory" {
		t.Fatalf("StartInit: %#v", err)
	}
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("helper not reaped or wrong exit: %v", cmd.ProcessState)
	}
	// (A coverage build of the helper warns about GOCOVERDIR; that is not ours.)
	if b, _ := os.ReadFile(out.Name()); len(b) != 0 && !strings.HasPrefix(string(b), "warning: GOCOVERDIR not set") {
		t.Fatalf("helper wrote %q to stderr although the status pipe worked", b)
	}
}

func TestInitEndToEndNotFound(t *testing.T) {
	cmd, _, _ := helperCmd(t)
	req := &InitRequest{Version: InitRequestVersion, ID: 1, Root: "/cells/a", Argv: []string{"no-such-command-xyz"}, Env: []string{"PATH=/usr/bin:/bin"}}
	err := StartInit(cmd, req)
	if !errors.Is(err, syscall.ENOENT) || !strings.Contains(err.Error(), `exec no-such-command-xyz: exec: "no-such-command-xyz": executable file not found in $PATH`) {
		t.Fatalf("StartInit: %v", err)
	}
}

func TestStartInitRejectsExtraFiles(t *testing.T) {
	cmd, _, _ := helperCmd(t)
	cmd.ExtraFiles = []*os.File{os.Stdin}
	if err := StartInit(cmd, &InitRequest{}); err == nil {
		t.Fatal("extra files accepted")
	}
}
