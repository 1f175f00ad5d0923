package cellabi

import (
	"fmt"
	"io/fs"
	"strings"
	"syscall"
)

// recSys is a recording InitSys wired to a FakeKernel: chroot changes the
// caller's root and setuid its euid, so the kernel's own checks catch a
// wrong order (enter before chroot, enter after setuid).
type recSys struct {
	k     *FakeKernel
	log   []string
	fds   map[int]bool // open fd -> cloexec
	files map[string]fs.FileMode
	fail  map[string]error // step name prefix -> error
	root  string
	execd bool
}

func newRecSys(k *FakeKernel) *recSys {
	return &recSys{k: k, fds: map[int]bool{}, files: map[string]fs.FileMode{}, fail: map[string]error{}, root: "/"}
}

func (s *recSys) step(format string, args ...any) error {
	e := fmt.Sprintf(format, args...)
	s.log = append(s.log, e)
	for prefix, err := range s.fail {
		if strings.HasPrefix(e, prefix) {
			return err
		}
	}
	return nil
}

func (s *recSys) Sysctl(name string, old []byte, oldlen *int, new []byte) error {
	if new != nil && len(new) == 4 {
		if err := s.step("sysctl %s=%d", name, ByteOrder.Uint32(new)); err != nil {
			return err
		}
	}
	return s.k.Sysctl(name, old, oldlen, new)
}

func (s *recSys) MaxFD() (int, error) {
	max := 2
	for fd := range s.fds {
		max = maxInt(max, fd)
	}
	return max, nil
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func (s *recSys) FDFlags(fd int) (bool, bool) {
	cloexec, open := s.fds[fd]
	return open, cloexec
}

func (s *recSys) CloseFD(fd int) error {
	if err := s.step("close %d", fd); err != nil {
		return err
	}
	delete(s.fds, fd)
	return nil
}

func (s *recSys) Setrlimit(r Resource, v uint64) error { return s.step("setrlimit %s %d", r, v) }

func (s *recSys) Chroot(dir string) error {
	if err := s.step("chroot %s", dir); err != nil {
		return err
	}
	c := s.k.Caller()
	c.Root = dir
	s.k.SetCaller(c)
	s.root = dir
	return nil
}

func (s *recSys) Chdir(dir string) error { return s.step("chdir %s", dir) }

func (s *recSys) Setgroups(g []uint32) error { return s.step("setgroups %v", g) }

func (s *recSys) Setgid(g uint32) error { return s.step("setgid %d", g) }

func (s *recSys) Setuid(u uint32) error {
	if err := s.step("setuid %d", u); err != nil {
		return err
	}
	c := s.k.Caller()
	c.EUID = u
	s.k.SetCaller(c)
	return nil
}

func (s *recSys) Stat(p string) (fs.FileMode, error) {
	if m, ok := s.files[p]; ok {
		return m, nil
	}
	return 0, syscall.ENOENT
}

func (s *recSys) PrepareExec(p string, argv, env []string) (func() error, error) {
	if err := s.step("prepare %s", p); err != nil {
		return nil, err
	}
	return func() error {
		if err := s.step("exec %s %q %q", p, argv, env); err != nil {
			return err
		}
		s.execd = true
		return nil
	}, nil
}
