package runtime_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"cells/runtime"
)

// TestIntegrationKilledAnywhereRoot SIGKILLs `cellman apply` at points spread
// over a whole apply that runs actions and restarts an autostart cell with
// a volume, a service and a healthcheck; after each kill a re-run must
// converge to exactly one kernel cell with its mounts, its monitor and its
// service.
//
// It once found two bugs, both fixed: a create killed after the holder
// reported ready left a cell with no record (the driver now records first
// and the holder waits for the creator's commit), and a start killed
// before supervise left a running cell without its service that the next
// apply took for converged (a missing monitor now counts as a service
// change).
func TestIntegrationKilledAnywhereRoot(t *testing.T) {
	e := newIT(t)
	dsl := func(i int) string {
		return fmt.Sprintf(`volume("it-kv", {})
cell("it-kany", { autostart = true, supervise = { cmd = "exec sleep 1000" },
  mounts = { volume("it-kv", { target = "/srv", mode = "rw" }) }, healthcheck = "test -f /srv/v" })
apply("it-kany", { file("/srv/v", "v%d\n") })
`, i)
	}
	e.dsl("10.lua", dsl(0))
	start := time.Now()
	e.run(0, "apply", "--silent", "--all")
	full := time.Since(start)
	mounts := len(mountsUnder(t, e.p.CellRoot("it-kany")))
	t.Logf("one apply: %v, %d mounts", full, mounts)
	for i := 1; i <= 12; i++ {
		e.dsl("10.lua", dsl(i))
		delay := time.Duration(i) * full / 10
		cmd := exec.Command(os.Args[0], "-test.run=^TestIntegrationHelperProcess$")
		cmd.Env = append(os.Environ(), "IT_CELLMAN_ARGS=apply\x1f--silent\x1f--all")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Kill()
		cmd.Wait()
		// A child forked by the killed process holds a copy of its
		// descriptors until it execs: the lock is free a moment later.
		for w := 0; ; w++ {
			l, err := runtime.AcquireLock(e.p, "test")
			if err == nil {
				l.Release()
				break
			}
			if w == 100 {
				t.Fatalf("kill %d: lock still held after 1 s: %v", i, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		e.run(0, "apply", "--silent", "--all")
		e.run(0, "apply", "--dry-run", "--all")
		if got := strings.Join(e.running(), ","); got != "it-kany" {
			t.Fatalf("kill %d after %v: running %q", i, delay, got)
		}
		if m := mountsUnder(t, e.p.CellRoot("it-kany")); len(m) != mounts {
			t.Fatalf("kill %d after %v: mounts on the host %q, want %d", i, delay, m, mounts)
		}
		if got := e.shell("it-kany", "cat", "/srv/v"); got != fmt.Sprintf("v%d\n", i) {
			t.Fatalf("kill %d: /srv/v %q", i, got)
		}
		if ps := e.shell("it-kany", "ps", "-e", "-o", "comm="); strings.Count(ps, "sleep") != 1 {
			t.Fatalf("kill %d after %v: processes %q", i, delay, ps)
		}
	}
}
