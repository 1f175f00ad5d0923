package supervise

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"cells/runtime/paths"
)

// A pidfile naming a dead pid, or a live pid with another start time (a
// recycled pid), is stale: FindMonitors ignores it and StopMonitor cleans
// it up without signalling anyone.
func TestStalePidfile(t *testing.T) {
	t.Setenv("CELLMAN_PREFIX", t.TempDir())
	runDir := paths.FromEnv().RunDir
	os.MkdirAll(superviseDir(runDir), 0o755)
	start, _, err := procStart(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, content := range []string{
		fmt.Sprintf("%d %s\n", os.Getpid(), start+"1"), // recycled pid
		"999999999 1\n", // no such process
		"garbage\n",
	} {
		if err := os.WriteFile(pidfilePath(runDir, "web"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if pids, err := FindMonitors("web"); err != nil || len(pids) != 0 {
			t.Errorf("%q: FindMonitors = %v, %v; want none", content, pids, err)
		}
		if err := StopMonitor("web", time.Second); err != nil {
			t.Errorf("%q: StopMonitor: %v", content, err)
		}
	}
	if _, err := FindMonitors("bad/name"); err == nil {
		t.Error("FindMonitors accepted an invalid name")
	}
}

func TestReadCounters(t *testing.T) {
	t.Setenv("CELLMAN_PREFIX", t.TempDir())
	runDir := paths.FromEnv().RunDir
	os.MkdirAll(superviseDir(runDir), 0o755)
	if _, _, ok := ReadCounters("web"); ok {
		t.Error("counters without a stats file")
	}
	path := statsPath(runDir, "web")
	if err := writeFileAtomic(path, formatCounters(3, 12345678901)); err != nil {
		t.Fatal(err)
	}
	if r, d, ok := ReadCounters("web"); !ok || r != 3 || d != 12345678901 {
		t.Errorf("got %d %d %v", r, d, ok)
	}
	for _, bad := range []string{"restarts=1\n", "restarts=x\ndropped=1\n", ""} {
		os.WriteFile(path, []byte(bad), 0o644)
		if _, _, ok := ReadCounters("web"); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}
