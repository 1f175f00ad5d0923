package cellman

import (
	"errors"
	"fmt"
	"os"

	"cells/bin/cellctl/cellctl"
	"cells/runtime"
)

// `cell start|stop|restart <name>|--all` and `cell shell` (reference §2.4)
// over the runtime's lifecycle.

// lifecycleOptions are the runtime options of a lifecycle command: the
// prefix and log lines on stderr.
func (c *cli) lifecycleOptions() runtime.LifecycleOptions {
	return runtime.LifecycleOptions{
		Paths: c.paths,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(c.stderr, "%s: %s\n", c.argv0, fmt.Sprintf(format, args...))
		},
	}
}

// mayRunCells is root, or a scratch prefix with the fake kernel driver
// (tests and previews touch nothing outside the prefix).
func (c *cli) mayRunCells() error {
	if os.Geteuid() == 0 || (os.Getenv("CELLS_DRIVER") == "fake" && c.paths.Prefix != "/") {
		return nil
	}
	return errors.New("must be root")
}

// lifecycle runs one lifecycle operation under the apply lock, so a start
// or stop never interleaves with an apply (or another start or stop); a
// held lock names its holder.
func (c *cli) lifecycle(op string, a lifecycleArgs, one func(string, runtime.LifecycleOptions) error, all func(runtime.LifecycleOptions) error) error {
	if err := c.mayRunCells(); err != nil {
		return err
	}
	lock, err := runtime.AcquireLock(c.paths, "cell "+op)
	if err != nil {
		return err
	}
	defer lock.Release()
	if a.all {
		return all(c.lifecycleOptions())
	}
	return one(a.name, c.lifecycleOptions())
}

func cmdCellStart(c *cli, args []string) error {
	a, err := parseLifecycleArgs("start", args)
	if err != nil {
		return err
	}
	return c.lifecycle("start", a, runtime.StartCell, runtime.StartAll)
}

func cmdCellStop(c *cli, args []string) error {
	a, err := parseLifecycleArgs("stop", args)
	if err != nil {
		return err
	}
	return c.lifecycle("stop", a, runtime.StopCell, runtime.StopAll)
}

func cmdCellRestart(c *cli, args []string) error {
	a, err := parseLifecycleArgs("restart", args)
	if err != nil {
		return err
	}
	return c.lifecycle("restart", a, runtime.RestartCell, runtime.RestartAll)
}

// cmdCellShell runs `cellctl exec <name> [command ...]` with cellman's
// stdio; PKG_PATH from cellman.conf is exported when the environment has
// none, as upstream.
func cmdCellShell(c *cli, args []string) error {
	a, err := parseShellArgs(args)
	if err != nil {
		return err
	}
	if os.Getenv("PKG_PATH") == "" {
		cfg, err := runtime.LoadConfig(c.paths.ConfFile)
		if err != nil {
			return err
		}
		if v, ok := cfg.File("PKG_PATH"); ok && v != "" {
			os.Setenv("PKG_PATH", v)
			defer os.Unsetenv("PKG_PATH")
		}
	}
	argv := append([]string{"cellctl", "exec", a.name}, a.argv...)
	if cellctl.Main(argv, c.stdin, c.stdout, c.stderr) != 0 {
		return errors.New("command failed: cellctl")
	}
	return nil
}
