package supervise

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"cells/kernel"
	"cells/runtime/paths"
)

// monitorEnv marks a re-executed cellctl as a stage of the daemonization:
// "spawn" (the intermediate process, the first fork of the classic double
// fork) or "run" (the monitor itself). The supervise request travels on fd
// 3 and the monitor's readiness on fd 4, so the title stays clean.
const monitorEnv = "CELLS_SUPERVISE_MONITOR"

// Descriptors handed to the daemon stages (ExtraFiles start at 3).
const (
	requestFD = 3
	readyFD   = 4
)

// readyTimeout bounds how long the invoking process waits for the monitor.
var readyTimeout = 10 * time.Second

// monitorArgv is the argv, thus the process title, of the monitor:
// exactly `cellctl supervise cell=<name> cid=<id>`, whichever binary starts
// it. The re-executed binary is the invoking one (os.Executable): cellctl
// routes the words to Command, testscript's harness dispatches on argv[0]
// "cellctl", and other binaries call MaybeMonitor first.
func monitorArgv(name string, id uint32) []string {
	return []string{"cellctl", "supervise", "cell=" + name, fmt.Sprintf("cid=%d", id)}
}

// MaybeMonitor runs the supervise daemon stage and exits when this process
// was re-executed as one; otherwise it returns at once. cellctl needs no
// call (it routes `supervise` to Command); any other binary that calls
// Command in-process (cellman, cellui) must call it first thing in main,
// like kernel.MaybeInit.
func MaybeMonitor() {
	if os.Getenv(monitorEnv) != "" && len(os.Args) == 4 && os.Args[1] == "supervise" && strings.HasPrefix(os.Args[2], "cell=") {
		os.Exit(Command(os.Args[2:], os.Stdout, os.Stderr))
	}
}

// spawn starts the monitor daemon for cell and waits until it runs: the
// intermediate stage starts the monitor and exits, so the monitor is
// nobody's child (no zombie in a long-lived caller) and not a session
// leader (it can never acquire a controlling terminal).
func spawn(o *Options, cell kernel.Cell, p paths.Paths) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("supervise: find own executable: %w", err)
	}
	runDir, err := filepath.Abs(p.RunDir)
	if err != nil {
		return fmt.Errorf("supervise: %w", err)
	}
	stateDir, err := filepath.Abs(p.KernelState())
	if err != nil {
		return fmt.Errorf("supervise: %w", err)
	}
	req := request{
		CellID: cell.ID, CellName: cell.Name,
		Facility: o.Facility, StdoutLevel: o.StdoutLevel, StderrLevel: o.StderrLevel, Tag: o.Tag,
		Cred: o.Cred, Argv: o.Argv, RunDir: runDir, KernelState: stateDir,
	}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("supervise: pipe: %w", err)
	}
	defer reqW.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		return fmt.Errorf("supervise: pipe: %w", err)
	}
	defer readyR.Close()
	cmd := &exec.Cmd{
		Path:       exe,
		Args:       monitorArgv(cell.Name, cell.ID),
		Env:        daemonEnv("spawn"),
		Dir:        "/",
		ExtraFiles: []*os.File{reqR, readyW},
		// The daemon leaves the caller's session and terminal.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	reqR.Close()
	readyW.Close()
	if err != nil {
		return fmt.Errorf("supervise: start monitor: %w", err)
	}
	encErr := json.NewEncoder(reqW).Encode(req)
	reqW.Close()
	waitErr := cmd.Wait()
	// The monitor (or the intermediate stage, when it could not start the
	// monitor) answers "ok" or the reason it failed, then closes the pipe.
	readyR.SetReadDeadline(time.Now().Add(readyTimeout))
	b, err := io.ReadAll(readyR)
	msg := strings.TrimSpace(string(b))
	switch {
	case msg == "ok":
		return nil
	case msg != "":
		return fmt.Errorf("%s", msg)
	case encErr != nil:
		return fmt.Errorf("supervise: start monitor: %w", encErr)
	case waitErr != nil:
		return fmt.Errorf("supervise: start monitor: %w", waitErr)
	case err != nil:
		return fmt.Errorf("supervise: monitor not ready: %w", err)
	}
	return fmt.Errorf("supervise: monitor exited during startup")
}

// daemonEnv is the caller's environment for a daemon stage, with the
// locations made absolute (the daemon runs in "/").
func daemonEnv(stage string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case monitorEnv:
			continue
		case "CELLMAN_PREFIX", "CELLMAN_DSL_DIR", "CELLS_SYSLOG_SOCKET":
			if v != "" {
				if abs, err := filepath.Abs(v); err == nil {
					kv = k + "=" + abs
				}
			}
		}
		env = append(env, kv)
	}
	return append(env, monitorEnv+"="+stage)
}

// spawnStage is the intermediate process: it starts the monitor with the
// same title and descriptors, and exits at once.
func spawnStage(args []string) int {
	cloexecInherited()
	req := os.NewFile(requestFD, "request")
	ready := os.NewFile(readyFD, "ready")
	exe, err := os.Executable()
	if err == nil {
		cmd := &exec.Cmd{
			Path:       exe,
			Args:       append([]string{"cellctl", "supervise"}, args...),
			Env:        daemonEnv("run"),
			Dir:        "/",
			ExtraFiles: []*os.File{req, ready},
		}
		err = cmd.Start()
	}
	if err != nil {
		fmt.Fprintf(ready, "supervise: start monitor: %v\n", err)
		return 1
	}
	return 0
}

// monitorStage is the monitor: it reads the request and supervises.
func monitorStage(args []string) int {
	// No inherited descriptor may reach the service.
	cloexecInherited()
	reqF := os.NewFile(requestFD, "request")
	ready := os.NewFile(readyFD, "ready")
	var req request
	err := json.NewDecoder(reqF).Decode(&req)
	reqF.Close()
	if err == nil && args[0] != "cell="+req.CellName {
		err = fmt.Errorf("request for cell '%s' does not match title %s", req.CellName, args[0])
	}
	if err != nil {
		fmt.Fprintf(ready, "supervise: monitor request: %v\n", err)
		ready.Close()
		return 1
	}
	return runMonitor(req, ready)
}
