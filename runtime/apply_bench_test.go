package runtime

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"cells/runtime/paths"
)

// genApplyDSL writes n cells, one file each, with an apply document of 5
// actions, under a fresh prefix with the fake driver (none running).
func genApplyDSL(b *testing.B, n int) paths.Paths {
	b.Helper()
	dir := b.TempDir()
	b.Setenv("CELLMAN_PREFIX", dir)
	b.Setenv("CELLS_DRIVER", "fake")
	b.Setenv("CELLMAN_DSL_DIR", "")
	p := paths.New(dir, "")
	if err := os.MkdirAll(p.DSLDir, 0o755); err != nil {
		b.Fatal(err)
	}
	var vols strings.Builder
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&vols, "volume(\"vol%d\", { mode = \"0750\" })\n", i)
	}
	if err := os.WriteFile(filepath.Join(p.DSLDir, "00-volumes.lua"), []byte(vols.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		dep := ""
		if i > 0 && i%10 != 0 {
			dep = fmt.Sprintf("depends_on = { \"cell%04d\" },", i-1)
		}
		src := fmt.Sprintf(`cell("cell%04d", {
  autostart = true, %s
  create = { profile = "medium", reserved_ports = "%d" },
  supervise = { cmd = "exec httpd -f -p %d", run_as = "uid:1000" },
  mounts = { volume("vol%d", { target = "/srv", mode = "ro" }) },
  healthcheck = "test -f /srv/index.html",
})
apply("cell%04d", {
  pkg("nginx", "curl"),
  dir("/srv/www", { mode = "0755" }),
  file("/srv/www/index.html", "hello %d\n", { mode = "0644" }),
  line("/etc/hosts", "127.0.0.1 cell%04d"),
  exec("echo configured"),
})
`, i, dep, 10000+i, 10000+i, i%10, i, i, i)
		if err := os.WriteFile(filepath.Join(p.DSLDir, fmt.Sprintf("cell%04d.lua", i)), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return p
}

// reportCPU adds the process CPU time (user+system, all threads) per op
// as "cpu-ms/op": on a shared machine wall time measures the neighbours.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru unix.Rusage
		unix.Getrusage(unix.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		b.ReportMetric(float64((cpu()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkDryRun1000 is `cellman apply --dry-run` over 1,000 declared
// cells with 5 actions each, none running: "plan" times the apply after
// loading (hashes, one kernel list, the Lua plan and the report rendered to
// io.Discard), "full" includes loading the DSL directory.
func BenchmarkDryRun1000(b *testing.B) {
	// The GC settings of the cellman CLI (bin/cellman calls TuneGC),
	// restored after the benchmark.
	gc := debug.SetGCPercent(100)
	debug.SetGCPercent(gc)
	defer debug.SetGCPercent(gc)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1)) // -1 only reads
	TuneGC()
	p := genApplyDSL(b, 1000)
	st, err := LoadState(p.DSLDir)
	if err != nil {
		b.Fatal(err)
	}
	opts := ApplyOptions{Paths: p, DryRun: true, Columns: 120, Stdout: io.Discard, Stderr: io.Discard}
	b.Run("plan", func(b *testing.B) {
		defer reportCPU(b)()
		for i := 0; i < b.N; i++ {
			if code, err := applyState(opts, st); code != 2 || err != nil {
				b.Fatalf("code %d, err %v", code, err)
			}
		}
	})
	b.Run("full", func(b *testing.B) {
		defer reportCPU(b)()
		for i := 0; i < b.N; i++ {
			if code, err := Apply(opts); code != 2 || err != nil {
				b.Fatalf("code %d, err %v", code, err)
			}
		}
	})
}
