package runtime_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"cells/bin/cellman/cellman"
	"cells/runtime"
	"cells/runtime/supervise"
)

// TestIntegrationHelperProcess is not a test: TestIntegrationKilledRoot
// runs the test binary with IT_CELLMAN_ARGS set (words separated by
// \x1f) to run cellman in a child it can SIGKILL.
func TestIntegrationHelperProcess(t *testing.T) {
	args := os.Getenv("IT_CELLMAN_ARGS")
	if args == "" {
		t.Skip("helper process for TestIntegrationKilledRoot")
	}
	os.Exit(cellman.Main(append([]string{"cellman"}, strings.Split(args, "\x1f")...), os.Stdin, os.Stdout, os.Stderr))
}

// killedCellman starts `cellman args...` in a child process, waits until
// ready() holds, SIGKILLs it and returns its stderr.
func (e *itEnv) killedCellman(ready func() bool, args ...string) string {
	e.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestIntegrationHelperProcess$")
	cmd.Env = append(os.Environ(), "IT_CELLMAN_ARGS="+strings.Join(args, "\x1f"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := false
	defer func() {
		if !done {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !ready() {
		if time.Now().After(deadline) {
			e.t.Fatalf("cellman %s never got there; stderr: %s", strings.Join(args, " "), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	done = true
	return stderr.String()
}

// converged checks the state after a re-run: exactly the cells named run,
// each with one monitor and the same mounts as it-k1 (nothing stacked
// twice), only the service in the cell, no temporary file in the prefix.
func (e *itEnv) converged(names ...string) {
	e.t.Helper()
	t := e.t
	if got := strings.Join(e.running(), ","); got != strings.Join(names, ",") {
		t.Fatalf("running %q, want %q", got, names)
	}
	ref := mountsUnder(t, e.p.CellRoot("it-k1"))
	for _, n := range names {
		if pids, _ := supervise.FindMonitors(n); len(pids) != 1 {
			t.Errorf("%s: monitors %v", n, pids)
		}
		m := mountsUnder(t, e.p.CellRoot(n))
		if len(m) != len(ref) {
			t.Errorf("%s: mounts %q (it-k1: %q)", n, m, ref)
		}
		seen := map[string]bool{}
		for _, mp := range m {
			if seen[mp] {
				t.Errorf("%s: %s mounted twice", n, mp)
			}
			seen[mp] = true
		}
		var comms []string
		for _, c := range strings.Fields(e.shell(n, "ps", "-e", "-o", "comm=")) {
			comms = append(comms, c)
		}
		sort.Strings(comms)
		if strings.Join(comms, " ") != "cells-init ps sleep" {
			t.Errorf("%s: processes %q", n, comms)
		}
	}
	roots := map[string]bool{}
	for _, n := range names {
		roots[e.p.CellRoot(n)] = true
	}
	filepath.WalkDir(e.p.Prefix, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && roots[path] {
			return filepath.SkipDir // the mounted view of the overlay walked below
		}
		if b := d.Name(); strings.Contains(b, ".tmp") || strings.Contains(b, ".cells-") {
			t.Errorf("temporary file left: %s", path)
		}
		return nil
	})
}

// TestIntegrationKilledRoot: `cellman apply` SIGKILLed while an action
// runs in a running autostart cell, then while a new cell's healthcheck
// retries. Each time the lock is free afterwards, the interrupted target
// keeps its previous hashes (or none) and shows as drift, and a re-run
// converges without leaking or stacking anything: one kernel cell, one
// monitor and one set of mounts per cell, no orphaned action process.
func TestIntegrationKilledRoot(t *testing.T) {
	e := newIT(t)
	const k1 = `cell("it-k1", { autostart = true, supervise = { cmd = "exec sleep 1000" } })
apply("it-k1", { file("/etc/k1", "k1\n") })
`
	const k2 = `cell("it-k2", { autostart = true, depends_on = { "it-k1" }, supervise = { cmd = "exec sleep 1000" } })
`
	e.dsl("10-k.lua", k1+k2+`apply("it-k2", { file("/etc/k2", "k2\n") })`+"\n")
	e.run(0, "apply", "--silent", "--all")
	old1, _ := runtime.ReadHashes(e.p, "it-k1")
	old2, _ := runtime.ReadHashes(e.p, "it-k2")

	// 1. Killed during an action of the running it-k2.
	e.dsl("10-k.lua", k1+k2+`apply("it-k2", { file("/etc/k2", "k2 v2\n"),
  exec("touch /started; i=0; while [ ! -f /release ] && [ $i -lt 400 ]; do i=$((i+1)); sleep 0.05; done") })
`)
	started := filepath.Join(e.p.CellRoot("it-k2"), "started")
	e.killedCellman(func() bool { _, err := os.Stat(started); return err == nil }, "apply", "--silent", "--all")
	e.run(0, "cell", "start", "it-k1") // takes the lock: it died with cellman
	if h, _ := runtime.ReadHashes(e.p, "it-k1"); h != old1 {
		t.Fatalf("it-k1 hashes changed: %+v, was %+v", h, old1)
	}
	if h, _ := runtime.ReadHashes(e.p, "it-k2"); h != old2 {
		t.Fatalf("it-k2 hashes changed by the killed apply: %+v, was %+v", h, old2)
	}
	e.run(2, "apply", "--dry-run", "--all")
	if err := os.WriteFile(filepath.Join(e.p.CellRoot("it-k2"), "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.run(0, "apply", "--silent", "--all")
	e.run(0, "apply", "--dry-run", "--all")
	if got := e.shell("it-k2", "cat", "/etc/k2"); got != "k2 v2\n" {
		t.Fatalf("/etc/k2 %q", got)
	}
	e.converged("it-k1", "it-k2")

	// 2. Killed while the healthcheck of a new cell retries: its kernel
	// cell, mounts and monitor exist, no hashes.
	e.dsl("20-k3.lua", `cell("it-k3", { autostart = true, supervise = { cmd = "exec sleep 1000" }, healthcheck = "test -f /etc/ready" })
`)
	ready := filepath.Join(e.p.CellRoot("it-k3"), "etc/ready")
	e.killedCellman(func() bool {
		pids, _ := supervise.FindMonitors("it-k3")
		return len(pids) == 1
	}, "apply", "--silent", "--all")
	if got := strings.Join(e.running(), ","); got != "it-k1,it-k2,it-k3" {
		t.Fatalf("running after the kill during the start of it-k3: %q", got)
	}
	if h, _ := runtime.ReadHashes(e.p, "it-k3"); h != (runtime.StoredHashes{}) {
		t.Fatalf("it-k3 hashes after the kill: %+v", h)
	}
	e.run(2, "apply", "--dry-run", "--all")
	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.run(0, "apply", "--silent", "--all")
	e.run(0, "apply", "--dry-run", "--all")
	e.converged("it-k1", "it-k2", "it-k3")
}
