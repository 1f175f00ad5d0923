// Package testscripts holds the command-line contract of cellman and cellctl
// as txtar scripts (exact stdout, stderr and exit codes), run in-process by
// testscript. Unprivileged scripts use the file-backed fake kernel driver;
// lines guarded by [cells] use the real driver and need root on Linux.
package testscripts

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"cells/bin/cellctl/cellctl"
	"cells/bin/cellman/cellman"
	"cells/kernel"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"cellman":       func() { os.Exit(cellman.Main(os.Args, os.Stdin, os.Stdout, os.Stderr)) },
		"cellctl":       func() { os.Exit(cellctl.Main(os.Args, os.Stdin, os.Stdout, os.Stderr)) },
		kernel.InitArg0: func() { os.Exit(kernel.InitMain()) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, params("."))
}

func params(dir string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
		Setup: func(env *testscript.Env) error {
			prefix := filepath.Join(env.WorkDir, "prefix")
			env.Setenv("CELLMAN_PREFIX", prefix)
			env.Setenv("CELLS_DRIVER", "fake")
			env.Setenv("COLUMNS", "120")
			env.Setenv("CELLMAN_CALL_CONTEXT", "")
			env.Setenv("CELLMAN_DSL_DIR", "")
			return os.MkdirAll(prefix, 0o755)
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			case "cells": // the real driver: root on Linux with namespaces
				return runtime.GOOS == "linux" && os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	}
}
