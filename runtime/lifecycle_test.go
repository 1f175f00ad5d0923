package runtime

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"cells/kernel"
	"cells/runtime/paths"
	"cells/runtime/supervise"
	"cells/spec"
)

func lcNames(cells []*spec.Cell) []string {
	var out []string
	for _, c := range cells {
		out = append(out, c.Name)
	}
	return out
}

func TestStartClosure(t *testing.T) {
	st := &spec.State{Cells: []*spec.Cell{
		{Name: "web", DependsOn: []string{"app"}},
		{Name: "app", DependsOn: []string{"db", "cache"}},
		{Name: "other"},
		{Name: "cache"},
		{Name: "db"},
	}}
	got, err := StartClosure(st, "web", false)
	if err != nil || !reflect.DeepEqual(lcNames(got), []string{"db", "cache", "app", "web"}) {
		t.Fatalf("closure of web = %q, %v", lcNames(got), err)
	}
	got, _ = StartClosure(st, "cache", false)
	if !reflect.DeepEqual(lcNames(got), []string{"cache"}) {
		t.Fatalf("closure of cache = %q", lcNames(got))
	}
	got, _ = StartClosure(st, "", true)
	if !reflect.DeepEqual(lcNames(got), []string{"db", "cache", "app", "web", "other"}) {
		t.Fatalf("all = %q", lcNames(got))
	}
	if _, err := StartClosure(st, "nope", false); err == nil || err.Error() != "unknown cell: nope" {
		t.Fatalf("unknown: %v", err)
	}
	st.Cells = append(st.Cells, &spec.Cell{Name: "loop", DependsOn: []string{"loop"}})
	if _, err := StartClosure(st, "web", false); err == nil || err.Error() != "dependency cycle detected at cell loop" {
		t.Fatalf("cycle: %v", err)
	}
}

func TestCreateSpecOf(t *testing.T) {
	c := &spec.Cell{Name: "web", Create: spec.Create{Profile: "medium", ReservedPorts: "8080,8443", RlimitNofile: "1024", RlimitAS: "unlimited"}}
	cs, err := CreateSpecOf(c, "/r")
	if err != nil {
		t.Fatal(err)
	}
	want := kernel.CreateSpec{Name: "web", Root: "/r", Profile: kernel.ProfileMedium, ProfileSet: true, Ports: []uint16{8080, 8443},
		Rlimits: kernel.Rlimits{Nofile: kernel.Rlimit{Set: true, Value: 1024}, AS: kernel.Rlimit{Set: true, Value: kernel.RlimitInfinity}}}
	if !reflect.DeepEqual(cs, want) {
		t.Fatalf("CreateSpecOf = %+v", cs)
	}
	if cs, _ := CreateSpecOf(&spec.Cell{Name: "x"}, "/r"); cs.ProfileSet || cs.Ports != nil || cs.Rlimits.Nofile.Set {
		t.Fatalf("defaults: %+v", cs)
	}
	for _, bad := range []spec.Create{{Profile: "max"}, {ReservedPorts: "80,x"}, {RlimitCore: "-1"}} {
		if _, err := CreateSpecOf(&spec.Cell{Name: "x", Create: bad}, "/r"); err == nil || !strings.HasPrefix(err.Error(), "cell create x failed: ") {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
}

func TestSuperviseArgs(t *testing.T) {
	c := &spec.Cell{Name: "web", Supervise: spec.Supervise{Cmd: "httpd -f", Log: spec.Log{Facility: "local3", StderrLevel: "err", Tag: "jail-web"}}}
	got := SuperviseArgs(c, &kernel.Cred{UID: 80, GID: 81, Groups: []uint32{81, 5}})
	want := []string{"-f", "local3", "-e", "err", "-t", "jail-web", "-U", "80", "-G", "81", "-g", "81,5", "web", "/bin/sh", "-c", "httpd -f"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SuperviseArgs = %q", got)
	}
	got = SuperviseArgs(&spec.Cell{Name: "a", Supervise: spec.Supervise{Cmd: "x"}}, &kernel.Cred{UID: 1, GID: 1})
	if !reflect.DeepEqual(got, []string{"-U", "1", "-G", "1", "a", "/bin/sh", "-c", "x"}) {
		t.Fatalf("uid form = %q", got)
	}
}

// fakeEnv points the prefix and the kernel at a scratch fake driver (the
// supervise monitor reads both from the environment).
func fakeEnv(t *testing.T) (LifecycleOptions, kernel.Driver) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("CELLMAN_PREFIX", dir)
	t.Setenv("CELLS_DRIVER", "fake")
	p := paths.FromEnv()
	d, err := kernel.Open(kernel.Options{StateDir: p.KernelState()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cells, _ := d.List()
		for _, c := range cells {
			supervise.StopMonitor(c.Name, 7*time.Second)
			d.Destroy(c.ID)
		}
		d.Close()
	})
	old := healthWaits
	healthWaits = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
	t.Cleanup(func() { healthWaits = old })
	return LifecycleOptions{Paths: p, Driver: d, Logf: t.Logf}, d
}

func active(t *testing.T, d kernel.Driver) []string {
	t.Helper()
	cells, err := d.List()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cells {
		out = append(out, c.Name)
	}
	return out
}

func TestLifecycleFakeStartStop(t *testing.T) {
	o, d := fakeEnv(t)
	o.State = &spec.State{
		Volumes: []*spec.Volume{{Name: "data", Mode: "0700"}},
		Cells: []*spec.Cell{
			{Name: "lc-web", DependsOn: []string{"lc-db"}, Mounts: []spec.Mount{{Source: "data", Target: "/srv", Mode: "ro"}}},
			{Name: "lc-db"},
			{Name: "lc-idle"},
		},
	}
	if err := StartCell("lc-web", o); err != nil {
		t.Fatal(err)
	}
	if got := active(t, d); !reflect.DeepEqual(got, []string{"lc-db", "lc-web"}) {
		t.Fatalf("active after start web = %q, want db then web", got)
	}
	if fi, err := os.Stat(o.Paths.Volume("data")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("volume not made ready: %v %v", fi, err)
	}
	cells, _ := d.List()
	if cells[1].Root != Layout(o.Paths, "lc-web").Root {
		t.Fatalf("kernel root = %s", cells[1].Root)
	}
	// Already active cells are skipped; the rest of --all starts.
	if err := StartAll(o); err != nil {
		t.Fatal(err)
	}
	if got := active(t, d); !reflect.DeepEqual(got, []string{"lc-db", "lc-web", "lc-idle"}) {
		t.Fatalf("active after start --all = %q", got)
	}
	if err := StopCell("lc-db", o); err != nil {
		t.Fatal(err)
	}
	if got := active(t, d); !reflect.DeepEqual(got, []string{"lc-web", "lc-idle"}) {
		t.Fatalf("stop db stopped dependents too: %q", got)
	}
	if err := StopCell("lc-db", o); err != nil { // not running: only leftovers
		t.Fatalf("stop of a stopped cell: %v", err)
	}
	if err := RestartCell("lc-web", o); err != nil {
		t.Fatal(err)
	}
	if got := active(t, d); !reflect.DeepEqual(got, []string{"lc-idle", "lc-db", "lc-web"}) {
		t.Fatalf("restart web = %q (restarts web with its dependency db)", got)
	}
	if err := StopCell("a/b", o); err == nil || err.Error() != "invalid cell name: a/b" {
		t.Fatalf("invalid name: %v", err)
	}
}

func TestLifecycleFakeStopAllOnlyManaged(t *testing.T) {
	o, d := fakeEnv(t)
	o.State = &spec.State{Cells: []*spec.Cell{{Name: "lc-web"}}}
	if err := StartAll(o); err != nil {
		t.Fatal(err)
	}
	// Not managed: another root, and a runtime dir whose root differs.
	if _, err := d.Create(kernel.CreateSpec{Name: "lc-foreign", Root: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(Layout(o.Paths, "lc-lookalike").Dir, 0o755)
	if _, err := d.Create(kernel.CreateSpec{Name: "lc-lookalike", Root: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if err := StopAll(o); err != nil {
		t.Fatal(err)
	}
	if got := active(t, d); !reflect.DeepEqual(got, []string{"lc-foreign", "lc-lookalike"}) {
		t.Fatalf("after stop --all = %q, want only the unmanaged cells", got)
	}
}

func TestLifecycleFakeHealthcheck(t *testing.T) {
	o, d := fakeEnv(t)
	o.HealthTimeout = 150 * time.Millisecond
	o.State = &spec.State{Cells: []*spec.Cell{
		{Name: "lc-ok", Healthcheck: "true"},
		{Name: "lc-loud", Healthcheck: "echo 'not ready yet' >&2; exit 3"},
		{Name: "lc-quiet", Healthcheck: "exit 1"},
		{Name: "lc-slow", Healthcheck: "sleep 5"},
	}}
	if err := StartCell("lc-ok", o); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, want string }{
		{"lc-loud", "cell healthcheck lc-loud failed after 4 attempts: not ready yet (command: echo 'not ready yet' >&2; exit 3)"},
		{"lc-quiet", "cell healthcheck lc-quiet failed after 4 attempts: command exited with non-zero status (command: exit 1)"},
		{"lc-slow", "cell healthcheck lc-slow failed after 4 attempts: command timed out after 150ms (command: sleep 5)"},
	}
	for _, tc := range cases {
		name, want := tc.name, tc.want
		start := time.Now()
		err := StartCell(name, o)
		if err == nil || err.Error() != want {
			t.Fatalf("%s: error = %v, want %q", name, err, want)
		}
		if el := time.Since(start); el > 3*time.Second {
			t.Fatalf("%s: took %v", name, el)
		}
	}
	// The runtime is kept on a healthcheck failure.
	if got := active(t, d); !reflect.DeepEqual(got, []string{"lc-ok", "lc-loud", "lc-quiet", "lc-slow"}) {
		t.Fatalf("active = %q", got)
	}
	o.SkipHealthcheck = true
	StopCell("lc-loud", o)
	if err := StartCell("lc-loud", o); err != nil {
		t.Fatalf("start without healthcheck: %v", err)
	}
}

func TestLifecycleFakeRollback(t *testing.T) {
	o, d := fakeEnv(t)
	ports := make([]string, 33)
	for i := range ports {
		ports[i] = string(rune('0'+i/10)) + string(rune('0'+i%10+1))
	}
	o.State = &spec.State{Cells: []*spec.Cell{
		{Name: "lc-ports", Create: spec.Create{ReservedPorts: strings.Join(ports, ",")}},
		{Name: "lc-badlog", Supervise: spec.Supervise{Cmd: "sleep 30", Log: spec.Log{Facility: "bogus"}}},
		{Name: "lc-badrun", Supervise: spec.Supervise{Cmd: "sleep 30", RunAs: "cell:nobody-here"}},
		{Name: "lc-vol", Mounts: []spec.Mount{{Source: "missing", Target: "/x", Mode: "rw"}}},
	}}
	err := StartCell("lc-ports", o)
	if err == nil || !strings.HasPrefix(err.Error(), "cell create lc-ports failed: ") {
		t.Fatalf("create failure: %v", err)
	}
	err = StartCell("lc-badlog", o)
	if err == nil || !strings.HasPrefix(err.Error(), "cell supervise lc-badlog failed: cellctl: ") {
		t.Fatalf("supervise failure: %v", err)
	}
	root := Layout(o.Paths, "lc-badrun").Root
	err = StartCell("lc-badrun", o)
	if err == nil || err.Error() != "unable to open cell passwd database "+root+"/etc/passwd: no such file or directory" {
		t.Fatalf("run_as failure: %v", err)
	}
	if err := StartCell("lc-vol", o); err == nil || err.Error() != "missing referenced volume manifest: missing" {
		t.Fatalf("mount validation: %v", err)
	}
	if got := active(t, d); len(got) != 0 {
		t.Fatalf("failed starts left cells: %q", got)
	}
}

func TestLifecycleFakeSupervised(t *testing.T) {
	o, d := fakeEnv(t)
	o.State = &spec.State{Cells: []*spec.Cell{
		{Name: "lc-svc", Supervise: spec.Supervise{Cmd: "exec sleep 60", RunAs: "cell:nobody-here"}},
	}}
	o.TolerateCellRunAs = true // as apply's action start: runs without a credential drop
	if err := StartCell("lc-svc", o); err != nil {
		t.Fatal(err)
	}
	pids, err := supervise.FindMonitors("lc-svc")
	if err != nil || len(pids) != 1 {
		t.Fatalf("monitors = %v, %v", pids, err)
	}
	if err := StopCell("lc-svc", o); err != nil {
		t.Fatal(err)
	}
	if pids, _ := supervise.FindMonitors("lc-svc"); len(pids) != 0 {
		t.Fatalf("monitor left: %v", pids)
	}
	if got := active(t, d); len(got) != 0 {
		t.Fatalf("cells left: %q", got)
	}
}
