package runtime

import (
	"os"
	"testing"
	"time"

	"cells/kernel"
	"cells/runtime/paths"
	"cells/spec"
)

// benchPrefix is a bootstrapped scratch prefix for a root-only benchmark.
func benchPrefix(b *testing.B) paths.Paths {
	b.Helper()
	if os.Geteuid() != 0 {
		b.Skip("needs root: mounts")
	}
	dir := b.TempDir()
	p := paths.New(dir, "")
	b.Cleanup(func() { UnmountCell(dir, b.Logf) })
	if _, err := Bootstrap(p, BootstrapOptions{}); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkCellRootMountUnmount: overlay root, system binds and one
// volume, then everything unmounted again.
func BenchmarkCellRootMountUnmount(b *testing.B) {
	p := benchPrefix(b)
	st := &spec.State{Volumes: []*spec.Volume{{Name: "data"}}}
	pm, err := PlanMounts(p, st, &spec.Cell{Name: "web", Mounts: []spec.Mount{{Source: "data", Target: "/srv/data", Mode: "ro"}}}, Config{})
	if err != nil {
		b.Fatal(err)
	}
	root := Layout(p, "web").Root
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := MountCellRoot(p, "web", nil); err != nil {
			b.Fatal(err)
		}
		if err := MountDeclared(p, root, pm, nil); err != nil {
			b.Fatal(err)
		}
		if err := UnmountCell(root, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartStopLinux: a whole start (root, a volume, kernel cell, no
// service) and stop on the Linux driver.
func BenchmarkStartStopLinux(b *testing.B) {
	p := benchPrefix(b)
	b.Setenv("CELLMAN_PREFIX", p.Prefix)
	b.Setenv("CELLS_DRIVER", "")
	d, err := kernel.Open(kernel.Options{StateDir: p.KernelState()})
	if err != nil {
		b.Skipf("needs the Linux cell driver: %v", err)
	}
	b.Cleanup(func() {
		cells, _ := d.List()
		for _, c := range cells {
			if Managed(p, c) {
				for i := 0; i < 20 && d.Destroy(c.ID) != nil; i++ {
					time.Sleep(100 * time.Millisecond)
				}
			}
		}
		d.Close()
	})
	st := &spec.State{
		Volumes: []*spec.Volume{{Name: "data"}},
		Cells:   []*spec.Cell{{Name: "web", Mounts: []spec.Mount{{Source: "data", Target: "/srv/data", Mode: "rw"}}}},
	}
	o := LifecycleOptions{Paths: p, State: st, Driver: d}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := StartCell("web", o); err != nil {
			b.Fatal(err)
		}
		if err := StopCell("web", o); err != nil {
			b.Fatal(err)
		}
	}
}
