package supervise

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"cells/kernel"

	"golang.org/x/sys/unix"
)

// request is what the invoking process hands to the monitor (over fd 3, so
// the monitor's title stays `cellctl supervise cell=<name> cid=<id>`).
type request struct {
	CellID      uint32
	CellName    string
	Facility    int
	StdoutLevel int
	StderrLevel int
	Tag         string
	Cred        *kernel.Cred
	Argv        []string
	RunDir      string // absolute
	KernelState string // absolute
}

// MemberLister is implemented by kernel drivers that can list the host pids
// of every process inside a cell. On shutdown the monitor then stops the
// whole cell membership, also processes that left the service's process
// group and session (double-forked daemons).
type MemberLister interface {
	Members(id uint32) ([]int, error)
}

// StopGrace is how long the service gets between SIGTERM and SIGKILL.
var StopGrace = 5 * time.Second

// openDriver opens the kernel driver in the monitor (a variable for tests).
var openDriver = func(stateDir string) (kernel.Driver, error) {
	return kernel.Open(kernel.Options{StateDir: stateDir})
}

// monitor supervises one service.
type monitor struct {
	req    request
	prefix string // "cell=<name> cid=<id>"
	drv    kernel.Driver
	log    *syslogClient
	bucket *tokenBucket
	sigc   chan os.Signal

	restarts atomic.Uint64
	dropped  atomic.Uint64

	mu    sync.Mutex // held while starting a child, so the reaper skips it
	child int

	gone bool // the cell was destroyed under the monitor

	// cellNS is the service's PID namespace when the driver isolates it
	// (Linux driver): on shutdown every process in it is stopped.
	cellNS string
}

// runMonitor is the body of the daemonized monitor. ready receives "ok\n"
// once the monitor owns the cell's pidfile, or the startup error.
func runMonitor(req request, ready *os.File) int {
	m := &monitor{req: req, prefix: fmt.Sprintf("cell=%s cid=%d", req.CellName, req.CellID)}
	signal.Ignore(syscall.SIGHUP)
	m.sigc = make(chan os.Signal, 1)
	signal.Notify(m.sigc, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)

	fail := func(err error) int {
		fmt.Fprintf(ready, "%v\n", err)
		ready.Close()
		return 1
	}
	lock, err := m.claim()
	if err != nil {
		return fail(err)
	}
	defer m.release(lock)
	m.drv, err = openDriver(req.KernelState)
	if err != nil {
		return fail(fmt.Errorf("supervise: open kernel driver: %w", err))
	}
	defer m.drv.Close()
	// Best effort: without it double-forked services are found through the
	// driver (MemberLister) only.
	setSubreaper()
	// Only the invoker reads this line. When it is gone (killed while it
	// started the cell, or it gave up waiting and reported a failure),
	// nobody knows of this monitor: exit before starting the service
	// rather than run an orphan that blocks the next supervise of the cell.
	if _, err := fmt.Fprintf(ready, "ok\n"); err != nil {
		ready.Close()
		return 1
	}
	ready.Close()

	m.log = newSyslogClient(syslogSocketPath(), req.Tag, req.Facility)
	defer m.log.close()
	m.bucket = newTokenBucket(envInt("CELLS_SUPERVISE_RATE", RateLimit), envInt("CELLS_SUPERVISE_BURST", RateBurst), time.Now)
	stopStats := m.publishStats()
	defer stopStats()
	stopReaper := m.reapOrphans()
	defer stopReaper()

	m.loop()
	return 0
}

// claim takes the cell's lock (one monitor per cell) and writes the pidfile.
func (m *monitor) claim() (*os.File, error) {
	dir := superviseDir(m.req.RunDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("supervise: %w", err)
	}
	lock, err := os.OpenFile(lockPath(m.req.RunDir, m.req.CellName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("supervise: %w", err)
	}
	if err := lockFile(lock); err != nil {
		lock.Close()
		if pid, _, ok := readPidfile(m.req.RunDir, m.req.CellName); ok {
			return nil, fmt.Errorf("cell '%s' is already supervised (monitor pid %d)", m.req.CellName, pid)
		}
		return nil, fmt.Errorf("cell '%s' is already supervised", m.req.CellName)
	}
	start, _, err := procStart(os.Getpid())
	if err == nil {
		err = writeFileAtomic(pidfilePath(m.req.RunDir, m.req.CellName), fmt.Appendf(nil, "%d %s\n", os.Getpid(), start))
	}
	if err == nil {
		err = writeFileAtomic(statsPath(m.req.RunDir, m.req.CellName), formatCounters(0, 0))
	}
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("supervise: pidfile: %w", err)
	}
	return lock, nil
}

// release removes the monitor's files, then drops the lock.
func (m *monitor) release(lock *os.File) {
	os.Remove(pidfilePath(m.req.RunDir, m.req.CellName))
	os.Remove(statsPath(m.req.RunDir, m.req.CellName))
	os.Remove(childPath(m.req.RunDir, m.req.CellName))
	lock.Close()
}

// notice logs one of the monitor's own messages (never rate limited).
func (m *monitor) notice(sev int, format string, args ...any) {
	m.log.send(sev, fmt.Appendf(nil, "%s "+format, append([]any{m.prefix}, args...)...))
}

// loop runs the service until a shutdown signal.
func (m *monitor) loop() {
	b := newBackoff()
	for {
		ran, p, waitc, stop := m.runOnce()
		if stop {
			m.shutdown(p, waitc)
			return
		}
		d := b.delay(ran)
		m.notice(sevNotice, "restarting supervised command in %d seconds", int((d+time.Second-1)/time.Second))
		t := time.NewTimer(d)
		select {
		case <-t.C:
			m.restarts.Add(1)
		case <-m.sigc:
			t.Stop()
			m.shutdown(nil, nil)
			return
		}
	}
}

// waitResult is the outcome of kernel.Process.Wait.
type waitResult struct {
	st  kernel.ExitStatus
	err error
}

// shutdown stops the service (if p is running), its descendants and, when
// the driver can list them, every process of the cell; SIGTERM first,
// SIGKILL after StopGrace.
func (m *monitor) shutdown(p kernel.Process, waitc chan waitResult) {
	if !m.gone {
		m.notice(sevNotice, "supervise shutdown requested")
	}
	exited := p == nil
	check := func() bool {
		if !exited {
			select {
			case <-waitc:
				exited = true
			default:
			}
		}
		return exited && len(m.leftovers()) == 0
	}
	m.signalAll(p, syscall.SIGTERM)
	deadline := time.Now().Add(StopGrace)
	for !check() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !check() {
		m.signalAll(p, syscall.SIGKILL)
		kd := time.Now().Add(2 * time.Second)
		for !check() && time.Now().Before(kd) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	m.reap()
}

// signalAll sends sig to the service's process group, to the service, to
// the monitor's other descendants and to the cell's members.
func (m *monitor) signalAll(p kernel.Process, sig syscall.Signal) {
	if p != nil {
		// The service runs in its own session, so its pid is also its
		// process group id: this reaches its pipelines and background jobs.
		syscall.Kill(-p.Pid(), sig)
		p.Signal(sig)
	}
	self := os.Getpid()
	for _, pid := range m.leftovers() {
		if pid != self {
			syscall.Kill(pid, sig)
		}
	}
}

// leftovers lists the processes still to stop: live descendants of the
// monitor, the processes of the cell's PID namespace (Linux driver) and, if
// the driver exposes them, the cell's members.
func (m *monitor) leftovers() []int {
	live, _ := descendants(os.Getpid())
	live = append(live, namespaceMembers(m.cellNS)...)
	if ml, ok := m.drv.(MemberLister); ok {
		if pids, err := ml.Members(m.req.CellID); err == nil {
			for _, pid := range pids {
				if pid != os.Getpid() {
					live = append(live, pid)
				}
			}
		}
	}
	return live
}

// reap collects zombie children other than the service being started or
// waited for by the driver: orphans of the service that were reparented to
// the monitor (it is their subreaper).
func (m *monitor) reap() {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, zombies := descendants(os.Getpid())
	for _, pid := range zombies {
		if pid != m.child {
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		}
	}
}

// reapOrphans reaps reparented orphans whenever a child exits.
func (m *monitor) reapOrphans() (stop func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGCHLD)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-c:
				m.reap()
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(c); close(done) }
}

// publishStats rewrites the stats file every second while the counters
// change and reports dropped lines to syslog.
func (m *monitor) publishStats() (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	path := statsPath(m.req.RunDir, m.req.CellName)
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var lastR, lastD uint64
		for {
			select {
			case <-t.C:
			case <-done:
				return
			}
			if pid, _, ok := readPidfile(m.req.RunDir, m.req.CellName); !ok || pid != os.Getpid() {
				// The pidfile registers the monitor: when it is gone (the
				// prefix was wiped, a test directory removed), nothing
				// can find this monitor any more, so it stops itself.
				m.notice(sevWarning, "pidfile %s removed; stopping", pidfilePath(m.req.RunDir, m.req.CellName))
				select {
				case m.sigc <- syscall.SIGTERM:
				default:
				}
				return
			}
			r, d := m.restarts.Load(), m.dropped.Load()
			if r == lastR && d == lastD {
				continue
			}
			if err := writeFileAtomic(path, formatCounters(r, d)); err != nil {
				continue
			}
			if d > lastD {
				m.notice(sevWarning, "dropped %d log lines (rate limit or syslog unavailable)", d-lastD)
			}
			lastR, lastD = r, d
		}
	}()
	return func() { close(done); <-finished }
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// errCellGone stops the monitor when its cell no longer exists.
var errCellGone = errors.New("cell no longer exists")

// lockFile takes an exclusive flock(2) on f without waiting.
func lockFile(f *os.File) error {
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
}
