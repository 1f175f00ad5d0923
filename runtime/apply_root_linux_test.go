package runtime

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cells/runtime/paths"
)

// rootPrefix is a bootstrapped scratch prefix for the real Linux driver;
// every cell it runs is stopped (and unmounted) when the test ends, also on
// failure.
func rootPrefix(t testing.TB) paths.Paths {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: real cells with the Linux driver")
	}
	dir := t.TempDir()
	t.Setenv("CELLMAN_PREFIX", dir)
	t.Setenv("CELLS_DRIVER", "")
	t.Setenv("CELLMAN_DSL_DIR", "")
	p := paths.New(dir, "")
	if _, err := Bootstrap(p, BootstrapOptions{}); err != nil {
		t.Skipf("cannot bootstrap a base here: %v", err)
	}
	t.Cleanup(func() {
		if err := StopAll(LifecycleOptions{Paths: p}); err != nil {
			t.Errorf("cleanup: stop --all: %v", err)
		}
		if m, err := Mounts(); err == nil {
			for mp := range m {
				if strings.HasPrefix(mp, dir+"/") {
					t.Errorf("cleanup: still mounted: %s", mp)
				}
			}
		}
	})
	return p
}

const walkthroughDSL = `volume("data", { mode = "0755" })
cell("web", {
  autostart = true,
  supervise = { cmd = "exec sleep 1000" },
  mounts = { volume("data", { target = "/srv", mode = "rw" }) },
  healthcheck = "test -f /srv/index.html",
})
apply("web", {
  file("/srv/index.html", "hello {{ cell_name }}\n", { mode = "0644" }),
  line("/etc/hosts", "127.0.0.1 web"),
})
`

// TestApplyWalkthroughRoot: the operating model on real cells: drift
// (exit 2), converge, clean (exit 0), an edited file drifts again, a
// stopped autostart cell is started again.
func TestApplyWalkthroughRoot(t *testing.T) {
	p := rootPrefix(t)
	writeDSL(t, p, "10-web.lua", walkthroughDSL)
	dry := func(want int) {
		t.Helper()
		var out bytes.Buffer
		code, err := Apply(ApplyOptions{Paths: p, DryRun: true, Silent: true, Stdout: &out})
		if err != nil || code != want {
			t.Fatalf("dry run: code %d (want %d), err %v", code, want, err)
		}
	}
	apply := func() {
		t.Helper()
		var out, errb bytes.Buffer
		if code, err := Apply(ApplyOptions{Paths: p, Stdout: &out, Stderr: &errb, Columns: 120}); err != nil || code != 0 {
			t.Fatalf("apply: %d %v\n%s%s", code, err, out.String(), errb.String())
		}
	}
	dry(2)
	apply()
	dry(0)
	b, err := os.ReadFile(filepath.Join(p.Volume("data"), "index.html"))
	if err != nil || string(b) != "hello web\n" {
		t.Fatalf("index.html %q, %v", b, err)
	}
	id1, err := kernelCellID(p, "web")
	if err != nil {
		t.Fatal(err)
	}

	writeDSL(t, p, "10-web.lua", strings.Replace(walkthroughDSL, "hello", "hi", 1))
	dry(2)
	apply()
	dry(0)
	b, _ = os.ReadFile(filepath.Join(p.Volume("data"), "index.html"))
	if string(b) != "hi web\n" {
		t.Fatalf("index.html %q", b)
	}
	id2, err := kernelCellID(p, "web")
	if err != nil || id2 == id1 {
		t.Fatalf("actions on an autostart cell restart it: ids %d %d, %v", id1, id2, err)
	}

	if err := StopCell("web", LifecycleOptions{Paths: p}); err != nil {
		t.Fatal(err)
	}
	dry(2)
	apply()
	dry(0)
}

// TestApplyHelperProcess is not a test: TestApplyKilledRoot runs the test
// binary with APPLY_HELPER_PREFIX set to apply in a child it can SIGKILL.
func TestApplyHelperProcess(t *testing.T) {
	prefix := os.Getenv("APPLY_HELPER_PREFIX")
	if prefix == "" {
		t.Skip("helper process for TestApplyKilledRoot")
	}
	code, err := Apply(ApplyOptions{Paths: paths.New(prefix, ""), Silent: true})
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
	}
	os.Exit(code)
}

// TestApplyKilledRoot: an apply SIGKILLed while an action runs in a real
// cell leaves the lock free, the finished target's hashes, none for the
// interrupted one, no temporary file; the next apply converges.
func TestApplyKilledRoot(t *testing.T) {
	p := rootPrefix(t)
	writeDSL(t, p, "10.lua", `cell("a", {})
apply("a", { file("/etc/a", "a\n") })
cell("b", {})
apply("b", { exec("touch /started; i=0; while [ ! -f /release ] && [ $i -lt 400 ]; do i=$((i+1)); sleep 0.05; done") })
`)
	cmd := exec.Command(os.Args[0], "-test.run=^TestApplyHelperProcess$")
	cmd.Env = append(os.Environ(), "APPLY_HELPER_PREFIX="+p.Prefix)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	started := filepath.Join(p.CellRoot("b"), "started")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the action never started; helper: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	killed = true
	if h, _ := ReadHashes(p, "a"); h.Apply == "" {
		t.Fatal("a: finished target lost its hashes")
	}
	if h, _ := ReadHashes(p, "b"); h != (StoredHashes{}) {
		t.Fatalf("b: interrupted target has hashes %+v", h)
	}
	filepath.Walk(p.CellsDir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && strings.Contains(filepath.Base(path), ".tmp") {
			t.Errorf("temporary file left: %s", path)
		}
		if err == nil && fi.IsDir() && path == p.CellRoot("b") {
			return filepath.SkipDir
		}
		return nil
	})
	// the lock died with the process; release the orphaned action
	l, err := AcquireLock(p, "test")
	if err != nil {
		t.Fatal(err)
	}
	l.Release()
	if err := os.WriteFile(filepath.Join(p.CellRoot("b"), "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code, err := Apply(ApplyOptions{Paths: p, Silent: true, Stdout: &out}); code != 0 || err != nil {
		t.Fatalf("re-run: %d %v", code, err)
	}
	if code, err := Apply(ApplyOptions{Paths: p, DryRun: true, Silent: true, Stdout: &out}); code != 0 || err != nil {
		t.Fatalf("dry run after re-run: %d %v", code, err)
	}
	if _, err := kernelCellID(p, "b"); err == nil {
		t.Fatal("b still running after the re-run (ephemeral start)")
	}
}

// TestApplyHealthBatchRoot: a no-op apply over running autostart cells
// checks them together; when one fails, the apply fails with that cell's
// healthcheck message (the first failing one in order), and the later
// cells were neither recorded nor stopped; fixed, the next apply passes.
func TestApplyHealthBatchRoot(t *testing.T) {
	p := rootPrefix(t)
	var src strings.Builder
	names := []string{"h1", "h2", "h3", "h4", "h5", "h6"}
	for _, n := range names {
		src.WriteString(`cell("` + n + `", { autostart = true, supervise = { cmd = "exec sleep 1000" }, healthcheck = "test ! -e /bad" })
`)
	}
	writeDSL(t, p, "10.lua", src.String())
	var out, errb bytes.Buffer
	if code, err := Apply(ApplyOptions{Paths: p, Silent: true, Stdout: &out, Stderr: &errb}); code != 0 || err != nil {
		t.Fatalf("converge: %d %v\n%s", code, err, errb.String())
	}
	for _, n := range []string{"h3", "h5"} {
		if err := os.WriteFile(filepath.Join(p.CellRoot(n), "bad"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range names[3:] {
		if err := os.Remove(filepath.Join(p.CellState(n), "manifest.sha256")); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	code, err := Apply(ApplyOptions{Paths: p, Verbose: 1, Stdout: &out, Stderr: &errb})
	want := "cell healthcheck h3 failed after 4 attempts: command exited with non-zero status (command: test ! -e /bad)"
	if code != 1 || err == nil || err.Error() != want {
		t.Fatalf("apply: %d %v, want %q", code, err, want)
	}
	if !strings.Contains(errb.String(), "phase=plan row=3/6 name=h3 ") || strings.Contains(errb.String(), "phase=plan row=4/6") {
		t.Fatalf("h4 was logged after h3 failed:\n%s", errb.String())
	}
	for _, n := range names[3:] {
		if h, _ := ReadHashes(p, n); h.Manifest != "" {
			t.Fatalf("%s recorded after h3 failed", n)
		}
	}
	for _, n := range names {
		if _, err := kernelCellID(p, n); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	for _, n := range []string{"h3", "h5"} {
		os.Remove(filepath.Join(p.CellRoot(n), "bad"))
	}
	if code, err := Apply(ApplyOptions{Paths: p, Silent: true, Stdout: &out}); code != 0 || err != nil {
		t.Fatalf("fixed: %d %v", code, err)
	}
	if code, err := Apply(ApplyOptions{Paths: p, DryRun: true, Silent: true, Stdout: &out}); code != 0 || err != nil {
		t.Fatalf("dry run: %d %v", code, err)
	}
}
