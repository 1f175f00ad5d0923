package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cells/runtime/paths"
)

// scratch returns paths under a temporary prefix with the fake driver, the
// setting under which a non-root apply may change the runtime.
func scratch(t *testing.T) paths.Paths {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("CELLMAN_PREFIX", dir)
	t.Setenv("CELLS_DRIVER", "fake")
	t.Setenv("CELLMAN_DSL_DIR", "")
	p := paths.New(dir, "")
	if err := os.MkdirAll(p.DSLDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeDSL(t testing.TB, p paths.Paths, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(p.DSLDir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLockHeldMessage(t *testing.T) {
	p := scratch(t)
	l, err := AcquireLock(p, "apply")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Release)
	// flock locks belong to the open file description: a second open in
	// the same process contends like another process would.
	_, err = AcquireLock(p, "cell plan run")
	if err == nil {
		t.Fatal("second lock acquired")
	}
	want := fmt.Sprintf("apply lock held by pid %d (apply, started ", os.Getpid())
	if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "Z)") {
		t.Fatalf("error %q, want prefix %q", err, want)
	}
	l.Release()
	l2, err := AcquireLock(p, "cell plan run")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	l2.Release()
	b, _ := os.ReadFile(LockPath(p))
	if !strings.Contains(string(b), "op=cell_plan_run user=") {
		t.Fatalf("holder record %q", b)
	}
}

func TestHashStore(t *testing.T) {
	p := scratch(t)
	h := StoredHashes{Manifest: "m", Service: "s", Policy: "p", Apply: "a"}
	if err := WriteHashes(p, "web", h); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(p.CellState("web"), "apply.sha256"))
	if err != nil || string(b) != "a\n" {
		t.Fatalf("apply.sha256 = %q, %v", b, err)
	}
	fi, err := os.Stat(p.CellState("web"))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("state dir: %v %v", fi, err)
	}
	got, err := ReadHashes(p, "web")
	if err != nil || got != h {
		t.Fatalf("read back %+v, %v", got, err)
	}
	// trailing whitespace is trimmed; an empty apply hash deletes the file
	os.WriteFile(filepath.Join(p.CellState("web"), "policy.sha256"), []byte("p2 \r\n\n"), 0o644)
	if got, _ := ReadHashes(p, "web"); got.Policy != "p2" {
		t.Fatalf("policy %q", got.Policy)
	}
	h.Apply = ""
	if err := WriteHashes(p, "web", h); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(p.CellState("web"), "apply.sha256")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("apply.sha256 kept: %v", err)
	}
	entries, _ := os.ReadDir(p.CellState("web"))
	if len(entries) != 3 {
		t.Fatalf("state dir holds %d entries (temp files left?)", len(entries))
	}
	if got, _ := ReadHashes(p, "never"); got != (StoredHashes{}) {
		t.Fatalf("missing cell: %+v", got)
	}
}

func TestEnsureVolume(t *testing.T) {
	p := scratch(t)
	dir, err := EnsureVolume(p, "data", "0750")
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o750 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if _, err := EnsureVolume(p, "data", "1777"); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(dir)
	if fi.Mode().Perm() != 0o777 || fi.Mode()&os.ModeSticky == 0 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if _, err := EnsureVolume(p, "bad", "0999"); err == nil || err.Error() != "invalid volume mode: 0999" {
		t.Fatalf("err %v", err)
	}
}

func TestReportWidth(t *testing.T) {
	var buf bytes.Buffer
	for _, tc := range []struct {
		env  string
		want int
	}{{"", 120}, {"80", 80}, {"40", 40}, {"39", 120}, {"wide", 120}} {
		t.Setenv("COLUMNS", tc.env)
		if got := ReportWidth(&buf); got != tc.want {
			t.Errorf("COLUMNS=%q: %d, want %d", tc.env, got, tc.want)
		}
	}
}

// recordingLifecycle records calls and fails Start of the cells in fail.
type recordingLifecycle struct {
	calls []string
	fail  map[string]bool
}

func (r *recordingLifecycle) Start(name string, hc bool) error {
	r.calls = append(r.calls, fmt.Sprintf("start %s %v", name, hc))
	if r.fail[name] {
		return fmt.Errorf("cell create %s failed: boom", name)
	}
	return nil
}
func (r *recordingLifecycle) Stop(name string) error {
	r.calls = append(r.calls, "stop "+name)
	return nil
}
func (r *recordingLifecycle) Restart(name string) error {
	r.calls = append(r.calls, "restart "+name)
	return nil
}
func (r *recordingLifecycle) Healthcheck(name string) error {
	r.calls = append(r.calls, "healthcheck "+name)
	return nil
}

// TestApplyFailClosed: the first failing target stops the run (exit 1),
// earlier targets keep their hashes, the failing and later ones get none,
// the report is still closed; a re-run retries the failed target.
func TestApplyFailClosed(t *testing.T) {
	p := scratch(t)
	writeDSL(t, p, "10.lua", `cell("a", {}) cell("b", { autostart = true, depends_on = { "a" } }) cell("c", { depends_on = { "b" } })`)
	lc := &recordingLifecycle{fail: map[string]bool{"b": true}}
	var out, errb bytes.Buffer
	code, err := Apply(ApplyOptions{Paths: p, Stdout: &out, Stderr: &errb, Lifecycle: lc, Columns: 120})
	if err == nil || err.Error() != "cell create b failed: boom" || code != 1 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if !strings.Contains(out.String(), "[ACTIONS]") || strings.Contains(out.String(), "ok apply") {
		t.Fatalf("report:\n%s", out.String())
	}
	if got := strings.Join(lc.calls, ","); got != "start b true" {
		t.Fatalf("calls %s", got)
	}
	if h, _ := ReadHashes(p, "a"); h.Manifest == "" {
		t.Fatal("a: hashes not written")
	}
	for _, n := range []string{"b", "c"} {
		if h, _ := ReadHashes(p, n); h != (StoredHashes{}) {
			t.Fatalf("%s: hashes written: %+v", n, h)
		}
	}
	// the dry run still sees b and c pending; a fixed lifecycle converges
	if code, err := Apply(ApplyOptions{Paths: p, DryRun: true, Silent: true}); code != 2 || err != nil {
		t.Fatalf("dry run: %d %v", code, err)
	}
	lc.fail = nil
	lc.calls = nil
	out.Reset()
	if code, err := Apply(ApplyOptions{Paths: p, Silent: true, Stdout: &out, Lifecycle: lc}); code != 0 || err != nil {
		t.Fatalf("re-run: %d %v", code, err)
	}
	if out.String() != "ok apply targets=3 dry_run=NO\n" {
		t.Fatalf("silent output %q", out.String())
	}
	if got := strings.Join(lc.calls, ","); got != "start b true" {
		t.Fatalf("re-run calls %s", got)
	}
}

func TestApplyNeedsRootOutsideScratch(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("the check is for non-root users; as root every apply may run")
	}
	p := scratch(t)
	t.Setenv("CELLS_DRIVER", "")
	if _, err := Apply(ApplyOptions{Paths: p}); !errors.Is(err, ErrMustBeRoot) {
		t.Fatalf("err %v", err)
	}
}

// TestStateLockModules: require("cells.state") and require("cells.lock")
// work from a VM with the host modules, over the prefix of the environment.
func TestStateLockModules(t *testing.T) {
	p := scratch(t)
	vm := NewVM(VMOptions{Libs: []string{HostLibs}})
	t.Cleanup(vm.Close)
	err := vm.DoChunk("t.lua", []byte(`
local state, lock = require("cells.state"), require("cells.lock")
assert(state.ensure_cell("web"))
assert(state.write("web", { manifest = "m", service = "s", policy = "p", apply = "a" }))
local h = assert(state.read("web"))
assert(h.manifest == "m" and h.apply == "a", "read back")
assert(state.write("web", { manifest = "m", service = "s", policy = "p" }))
assert(state.read("web").apply == nil, "apply removed")
local ok, err = state.write("web", { manifest = "m" })
assert(ok == nil and err:match("empty service hash"), tostring(err))
assert(state.ensure_volume("data", "0700"):match("/var/cellman/volumes/data$"))
local l = assert(lock.acquire("script"))
local l2, err2 = lock.acquire("other")
assert(l2 == nil and err2:match("^apply lock held by pid %d+ %(script, started "), tostring(err2))
l.release()
assert(lock.acquire("again")).release()
assert(not pcall(state.read, "bad name"))
`))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p.Volume("data")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("volume: %v %v", fi, err)
	}
}
