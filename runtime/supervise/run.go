package supervise

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"cells/kernel"
)

// runOnce starts the service, forwards its output until it exits and
// reports how long it ran. stop is true when a shutdown signal arrived (p
// and waitc are then the still running service, or nil) or when the cell is
// gone.
func (m *monitor) runOnce() (ran time.Duration, p kernel.Process, waitc chan waitResult, stop bool) {
	if m.req.Cred != nil {
		m.notice(sevInfo, "starting supervised command as uid=%d gid=%d", m.req.Cred.UID, m.req.Cred.GID)
	} else {
		m.notice(sevInfo, "starting supervised command")
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		m.notice(sevErr, "supervise: pipe: %v", err)
		return 0, nil, nil, m.interrupted()
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		m.notice(sevErr, "supervise: pipe: %v", err)
		return 0, nil, nil, m.interrupted()
	}
	spec := kernel.ExecSpec{
		Argv:   m.req.Argv,
		Cred:   m.req.Cred,
		Stdout: outW,
		Stderr: errW,
		Setsid: true,
	}
	m.mu.Lock()
	started := time.Now()
	p, err = m.drv.Exec(m.req.CellID, spec)
	if err == nil {
		m.child = p.Pid()
		if m.cellNS == "" {
			m.cellNS = cellNamespace(m.child)
		}
	}
	m.mu.Unlock()
	if err == nil {
		m.recordChild(p.Pid())
	}
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		if errors.Is(err, kernel.ErrNotExist) {
			m.gone = true
			m.notice(sevWarning, "%v; supervise exiting", errCellGone)
			return 0, nil, nil, true
		}
		m.notice(sevWarning, "start supervised command: %v", err)
		return 0, nil, nil, m.interrupted()
	}

	var readers sync.WaitGroup
	readers.Add(2)
	go m.forward(outR, "stdout", m.req.StdoutLevel, &readers)
	go m.forward(errR, "stderr", m.req.StderrLevel, &readers)
	readersDone := make(chan struct{})
	go func() { readers.Wait(); close(readersDone) }()

	waitc = make(chan waitResult, 1)
	go func() {
		st, err := p.Wait()
		waitc <- waitResult{st, err}
	}()
	var res waitResult
	select {
	case res = <-waitc:
	case <-m.sigc:
		return time.Since(started), p, waitc, true
	}
	ran = time.Since(started)
	m.mu.Lock()
	m.child = 0
	m.mu.Unlock()
	// Let the last lines (and a partial line) reach syslog before the exit
	// message; a descendant still holding the pipes keeps being forwarded.
	select {
	case <-readersDone:
	case <-time.After(500 * time.Millisecond):
	}
	switch {
	case res.err != nil:
		m.notice(sevWarning, "supervised command ended unexpectedly")
	case res.st.Signal != 0:
		m.notice(sevWarning, "supervised command killed by signal=%d", res.st.Signal)
	default:
		m.notice(sevWarning, "supervised command exited status=%d", res.st.Code)
	}
	return ran, nil, nil, m.interrupted()
}

// interrupted reports a pending shutdown signal without waiting.
func (m *monitor) interrupted() bool {
	select {
	case <-m.sigc:
		return true
	default:
		return false
	}
}

// forward reads one output stream of the service and sends each line to
// syslog as "cell=<name> cid=<id> <stream>: <line>". It never blocks the
// service for long: lines beyond the rate limit, or that syslog cannot take
// at once, are dropped and counted.
func (m *monitor) forward(r *os.File, stream string, sev int, wg *sync.WaitGroup) {
	defer wg.Done()
	defer r.Close()
	head := fmt.Sprintf("%s %s: ", m.prefix, stream)
	msg := make([]byte, 0, len(head)+MaxLine)
	s := &lineSplitter{emit: func(line []byte) {
		if !m.bucket.allow() {
			m.dropped.Add(1)
			return
		}
		msg = append(append(msg[:0], head...), line...)
		if !m.log.send(sev, msg) {
			m.dropped.Add(1)
		}
	}}
	readLines(r, s)
}
