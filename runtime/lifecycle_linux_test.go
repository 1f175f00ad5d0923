package runtime

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"cells/kernel"
	"cells/runtime/paths"
	"cells/runtime/supervise"
	"cells/spec"
)

// realDriver opens the Linux kernel driver for a bootstrapped scratch
// prefix, or skips the test when this host cannot run cells.
func realDriver(t *testing.T) (paths.Paths, kernel.Driver) {
	t.Helper()
	needMountRoot(t)
	if _, err := exec.LookPath("busybox"); err != nil {
		t.Skip("needs busybox (apt-get install busybox)")
	}
	p := bootstrappedPrefix(t)
	t.Setenv("CELLMAN_PREFIX", p.Prefix) // the supervise monitor reads it
	t.Setenv("CELLS_DRIVER", "")
	d, err := kernel.Open(kernel.Options{StateDir: p.KernelState()})
	if err != nil {
		t.Skipf("needs the Linux cell driver: %v", err)
	}
	// Registered after bootstrappedPrefix's unmount: runs before it.
	t.Cleanup(func() {
		cells, _ := d.List()
		for _, c := range cells {
			if Managed(p, c) {
				supervise.StopMonitor(c.Name, 7*time.Second)
				for i := 0; i < 20 && d.Destroy(c.ID) != nil; i++ {
					time.Sleep(100 * time.Millisecond)
				}
			}
		}
		d.Close()
	})
	return p, d
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// A whole cell: overlay root, a read-only volume, a supervised busybox
// httpd serving a file from it, a healthcheck from inside the cell; stop
// leaves no mount, no monitor and no kernel cell.
func TestLifecycleLinuxHTTPD(t *testing.T) {
	p, d := realDriver(t)
	port := freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/index.html", port)
	st := &spec.State{
		Volumes: []*spec.Volume{{Name: "www", Mode: "0755"}},
		Cells: []*spec.Cell{{
			Name:   "lc-web",
			Mounts: []spec.Mount{{Source: "www", Target: "/srv/www", Mode: "ro"}},
			Supervise: spec.Supervise{
				Cmd: fmt.Sprintf("exec busybox httpd -f -p 127.0.0.1:%d -h /srv/www", port),
			},
			Healthcheck: fmt.Sprintf("busybox wget -q -O /dev/null %s", url),
		}},
	}
	if err := EnsureVolumeDir(p, st.Volumes[0]); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.Volume("www"), "index.html"), []byte("hello from a cell\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := LifecycleOptions{Paths: p, State: st, Driver: d, Logf: t.Logf}
	start := time.Now()
	if err := StartCell("lc-web", o); err != nil {
		t.Fatal(err)
	}
	t.Logf("start with healthcheck: %v", time.Since(start))
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello from a cell\n" {
		t.Fatalf("GET %s = %d %q", url, resp.StatusCode, body)
	}
	root := Layout(p, "lc-web").Root
	if mounts, _ := CellMounts(root); len(mounts) < 2 {
		t.Fatalf("mounts while running: %q", mounts)
	}
	// A second start is a no-op.
	if err := StartCell("lc-web", o); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := StopCell("lc-web", o); err != nil {
		t.Fatal(err)
	}
	t.Logf("stop: %v", time.Since(start))
	if mounts, _ := CellMounts(root); len(mounts) != 0 {
		t.Fatalf("mounts left after stop: %q", mounts)
	}
	if cells, _ := d.List(); len(cells) != 0 {
		t.Fatalf("cells left after stop: %+v", cells)
	}
	if pids, _ := supervise.FindMonitors("lc-web"); len(pids) != 0 {
		t.Fatalf("monitors left after stop: %v", pids)
	}
	if _, err := http.Get(url); err == nil {
		t.Fatal("httpd still answers after stop")
	}
}

// A start failing after the kernel cell exists rolls back: no cell, no
// mount under the root.
func TestLifecycleLinuxRollback(t *testing.T) {
	p, d := realDriver(t)
	st := &spec.State{
		Volumes: []*spec.Volume{{Name: "data"}},
		Cells: []*spec.Cell{{
			Name:      "lc-bad",
			Mounts:    []spec.Mount{{Source: "data", Target: "/srv/data", Mode: "rw"}},
			Supervise: spec.Supervise{Cmd: "sleep 60", RunAs: "cell:no-such-user"},
		}},
	}
	o := LifecycleOptions{Paths: p, State: st, Driver: d, Logf: t.Logf}
	root := Layout(p, "lc-bad").Root
	err := StartCell("lc-bad", o)
	if err == nil || err.Error() != "unable to resolve cell user 'no-such-user' in "+root+"/etc/passwd" {
		t.Fatalf("error = %v", err)
	}
	if mounts, _ := CellMounts(root); len(mounts) != 0 {
		t.Fatalf("mounts left after a failed start: %q", mounts)
	}
	if cells, _ := d.List(); len(cells) != 0 {
		t.Fatalf("cells left after a failed start: %+v", cells)
	}
}
