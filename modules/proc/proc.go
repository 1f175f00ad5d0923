// Package proc runs commands inside a cell through the kernel bridge, for
// the actions of the apply engine: the Lua module require("cells.proc").
// The Go side (Run) opens the driver, finds the cell, starts the command
// with its stdin fed from a string, captures stderr (and stdout when
// asked), forwards output when asked, and enforces a timeout: SIGTERM to
// the command's process group, 100 ms of grace, then SIGKILL.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"syscall"
	"time"

	"cells/kernel"
	"cells/runtime/paths"
)

// MaxCapture caps the bytes of stdout or stderr kept in a Result.
const MaxCapture = 1 << 20

// killGrace is how long a timed-out command has between SIGTERM and
// SIGKILL (reference 4.6).
const killGrace = 100 * time.Millisecond

// Spec is one command to run in a cell.
type Spec struct {
	Argv    []string
	Env     map[string]string // nil: the driver's minimal default
	Dir     string            // in-cell working directory, "" = "/"
	Stdin   string
	Timeout time.Duration // 0: none
	// Forward copies the command's stdout and stderr to Stdout and Stderr
	// (reference 4.3: -vv and cell plan run).
	Forward       bool
	CaptureStdout bool
	Stdout        io.Writer // forwarding targets; nil means os.Stdout / os.Stderr
	Stderr        io.Writer
}

// Result is how the command ended.
type Result struct {
	Code     int
	Signal   int
	TimedOut bool
	Stdout   string // when CaptureStdout
	Stderr   string // captured stderr, at most MaxCapture bytes
}

// Raw is the wait(2) status upstream prints in ignore_exit warnings.
func (r Result) Raw() int {
	if r.Signal != 0 {
		return r.Signal
	}
	return r.Code << 8
}

// Opener opens the kernel driver; tests may replace it.
var Opener = func() (kernel.Driver, error) {
	return kernel.Open(kernel.Options{StateDir: paths.FromEnv().KernelState()})
}

// FindCell returns the kernel id of the active cell named name.
func FindCell(d kernel.Driver, name string) (uint32, error) {
	cells, err := d.List()
	if err != nil {
		return 0, err
	}
	for _, c := range cells {
		if c.Name == name {
			return c.ID, nil
		}
	}
	return 0, kernel.ErrNotExist
}

// Run runs s in the cell named cell (or with kernel id id when id != 0).
// ctx cancellation kills the command like a timeout does.
func Run(ctx context.Context, cell string, id uint32, s Spec) (Result, error) {
	if len(s.Argv) == 0 {
		return Result{}, errors.New("exec in cell: empty command")
	}
	d, err := Opener()
	if err != nil {
		return Result{}, err
	}
	defer d.Close()
	if id == 0 {
		if id, err = FindCell(d, cell); err != nil {
			return Result{}, fmt.Errorf("exec in cell %s: %w", cell, err)
		}
	}
	return run(ctx, d, id, s)
}

func run(ctx context.Context, d kernel.Driver, id uint32, s Spec) (Result, error) {
	var closers []*os.File
	defer func() {
		for _, f := range closers {
			f.Close()
		}
	}()
	pipe := func() (*os.File, *os.File, error) {
		r, w, err := os.Pipe()
		if err == nil {
			closers = append(closers, r, w)
		}
		return r, w, err
	}
	es := kernel.ExecSpec{Argv: s.Argv, Dir: s.Dir, Env: envList(s.Env), Setsid: true}
	var copies []chan struct{}
	var outBuf, errBuf capBuffer
	stdoutTo, stderrTo := s.Stdout, s.Stderr
	if stdoutTo == nil {
		stdoutTo = os.Stdout
	}
	if stderrTo == nil {
		stderrTo = os.Stderr
	}
	drain := func(r *os.File, sinks ...io.Writer) {
		done := make(chan struct{})
		copies = append(copies, done)
		go func() {
			io.Copy(io.MultiWriter(sinks...), r)
			close(done)
		}()
	}
	if s.Forward || s.CaptureStdout {
		r, w, err := pipe()
		if err != nil {
			return Result{}, err
		}
		es.Stdout = w
		var sinks []io.Writer
		if s.Forward {
			sinks = append(sinks, stdoutTo)
		}
		if s.CaptureStdout {
			sinks = append(sinks, &outBuf)
		}
		drain(r, sinks...)
	}
	er, ew, err := pipe()
	if err != nil {
		return Result{}, err
	}
	es.Stderr = ew
	if s.Forward {
		drain(er, &errBuf, stderrTo)
	} else {
		drain(er, &errBuf)
	}
	var stdinW *os.File
	if s.Stdin != "" {
		r, w, err := pipe()
		if err != nil {
			return Result{}, err
		}
		es.Stdin, stdinW = r, w
	}
	p, err := d.Exec(id, es)
	// The child holds its ends now; ours must close so EOF arrives.
	for _, f := range []*os.File{es.Stdin, es.Stdout, es.Stderr} {
		if f != nil {
			f.Close()
		}
	}
	if err != nil {
		if stdinW != nil {
			stdinW.Close()
		}
		return Result{}, err
	}
	if stdinW != nil {
		go func() {
			io.WriteString(stdinW, s.Stdin) // EPIPE when the command does not read: fine
			stdinW.Close()
		}()
	}
	res, err := wait(ctx, p, s.Timeout)
	// A background child of the command may keep the pipes open: take
	// what arrived within a moment, never wait for it.
	for _, f := range closers {
		f.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	}
	for _, c := range copies {
		<-c
	}
	res.Stdout, res.Stderr = outBuf.String(), errBuf.String()
	return res, err
}

// wait waits for p, killing it on timeout or cancellation.
func wait(ctx context.Context, p kernel.Process, timeout time.Duration) (Result, error) {
	type result struct {
		st  kernel.ExitStatus
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := p.Wait()
		done <- result{st, err}
	}()
	var expire <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expire = t.C
	}
	if ctx == nil {
		ctx = context.Background()
	}
	var res result
	timedOut := false
	select {
	case res = <-done:
	case <-expire:
		timedOut = true
	case <-ctx.Done():
		timedOut = true
	}
	if timedOut {
		// The command leads its own process group (Setsid): signal
		// the group so what it started goes too.
		signal(p, syscall.SIGTERM)
		select {
		case res = <-done:
		case <-time.After(killGrace):
			signal(p, syscall.SIGKILL)
			res = <-done
		}
	}
	out := Result{Code: res.st.Code, Signal: res.st.Signal, TimedOut: timedOut}
	return out, res.err
}

func signal(p kernel.Process, sig syscall.Signal) {
	syscall.Kill(-p.Pid(), sig)
	p.Signal(sig)
}

// envList turns env into sorted K=V strings (nil stays nil).
func envList(env map[string]string) []string {
	if env == nil {
		return nil
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// capBuffer keeps the first MaxCapture bytes written to it.
type capBuffer struct{ b bytes.Buffer }

func (c *capBuffer) Write(p []byte) (int, error) {
	if room := MaxCapture - c.b.Len(); room > 0 {
		if len(p) > room {
			c.b.Write(p[:room])
		} else {
			c.b.Write(p)
		}
	}
	return len(p), nil
}

func (c *capBuffer) String() string { return c.b.String() }
