package runtime

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"cells/kernel"
)

// Healthcheck retry schedule (reference §4.7): 4 attempts, these waits
// between them.
var healthWaits = []time.Duration{200 * time.Millisecond, 500 * time.Millisecond, time.Second}

// DefaultHealthTimeout bounds one healthcheck attempt (DESIGN difference 8).
const DefaultHealthTimeout = 10 * time.Second

// maxHealthOutput caps the stderr kept from one attempt.
const maxHealthOutput = 64 << 10

// CellHealthcheck runs cmd as the healthcheck of the active cell name
// (`/bin/sh -c <cmd>` in the cell) with upstream's retries.
func CellHealthcheck(name, cmd string, o LifecycleOptions) error {
	return withLifecycle(o, func(lc *lifecycle) error {
		id, err := lc.activeID(name)
		if err != nil {
			return err
		}
		return lc.healthcheck(name, id, cmd)
	})
}

func (lc *lifecycle) healthcheck(name string, id uint32, cmd string) error {
	timeout := lc.o.HealthTimeout
	if timeout <= 0 {
		timeout = DefaultHealthTimeout
	}
	var why string
	for attempt := 0; attempt <= len(healthWaits); attempt++ {
		if attempt > 0 {
			time.Sleep(healthWaits[attempt-1])
		}
		var ok bool
		ok, why = runHealthOnce(lc.d, id, cmd, timeout)
		if ok {
			return nil
		}
	}
	return fmt.Errorf("cell healthcheck %s failed after %d attempts: %s (command: %s)", name, len(healthWaits)+1, why, cmd)
}

// runHealthOnce runs one attempt; on failure it returns the trimmed stderr,
// or why it failed when stderr is empty.
func runHealthOnce(d kernel.Driver, id uint32, cmd string, timeout time.Duration) (bool, string) {
	r, w, err := os.Pipe()
	if err != nil {
		return false, err.Error()
	}
	defer r.Close()
	// Setsid: the check leads its own process group, so a timeout kills
	// what it started too, not only the shell.
	p, err := d.Exec(id, kernel.ExecSpec{Argv: []string{"/bin/sh", "-c", cmd}, Dir: "/", Stderr: w, Setsid: true})
	w.Close()
	if err != nil {
		return false, err.Error()
	}
	var buf bytes.Buffer
	copied := make(chan struct{})
	go func() {
		io.Copy(&buf, io.LimitReader(r, maxHealthOutput))
		io.Copy(io.Discard, r)
		close(copied)
	}()
	type result struct {
		st  kernel.ExitStatus
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := p.Wait()
		done <- result{st, err}
	}()
	var res result
	timedOut := false
	select {
	case res = <-done:
	case <-time.After(timeout):
		timedOut = true
		syscall.Kill(-p.Pid(), syscall.SIGKILL)
		p.Signal(os.Kill)
		res = <-done
	}
	// A background child of the check may keep the pipe open: take what
	// arrived, do not wait for it.
	r.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	<-copied
	if !timedOut && res.err == nil && res.st.Success() {
		return true, ""
	}
	if msg := strings.TrimSpace(buf.String()); msg != "" {
		return false, msg
	}
	if timedOut {
		return false, fmt.Sprintf("command timed out after %s", timeout)
	}
	return false, "command exited with non-zero status"
}
