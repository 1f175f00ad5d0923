package cellctl

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"cells/kernel"
)

// exec implements `cellctl exec <cell-id|name> [command [args...]]`: the
// command (or an interactive login shell) runs in the cell with cellctl's
// environment and stdio; cellctl exits with its status, 128+signal when it
// was killed.
func (c *cmd) exec(args []string) error {
	// Upstream scans no options here: everything after the target is the
	// command, dashes included.
	if len(args) < 2 {
		return errUsage
	}
	target, argv := args[1], args[2:]
	env := cellEnv(os.Environ())
	return c.withDriver(func(d kernel.Driver) error {
		cell, err := lookup(d, target)
		if err != nil {
			return err
		}
		path := ""
		if len(argv) == 0 {
			path, argv, env = loginShell(cell.Name, env)
		}
		stdio, cleanup, err := c.stdioFiles()
		if err != nil {
			return err
		}
		defer cleanup()
		spec := kernel.ExecSpec{
			Path: path, Argv: argv, Env: env, Dir: "/",
			Stdin: stdio[0], Stdout: stdio[1], Stderr: stdio[2],
		}
		if d.Name() == "linux" && stdio[0] != nil && stdio[1] != nil {
			pts, stop, ok, err := terminalProxy(stdio[0], stdio[1])
			if err != nil {
				return err
			}
			if ok {
				defer stop()
				spec.Stdin, spec.Stdout, spec.Stderr = pts, pts, pts
				spec.Setsid, spec.Setctty = true, true
			}
		}
		p, err := d.Exec(cell.ID, spec)
		if err != nil {
			if isExecFailure(err) {
				return fmt.Errorf("exec %s: %s", cmp.Or(path, argv[0]), Strerror(err))
			}
			return fmt.Errorf("enter cell %d: %s", cell.ID, Strerror(err))
		}
		st, err := waitForwarding(p)
		if err != nil {
			return fmt.Errorf("exec %s: %v", cmp.Or(path, argv[0]), err)
		}
		if st.Signal != 0 {
			return exitError{128 + st.Signal}
		}
		if st.Code != 0 {
			return exitError{st.Code}
		}
		return nil
	})
}

// loginShell is the interactive shell of `cellctl exec <cell>`: $SHELL
// (default /bin/sh) run as an interactive login shell named "-<shell>"
// with -i, as upstream, and PS1 "[<name>]# ".
func loginShell(name string, env []string) (path string, argv, newEnv []string) {
	shell := ""
	kept := env[:0:0]
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "SHELL="):
			shell = kv[len("SHELL="):]
		case strings.HasPrefix(kv, "PS1="):
			continue
		}
		kept = append(kept, kv)
	}
	if shell == "" {
		shell = "/bin/sh"
	}
	return shell, []string{"-" + filepath.Base(shell), "-i"}, append(kept, "PS1=["+name+"]# ")
}

// cellEnv is the environment a command in a cell inherits from cellctl:
// the caller's, as upstream, less the dynamic loader's variables (a host
// LD_PRELOAD must never reach into a cell) and the tools' own settings.
func cellEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if strings.HasPrefix(kv, "LD_") || strings.HasPrefix(kv, "CELLMAN_") || strings.HasPrefix(kv, "CELLS_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// isExecFailure tells a command that could not be started apart from a
// cell that could not be entered.
func isExecFailure(err error) bool {
	if errors.Is(err, exec.ErrNotFound) {
		return true
	}
	for _, s := range []error{kernel.ErrNotExist, kernel.ErrBusy, kernel.ErrPermission, kernel.ErrInvalid, kernel.ErrNotSupported} {
		if errors.Is(err, s) {
			return false
		}
	}
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.ENOEXEC)
}

// waitForwarding waits for p. Like system(3), cellctl ignores SIGINT and
// SIGQUIT meanwhile (the terminal sends them to the child too) and passes
// SIGTERM and SIGHUP on.
func waitForwarding(p kernel.Process) (kernel.ExitStatus, error) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, os.Interrupt, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(ch)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				if s == syscall.SIGTERM || s == syscall.SIGHUP {
					p.Signal(s)
				}
			}
		}
	}()
	return p.Wait()
}

// stdioFiles returns cellctl's stdio as files for the child: the files
// themselves when they are, else pipes copied from and to the streams.
func (c *cmd) stdioFiles() (files [3]*os.File, cleanup func(), err error) {
	var closers []io.Closer
	var copies []chan struct{}
	cleanup = func() {
		for _, cl := range closers {
			cl.Close()
		}
		for _, ch := range copies {
			<-ch
		}
	}
	if f, ok := c.stdin.(*os.File); ok {
		files[0] = f
	} else if c.stdin != nil {
		r, w, err := os.Pipe()
		if err != nil {
			return files, cleanup, fmt.Errorf("exec: stdin: %w", err)
		}
		files[0] = r
		closers = append(closers, r)
		go func() { io.Copy(w, c.stdin); w.Close() }()
	}
	for i, out := range []io.Writer{c.stdout, c.stderr} {
		if f, ok := out.(*os.File); ok {
			files[i+1] = f
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			cleanup()
			return files, func() {}, fmt.Errorf("exec: output: %w", err)
		}
		files[i+1] = w
		done := make(chan struct{})
		copies = append(copies, done)
		go func() { io.Copy(out, r); r.Close(); close(done) }()
		// The parent's write end must close after the child started so the
		// copy sees EOF when the child exits; cleanup closes it before
		// waiting for the copies.
		closers = append(closers, w)
	}
	return files, cleanup, nil
}
