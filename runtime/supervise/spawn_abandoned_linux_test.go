package supervise

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"cells/kernel"
	"cells/runtime/paths"
)

// A monitor whose invoker is gone before the monitor reported ready (the
// invoker was killed while starting the cell, or gave up waiting) exits
// without starting the service: nobody would know of it, and it would
// make the next supervise of the cell fail as "already supervised".
func TestSpawnAbandoned(t *testing.T) {
	f := newFixture(t, "abandoned", kernel.Rlimits{})
	marker := filepath.Join(f.dir, "started")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := paths.FromEnv()
	runDir, _ := filepath.Abs(p.RunDir)
	stateDir, _ := filepath.Abs(p.KernelState())
	req := request{
		CellID: f.id, CellName: f.name, RunDir: runDir, KernelState: stateDir,
		Argv: []string{"/bin/sh", "-c", "echo > " + marker + "; exec sleep 3000"},
	}
	// spawn's steps, with the invoker's end of the ready pipe closed.
	reqR, reqW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	readyR.Close()
	cmd := &exec.Cmd{
		Path: exe, Args: monitorArgv(f.name, f.id), Env: daemonEnv("spawn"), Dir: "/",
		ExtraFiles: []*os.File{reqR, readyW}, SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reqR.Close()
	readyW.Close()
	json.NewEncoder(reqW).Encode(req)
	reqW.Close()
	cmd.Wait()
	// The monitor is adopted by this process (subreaper): it must end
	// (a zombie here) and leave nothing alive.
	ended := waitFor(5*time.Second, func() bool {
		live, zombies := descendants(os.Getpid())
		n := 0
		for _, pid := range live {
			if f.syslogd == nil || f.syslogd.Process == nil || pid != f.syslogd.Process.Pid {
				n++
			}
		}
		return n == 0 && len(zombies) > 0
	})
	if !ended {
		t.Fatalf("the abandoned monitor still runs: %v", f.leftovers())
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the abandoned monitor started the service")
	}
	if pids, _ := FindMonitors(f.name); len(pids) != 0 {
		t.Fatalf("monitors %v", pids)
	}
	if _, err := os.Stat(pidfilePath(runDir, f.name)); !os.IsNotExist(err) {
		t.Fatalf("pidfile left: %v", err)
	}
}
