//go:build linux

package supervise

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"cells/kernel"
	"cells/runtime/paths"
)

// Lines reach a real syslog daemon with the facility, severities, tag, pid
// and prefix asked for; long lines are split and a partial last line is
// flushed; the monitor has its title, pidfile and lock; the service sees no
// inherited descriptor; SIGTERM stops everything.
func TestSuperviseSyslog(t *testing.T) {
	f := newFixture(t, "web", kernel.Rlimits{})
	f.startSyslog()
	script := `echo hello; echo oops >&2; head -c 1000 /dev/zero | tr '\0' x; echo; printf partial; exec sleep 300 >/dev/null`
	pid := f.mustSupervise(nil, "-f", "local3", "-o", "info", "-e", "warning", "-t", "mytag", "web", "/bin/sh", "-c", script)

	// title, pidfile
	if got, want := cmdline(pid), fmt.Sprintf("cellctl supervise cell=web cid=%d", f.id); got != want {
		t.Errorf("title %q, want %q", got, want)
	}
	runDir := paths.FromEnv().RunDir
	rp, start, ok := readPidfile(runDir, "web")
	if st, _, _ := procStart(pid); !ok || rp != pid || start != st {
		t.Errorf("pidfile: %d %q %v, want %d %q", rp, start, ok, pid, st)
	}

	tag := fmt.Sprintf("mytag[%d]: cell=web cid=%d ", pid, f.id)
	want := []string{
		"local3.info " + tag + "starting supervised command",
		"local3.info " + tag + "stdout: hello",
		"local3.warning " + tag + "stderr: oops",
		"local3.info " + tag + "stdout: " + strings.Repeat("x", MaxLine),
		"local3.info " + tag + "stdout: " + strings.Repeat("x", 1000-2*MaxLine),
		"local3.info " + tag + "stdout: partial",
	}
	if !f.waitLog("stdout: partial", 5*time.Second) {
		t.Fatalf("no partial line; got:\n%s", strings.Join(f.logLines(), "\n"))
	}
	got := strings.Join(f.logLines(), "\n")
	for _, w := range want {
		if !strings.Contains(got, w+"\n") && !strings.HasSuffix(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}

	// One monitor per cell.
	_, errOut, code := f.supervise(nil, "web", "true")
	if wantErr := fmt.Sprintf("cellctl: cell 'web' is already supervised (monitor pid %d)\n", pid); code != 1 || errOut != wantErr {
		t.Errorf("second monitor: exit %d, stderr %q, want %q", code, errOut, wantErr)
	}

	// SIGTERM: the service is stopped, the monitor says so and exits.
	t0 := time.Now()
	if err := StopMonitor("web", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(t0); el > 5*time.Second {
		t.Errorf("stop took %v", el)
	}
	if !f.waitLog("local3.notice "+tag+"supervise shutdown requested", 2*time.Second) {
		t.Errorf("no shutdown notice:\n%s", strings.Join(f.logLines(), "\n"))
	}
	if _, err := os.Stat(pidfilePath(runDir, "web")); !os.IsNotExist(err) {
		t.Errorf("pidfile left: %v", err)
	}
	if pids, _ := FindMonitors("web"); len(pids) != 0 {
		t.Errorf("monitors left: %v", pids)
	}
	if left := f.leftovers(); len(left) != 0 {
		t.Errorf("left: %v", left)
	}
}

// The service has only 0 (/dev/null), 1 and 2 (the log pipes) open: no
// descriptor of the monitor or of its invoker leaks into it.
func TestSuperviseDescriptors(t *testing.T) {
	f := newFixture(t, "fds", kernel.Rlimits{})
	// A descriptor the invoking process leaves open.
	leak, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer leak.Close()
	syscall.Syscall(syscall.SYS_FCNTL, leak.Fd(), syscall.F_SETFD, 0)
	pid := f.mustSupervise(nil, "fds", "sleep", "300")
	var kids []int
	waitFor(2*time.Second, func() bool { kids = childrenOf(pid); return len(kids) == 1 && cmdline(kids[0]) == "sleep 300" })
	if len(kids) != 1 {
		t.Fatalf("service processes %v", kids)
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", kids[0]))
	if err != nil {
		t.Fatal(err)
	}
	var fds []string
	for _, e := range ents {
		l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", kids[0], e.Name()))
		fds = append(fds, e.Name()+"="+l)
	}
	if len(fds) != 3 || fds[0] != "0=/dev/null" || !strings.HasPrefix(fds[1], "1=pipe:") || !strings.HasPrefix(fds[2], "2=pipe:") {
		t.Errorf("service descriptors %v, want 0=/dev/null 1=pipe 2=pipe", fds)
	}
	// The monitor itself keeps nothing of its invoker either: stdio is
	// /dev/null, the rest are its own (lock, log pipes, syslog socket).
	for _, fd := range []string{"0", "1", "2"} {
		if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd)); l != "/dev/null" {
			t.Errorf("monitor fd %s = %s, want /dev/null", fd, l)
		}
	}
	ents, _ = os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, e := range ents {
		if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name())); l == "/dev/zero" {
			t.Errorf("monitor inherited the invoker's fd %s", e.Name())
		}
	}
}

// A crash-looping service restarts after 1, 2, 4 s; a run of at least
// ResetAfter (shortened to 1 s here; the 30 s default is checked by
// TestBackoffSequence) brings the delay back to 1 s, and the next short run
// doubles it again. A shutdown interrupts a restart delay.
func TestSuperviseBackoff(t *testing.T) {
	f := newFixture(t, "loop", kernel.Rlimits{})
	f.startSyslog()
	runs := filepath.Join(f.dir, "runs")
	// Runs 0-2 exit at once; run 3 lasts 1.2 s; run 4 exits at once.
	script := fmt.Sprintf(`n=$(cat %[1]s 2>/dev/null | wc -l); date +%%s.%%N >> %[1]s; [ "$n" -eq 3 ] && sleep 1.2; exit 3`, runs)
	pid := f.mustSupervise([]string{"SUPERVISE_TEST_RESET_AFTER=1s"}, "loop", "/bin/sh", "-c", script)
	var starts []float64
	if !waitFor(20*time.Second, func() bool {
		b, _ := os.ReadFile(runs)
		starts = starts[:0]
		for _, l := range strings.Fields(string(b)) {
			v, _ := strconv.ParseFloat(l, 64)
			starts = append(starts, v)
		}
		return len(starts) >= 6
	}) {
		t.Fatalf("runs: %v", starts)
	}
	// gap = run time + delay
	want := []float64{1, 2, 4, 1.2 + 1, 2}
	for i, w := range want {
		gap := starts[i+1] - starts[i]
		if math.Abs(gap-w) > 0.2*w {
			t.Errorf("gap %d: %.2f s, want %.1f s ±20%% (starts %v)", i, gap, w, starts)
		}
	}
	tag := fmt.Sprintf("cellctl[%d]: cell=loop cid=%d ", pid, f.id)
	for _, w := range []string{
		"daemon.warning " + tag + "supervised command exited status=3",
		"daemon.notice " + tag + "restarting supervised command in 1 seconds",
		"daemon.notice " + tag + "restarting supervised command in 2 seconds",
		"daemon.notice " + tag + "restarting supervised command in 4 seconds",
	} {
		if !f.waitLog(w, time.Second) {
			t.Errorf("missing %q", w)
		}
	}
	if !waitFor(3*time.Second, func() bool { r, _, ok := ReadCounters("loop"); return ok && r >= 5 }) {
		r, d, ok := ReadCounters("loop")
		t.Errorf("counters: restarts=%d dropped=%d ok=%v, want restarts>=5", r, d, ok)
	}
	// The monitor now waits 4 s before run 6 (at least 3 s remain):
	// shutdown interrupts the wait.
	t0 := time.Now()
	if err := StopMonitor("loop", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(t0); el > 2*time.Second {
		t.Errorf("stop during the restart delay took %v", el)
	}
	if b, _ := os.ReadFile(runs); strings.Count(string(b), "\n") != 6 {
		t.Errorf("a run started during shutdown: %q", b)
	}
	if !f.waitLog("daemon.notice "+tag+"supervise shutdown requested", time.Second) {
		t.Errorf("no shutdown notice")
	}
}

// SIGHUP is ignored; SIGINT and SIGQUIT stop the monitor like SIGTERM.
func TestSuperviseSignals(t *testing.T) {
	f := newFixture(t, "sig", kernel.Rlimits{})
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGQUIT} {
		pid := f.mustSupervise(nil, "sig", "sleep", "300")
		var kids []int
		waitFor(2*time.Second, func() bool { kids = childrenOf(pid); return len(kids) == 1 && cmdline(kids[0]) == "sleep 300" })
		if len(kids) != 1 {
			t.Fatalf("service processes %v", kids)
		}
		syscall.Kill(pid, syscall.SIGHUP)
		time.Sleep(200 * time.Millisecond)
		if now := childrenOf(pid); len(now) != 1 || now[0] != kids[0] {
			t.Fatalf("after SIGHUP: service %v, was %v", now, kids)
		}
		syscall.Kill(pid, sig)
		if !waitFor(3*time.Second, func() bool { _, z, err := procStart(pid); return err != nil || z }) {
			t.Fatalf("monitor still running after %v", sig)
		}
		if left := f.leftovers(); len(left) != 0 {
			t.Errorf("left after %v: %v", sig, left)
		}
	}
}

// The service's process group, its background jobs, a double-forked daemon
// that left the session and a process ignoring SIGTERM are all stopped.
func TestSuperviseStopEverything(t *testing.T) {
	f := newFixture(t, "forky", kernel.Rlimits{})
	ready := filepath.Join(f.dir, "ready")
	script := fmt.Sprintf(`sleep 3001 & setsid sh -c 'sleep 3002 &' ; sh -c 'trap "" TERM; exec sleep 3003' & touch %s; exec sleep 3004`, ready)
	pid := f.mustSupervise([]string{"SUPERVISE_TEST_STOP_GRACE=1s"}, "forky", "/bin/sh", "-c", script)
	if !waitFor(5*time.Second, func() bool { _, err := os.Stat(ready); return err == nil }) {
		t.Fatal("service did not start")
	}
	var sleeps []string
	waitFor(2*time.Second, func() bool {
		sleeps = sleeps[:0]
		live, _ := descendants(pid)
		for _, p := range live {
			if c := cmdline(p); strings.HasPrefix(c, "sleep 300") {
				sleeps = append(sleeps, c)
			}
		}
		return len(sleeps) == 4
	})
	if len(sleeps) != 4 {
		t.Fatalf("service processes under the monitor: %v", sleeps)
	}
	t0 := time.Now()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !waitFor(5*time.Second, func() bool { _, z, err := procStart(pid); return err != nil || z }) {
		t.Fatalf("monitor still running 5 s after SIGTERM")
	}
	t.Logf("stopped in %v (grace 1 s for the TERM-ignoring process)", time.Since(t0).Round(time.Millisecond))
	if left := f.leftovers(); len(left) != 0 {
		t.Errorf("left after SIGTERM: %v", left)
	}
}

// The flood case: a service writing as fast as it can is never slowed down
// by the log path, the monitor's memory stays bounded and the lines over the
// rate limit are counted as dropped.
func TestSuperviseFlood(t *testing.T) {
	f := newFixture(t, "flood", kernel.Rlimits{})
	f.startSyslog()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	svc := filepath.Join(f.dir, "svc-flood")
	if err := os.Symlink(exe, svc); err != nil {
		t.Fatal(err)
	}
	result := filepath.Join(f.dir, "result")
	pid := f.mustSupervise(nil, "flood", svc, "2s", result)
	var res []byte
	if !waitFor(10*time.Second, func() bool { res, _ = os.ReadFile(result); return len(res) > 0 }) {
		t.Fatal("flood service did not finish")
	}
	var n int64
	var secs float64
	fmt.Sscan(string(res), &n, &secs)
	mbps := float64(n) / secs / 1e6
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	var hwm int
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			fmt.Sscan(strings.TrimPrefix(l, "VmHWM:"), &hwm)
		}
	}
	var dropped uint64
	waitFor(3*time.Second, func() bool { _, dropped, _ = ReadCounters("flood"); return dropped > 0 })
	received := 0
	for _, l := range f.logLines() {
		if strings.Contains(l, "stdout: flood") {
			received++
		}
	}
	t.Logf("service wrote %d MB in %.2f s: %.0f MB/s; monitor peak RSS %d kB; syslog received %d lines, dropped %d",
		n>>20, secs, mbps, hwm, received, dropped)
	if mbps < 50 {
		t.Errorf("service throughput %.0f MB/s: the log path slows it down", mbps)
	}
	if hwm == 0 || hwm > 64*1024 {
		t.Errorf("monitor peak RSS %d kB, want bounded (< 64 MB)", hwm)
	}
	lines := uint64(n / 100)
	if dropped == 0 || uint64(received)+dropped > lines {
		t.Errorf("dropped %d, received %d of %d lines", dropped, received, lines)
	}
	// 2000 burst + 1000/s over the ~2 s the flood lasted, plus slack.
	if received > 2000+int(1000*secs)+500 || received < 1000 {
		t.Errorf("syslog received %d lines, want the rate limit (2000 burst + 1000/s)", received)
	}
}

// Without a syslog daemon the service keeps running and its output is
// consumed; when the socket appears, lines arrive.
func TestSuperviseNoSyslog(t *testing.T) {
	f := newFixture(t, "quiet", kernel.Rlimits{})
	done := filepath.Join(f.dir, "done")
	script := fmt.Sprintf(`head -c 4000000 /dev/zero | tr '\0' x | fold -w 100; touch %s; i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done`, done)
	f.mustSupervise(nil, "quiet", "/bin/sh", "-c", script)
	if !waitFor(10*time.Second, func() bool { _, err := os.Stat(done); return err == nil }) {
		t.Fatal("service blocked: 4 MB of output not consumed without syslog")
	}
	f.startSyslog()
	if !f.waitLog("stdout: tick ", 5*time.Second) {
		t.Fatalf("no line after the socket appeared:\n%s", strings.Join(f.logLines(), "\n"))
	}
	// When "done" appeared, at most a pipe buffer (64 KiB, 656 lines) of
	// the 40000 lines was still unread; everything read before the socket
	// existed was dropped.
	var d uint64
	var ok bool
	if !waitFor(3*time.Second, func() bool { _, d, ok = ReadCounters("quiet"); return d >= 40000-656 }) {
		t.Errorf("dropped %d (ok %v), want the lines sent while syslog was missing", d, ok)
	}
}

// The service runs with the cell's rlimits (fake driver: prlimit right after
// start; the real driver applies them before exec).
func TestSuperviseRlimits(t *testing.T) {
	f := newFixture(t, "lim", kernel.Rlimits{
		Nofile: kernel.Rlimit{Set: true, Value: 123},
		Core:   kernel.Rlimit{Set: true, Value: 1 << 20},
		AS:     kernel.Rlimit{Set: true, Value: 1 << 30},
	})
	f.startSyslog()
	// The sleep lets the fake's after-start prlimit land first.
	f.mustSupervise(nil, "lim", "/bin/sh", "-c", `sleep 0.3; echo "n=$(ulimit -n) c=$(ulimit -c) v=$(ulimit -v)"; exec sleep 300`)
	if !f.waitLog("stdout: n=123 c=2048 v=1048576", 5*time.Second) {
		t.Errorf("limits inside:\n%s", strings.Join(f.logLines(), "\n"))
	}
}

// -U/-G/-g drop the service's credentials.
func TestSuperviseCredentials(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: changes the service's uid/gid/groups")
	}
	f := newFixture(t, "creds", kernel.Rlimits{})
	f.startSyslog()
	pid := f.mustSupervise(nil, "-U", "65534", "-G", "65533", "-g", "65533,100", "creds", "/bin/sh", "-c", `echo "$(id -u) $(id -g) $(id -G)"; exec sleep 300`)
	tag := fmt.Sprintf("cellctl[%d]: cell=creds cid=%d ", pid, f.id)
	if !f.waitLog("daemon.info "+tag+"starting supervised command as uid=65534 gid=65533", 5*time.Second) {
		t.Errorf("no start message with credentials")
	}
	if !f.waitLog("daemon.notice "+tag+"stdout: 65534 65533 65533 100", 5*time.Second) {
		t.Errorf("credentials inside:\n%s", strings.Join(f.logLines(), "\n"))
	}
}

// Removing the pidfile (a wiped prefix) unregisters the monitor: it stops
// its service and exits instead of running on unfindable.
func TestSuperviseStopsWhenPidfileRemoved(t *testing.T) {
	f := newFixture(t, "orphan", kernel.Rlimits{})
	pid := f.mustSupervise(nil, "orphan", "sleep", "300")
	if err := os.Remove(pidfilePath(paths.FromEnv().RunDir, "orphan")); err != nil {
		t.Fatal(err)
	}
	if !waitFor(3*time.Second, func() bool { _, z, err := procStart(pid); return err != nil || z }) {
		t.Fatal("monitor still running 3 s after its pidfile was removed")
	}
	if left := f.leftovers(); len(left) != 0 {
		t.Errorf("left: %v", left)
	}
}

// Command called in-process (as cellman would) starts the same daemon: the
// title is `cellctl supervise ...` whatever the calling binary is named.
func TestSuperviseInProcess(t *testing.T) {
	f := newFixture(t, "inproc", kernel.Rlimits{})
	t.Setenv("CELLS_SYSLOG_SOCKET", f.sock)
	var out, errOut strings.Builder
	if code := Command([]string{"inproc", "sleep", "300"}, &out, &errOut); code != 0 || out.String() != fmt.Sprintf("cell %d\n", f.id) || errOut.String() != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	pids, err := FindMonitors("inproc")
	if err != nil || len(pids) != 1 {
		t.Fatalf("FindMonitors: %v %v", pids, err)
	}
	if got, want := cmdline(pids[0]), fmt.Sprintf("cellctl supervise cell=inproc cid=%d", f.id); got != want {
		t.Errorf("title %q, want %q", got, want)
	}
	// errors in-process: target resolution
	out.Reset()
	errOut.Reset()
	if code := Command([]string{"nosuch", "true"}, &out, &errOut); code != 1 || errOut.String() != "cellctl: cell 'nosuch' not found\n" {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

// A service killed by a signal is reported as such; a monitor whose cell
// was destroyed (between two runs) says so and exits instead of restarting
// forever.
func TestSuperviseCellDestroyed(t *testing.T) {
	f := newFixture(t, "gone", kernel.Rlimits{})
	f.startSyslog()
	pid := f.mustSupervise(nil, "gone", "/bin/sh", "-c", "kill -KILL $$")
	tag := fmt.Sprintf("cellctl[%d]: cell=gone cid=%d ", pid, f.id)
	if !f.waitLog("daemon.warning "+tag+"supervised command killed by signal=9", 3*time.Second) {
		t.Errorf("no signal message:\n%s", strings.Join(f.logLines(), "\n"))
	}
	d, err := kernel.OpenFake(kernel.Options{StateDir: paths.FromEnv().KernelState()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !waitFor(3*time.Second, func() bool { return d.Destroy(f.id) == nil }) {
		t.Fatal("cannot destroy the cell")
	}
	if !waitFor(5*time.Second, func() bool { _, z, err := procStart(pid); return err != nil || z }) {
		t.Fatal("monitor still running after its cell was destroyed")
	}
	if !f.waitLog("daemon.warning "+tag+"cell no longer exists; supervise exiting", time.Second) {
		t.Errorf("no exit message:\n%s", strings.Join(f.logLines(), "\n"))
	}
	if _, err := os.Stat(pidfilePath(paths.FromEnv().RunDir, "gone")); !os.IsNotExist(err) {
		t.Errorf("pidfile left: %v", err)
	}
}

// StopMonitor with a timeout shorter than the monitor's grace period kills
// the monitor, then the service it left (recorded in <name>.child).
func TestStopMonitorImpatient(t *testing.T) {
	f := newFixture(t, "stubborn", kernel.Rlimits{})
	pid := f.mustSupervise(nil, "stubborn", "/bin/sh", "-c", `trap "" TERM; sleep 3007 & exec sleep 3008`)
	var kids []int
	waitFor(2*time.Second, func() bool { kids = childrenOf(pid); return len(kids) == 1 && cmdline(kids[0]) == "sleep 3008" })
	if len(kids) != 1 {
		t.Fatalf("service %v", kids)
	}
	t0 := time.Now()
	if err := StopMonitor("stubborn", 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(t0); el > 3*time.Second {
		t.Errorf("StopMonitor took %v", el)
	}
	if _, z, err := procStart(pid); err == nil && !z {
		t.Fatal("monitor alive")
	}
	// The service ignored SIGTERM and the monitor was killed within its
	// grace period: StopMonitor killed the service's process group.
	if !waitFor(time.Second, func() bool { _, z, err := procStart(kids[0]); return err != nil || z }) {
		t.Errorf("service %d (%s) left", kids[0], cmdline(kids[0]))
	}
	for _, ext := range []string{".pid", ".stats", ".child"} {
		if _, err := os.Stat(filepath.Join(superviseDir(paths.FromEnv().RunDir), "stubborn"+ext)); !os.IsNotExist(err) {
			t.Errorf("%s left: %v", ext, err)
		}
	}
}
