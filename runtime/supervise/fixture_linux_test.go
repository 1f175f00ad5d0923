//go:build linux

package supervise

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"cells/kernel"
	"cells/runtime/paths"
)

func init() {
	// The test process adopts the daemonized monitors (they double-fork
	// away from their invoker), so it can reap them and see any process a
	// test leaves behind as its descendant.
	testInit = func() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }
}

// fixture is one supervised cell of the fake driver with a private syslog.
type fixture struct {
	t       *testing.T
	dir     string
	name    string
	id      uint32
	sock    string // CELLS_SYSLOG_SOCKET
	logFile string // what the private rsyslogd writes
	env     []string
	syslogd *exec.Cmd
}

func newFixture(t *testing.T, name string, rl kernel.Rlimits) *fixture {
	t.Helper()
	dir := t.TempDir()
	prefix := filepath.Join(dir, "prefix")
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	// The cell root is the service's working directory: reachable for
	// dropped credentials too.
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755)
	t.Setenv("CELLMAN_PREFIX", prefix)
	t.Setenv("CELLS_DRIVER", "fake")
	d, err := kernel.OpenFake(kernel.Options{StateDir: paths.New(prefix, "").KernelState()})
	if err != nil {
		t.Fatal(err)
	}
	id, err := d.Create(kernel.CreateSpec{Name: name, Root: root, Rlimits: rl})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	f := &fixture{t: t, dir: dir, name: name, id: id,
		sock: filepath.Join(dir, "log.sock"), logFile: filepath.Join(dir, "syslog.out")}
	f.env = append(os.Environ(), "CELLMAN_PREFIX="+prefix, "CELLS_DRIVER=fake", "CELLS_SYSLOG_SOCKET="+f.sock)
	t.Cleanup(f.cleanup)
	return f
}

// cleanup stops the monitor, reaps it and fails the test if any process
// it started is left.
func (f *fixture) cleanup() {
	pids, _ := FindMonitors(f.name)
	if err := StopMonitor(f.name, 10*time.Second); err != nil {
		f.t.Errorf("cleanup: %v", err)
	}
	reapZombies(pids)
	if left := f.leftovers(); len(left) > 0 {
		f.t.Errorf("processes left behind: %v", left)
		live, _ := descendants(os.Getpid())
		for _, pid := range live {
			if f.syslogd == nil || f.syslogd.Process == nil || pid != f.syslogd.Process.Pid {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// leftovers lists the live descendants of the test process except the
// private syslog daemon.
func (f *fixture) leftovers() []string {
	live, zombies := descendants(os.Getpid())
	reapZombies(zombies)
	var out []string
	for _, pid := range live {
		if f.syslogd != nil && f.syslogd.Process != nil && pid == f.syslogd.Process.Pid {
			continue
		}
		out = append(out, fmt.Sprintf("%d %s", pid, cmdline(pid)))
	}
	return out
}

func reapZombies(pids []int) {
	for _, pid := range pids {
		if _, zombie, err := procStart(pid); err == nil && zombie {
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		}
	}
}

func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// startSyslog runs rsyslogd on the fixture's private socket, writing
// "<facility>.<severity> <tag>: <msg>" lines to logFile.
func (f *fixture) startSyslog() {
	t := f.t
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/rsyslogd"); err != nil {
			t.Skip("needs rsyslogd (apt-get install rsyslog)")
		}
		bin = "/usr/sbin/rsyslogd"
	}
	work := filepath.Join(f.dir, "rsyslog")
	os.MkdirAll(work, 0o755)
	conf := filepath.Join(work, "rsyslog.conf")
	text := fmt.Sprintf(`global(workDirectory=%q)
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket=%q RateLimit.Interval="0" CreatePath="on")
template(name="t" type="string" string="%%syslogfacility-text%%.%%syslogseverity-text%% %%syslogtag%%%%msg%%\n")
*.* action(type="omfile" file=%q template="t")
`, work, f.sock, f.logFile)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", "-f", conf, "-i", filepath.Join(work, "pid"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.syslogd = cmd
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	if !waitFor(5*time.Second, func() bool { _, err := os.Stat(f.sock); return err == nil }) {
		t.Fatalf("rsyslogd did not create %s: %s", f.sock, out.String())
	}
}

// supervise runs `cellctl supervise args...` (the test binary as cellctl).
func (f *fixture) supervise(extraEnv []string, args ...string) (stdout, stderr string, code int) {
	exe, err := os.Executable()
	if err != nil {
		f.t.Fatal(err)
	}
	var o, e bytes.Buffer
	cmd := &exec.Cmd{Path: exe, Args: append([]string{"cellctl", "supervise"}, args...),
		Env: append(slices.Clone(f.env), extraEnv...), Stdout: &o, Stderr: &e}
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		f.t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// mustSupervise starts a monitor and returns its pid.
func (f *fixture) mustSupervise(extraEnv []string, args ...string) int {
	f.t.Helper()
	out, errOut, code := f.supervise(extraEnv, args...)
	if want := fmt.Sprintf("cell %d\n", f.id); code != 0 || out != want || errOut != "" {
		f.t.Fatalf("supervise: exit %d, stdout %q (want %q), stderr %q", code, out, want, errOut)
	}
	pids, err := FindMonitors(f.name)
	if err != nil || len(pids) != 1 {
		var desc []string
		for _, p := range pids {
			st, _ := readStat(p)
			desc = append(desc, fmt.Sprintf("%d(ppid %d, %c): %s", p, st.ppid, st.state, cmdline(p)))
		}
		f.t.Fatalf("FindMonitors: %v %v", desc, err)
	}
	return pids[0]
}

// logLines returns what the private syslog received.
func (f *fixture) logLines() []string {
	b, _ := os.ReadFile(f.logFile)
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// waitLog waits until a received line contains want.
func (f *fixture) waitLog(want string, timeout time.Duration) bool {
	return waitFor(timeout, func() bool {
		return slices.ContainsFunc(f.logLines(), func(l string) bool { return strings.Contains(l, want) })
	})
}

func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// childrenOf lists the live children of pid.
func childrenOf(pid int) []int {
	live, _ := descendants(pid)
	var out []int
	for _, p := range live {
		if st, err := readStat(p); err == nil && st.ppid == pid {
			out = append(out, p)
		}
	}
	return out
}
