package runtime_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"cells/runtime"
	"cells/runtime/supervise"
)

// depsDSL declares it-c -> it-b -> it-a (depends_on), in reverse order.
// Each service appends its name to a shared volume when it starts; the
// healthcheck waits for that line, so a start returns only once its
// service has recorded it and the file's order is the start order.
func depsDSL(autostart bool) string {
	var b strings.Builder
	b.WriteString(`volume("it-times", {})` + "\n")
	for _, c := range []struct{ name, dep string }{{"it-c", "it-b"}, {"it-b", "it-a"}, {"it-a", ""}} {
		dep := ""
		if c.dep != "" {
			dep = fmt.Sprintf("depends_on = { %q }, ", c.dep)
		}
		fmt.Fprintf(&b, `cell(%[1]q, { autostart = %[3]v, %[2]s
  supervise = { cmd = "echo %[1]s >> /times/order; exec sleep 1000" },
  mounts = { volume("it-times", { target = "/times", mode = "rw" }) },
  healthcheck = "grep -qx %[1]s /times/order",
})
`, c.name, dep, autostart)
	}
	return b.String()
}

// TestIntegrationDependencyOrderRoot: `cell start it-c` starts the
// closure it-a, it-b, it-c in that order; apply starts autostart cells in
// dependency order whatever the declaration order.
func TestIntegrationDependencyOrderRoot(t *testing.T) {
	e := newIT(t)
	order := func() string {
		t.Helper()
		b, err := os.ReadFile(e.p.Volume("it-times") + "/order")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	e.dsl("10-deps.lua", depsDSL(false))
	e.run(0, "apply", "--silent", "--all")
	if got := e.running(); len(got) != 0 {
		t.Fatalf("cells running after apply without autostart: %q", got)
	}
	e.run(0, "cell", "start", "it-c")
	if got := order(); got != "it-a\nit-b\nit-c\n" {
		t.Fatalf("start order %q", got)
	}
	if got := strings.Join(e.running(), ","); got != "it-a,it-b,it-c" {
		t.Fatalf("running after cell start it-c: %q", got)
	}
	// Starting the closure again starts nothing twice.
	e.run(0, "cell", "start", "it-c")
	if got := order(); got != "it-a\nit-b\nit-c\n" {
		t.Fatalf("order after a second start %q", got)
	}

	e.run(0, "cell", "stop", "--all")
	if err := os.Remove(e.p.Volume("it-times") + "/order"); err != nil {
		t.Fatal(err)
	}
	e.dsl("10-deps.lua", depsDSL(true))
	e.run(2, "apply", "--dry-run", "--all")
	e.run(0, "apply", "--silent", "--all")
	if got := order(); got != "it-a\nit-b\nit-c\n" {
		t.Fatalf("apply start order %q", got)
	}
	e.run(0, "apply", "--dry-run", "--all")
}

// TestIntegrationHealthcheckFailRoot: a failing healthcheck fails the
// apply after 4 attempts; the cell's runtime is kept (kernel cell, mounts,
// monitor), its hashes are not written while the target before it keeps
// its own; a fixed healthcheck converges.
func TestIntegrationHealthcheckFailRoot(t *testing.T) {
	e := newIT(t)
	dsl := `cell("it-hc-ok", { autostart = true, supervise = { cmd = "exec sleep 1000" } })
apply("it-hc-ok", { file("/etc/ok", "ok\n") })
cell("it-hc", {
  autostart = true,
  depends_on = { "it-hc-ok" },
  supervise = { cmd = "exec sleep 1000" },
  healthcheck = "HC",
})
apply("it-hc", { file("/etc/hc", "hc\n") })
`
	e.dsl("10-hc.lua", strings.Replace(dsl, "HC", "echo not ready >&2; exit 3", 1))
	_, stderr := e.run(1, "apply", "--silent", "--all")
	if stderr != "cellman: cell healthcheck it-hc failed after 4 attempts: not ready (command: echo not ready >&2; exit 3)\n" {
		t.Fatalf("stderr %q", stderr)
	}
	if got := strings.Join(e.running(), ","); got != "it-hc,it-hc-ok" {
		t.Fatalf("running after the failed healthcheck: %q", got)
	}
	if m, _ := runtime.CellMounts(e.p.CellRoot("it-hc")); len(m) == 0 {
		t.Fatal("the failing cell's mounts were removed")
	}
	if pids, _ := supervise.FindMonitors("it-hc"); len(pids) != 1 {
		t.Fatalf("monitors of it-hc: %v", pids)
	}
	if h, err := runtime.ReadHashes(e.p, "it-hc"); err != nil || h != (runtime.StoredHashes{}) {
		t.Fatalf("hashes of the failing target: %+v, %v", h, err)
	}
	if h, _ := runtime.ReadHashes(e.p, "it-hc-ok"); h.Manifest == "" || h.Service == "" || h.Policy == "" || h.Apply == "" {
		t.Fatalf("hashes of the converged target: %+v", h)
	}
	if got := e.shell("it-hc", "cat", "/etc/hc"); got != "hc\n" {
		t.Fatalf("actions before the healthcheck: /etc/hc %q", got)
	}
	e.run(2, "apply", "--dry-run", "--all")

	e.dsl("10-hc.lua", strings.Replace(dsl, "HC", "test -f /etc/hc", 1))
	e.run(0, "apply", "--silent", "--all")
	e.run(0, "apply", "--dry-run", "--all")
	if h, _ := runtime.ReadHashes(e.p, "it-hc"); h.Manifest == "" || h.Apply == "" {
		t.Fatalf("hashes after the fix: %+v", h)
	}
}
