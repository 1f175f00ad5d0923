package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"testing"
	"time"
)

// benchDir writes n DSL files, one cell each, every file also declaring an
// apply of five actions.
func benchDir(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("cell%04d", i)
		deps := ""
		if i > 0 {
			deps = fmt.Sprintf(`depends_on = { "cell%04d" },`, i-1)
		}
		src := fmt.Sprintf(`cell(%[1]q, {
  autostart = true,
  %[2]s
  mounts = { volume("data", { target = "/srv/data", mode = "ro" }) },
  create = { profile = "medium", reserved_ports = "%[3]d", rlimit_nofile = "4096" },
  supervise = { cmd = "/usr/sbin/httpd -f", run_as = "cell:www", log = { facility = "daemon", tag = %[1]q } },
  healthcheck = "true",
})
apply(%[1]q, {
  dir("/srv/www", { mode = "0755", owner = "www" }),
  file("/srv/www/index.html", "<h1>%[1]s</h1>\n", { mode = "0644" }),
  exec("echo {{ cell_name }} > /tmp/name"),
  line("/etc/rc.conf", "httpd=YES"),
  symlink("/srv/www", "/var/www"),
})
`, name, deps, 10000+i)
		if err := os.WriteFile(filepath.Join(dir, name+".lua"), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// cpuTime is the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchLoad(b *testing.B, n int) {
	// The GC settings of the cellman CLI (bin/cellman calls TuneGC too),
	// restored after the benchmark.
	gc := debug.SetGCPercent(100)
	debug.SetGCPercent(gc)
	defer debug.SetGCPercent(gc)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1)) // -1 only reads
	TuneGC()
	dir := benchDir(b, n)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		st, err := LoadState(dir)
		if err != nil {
			b.Fatal(err)
		}
		if len(st.Cells) != n {
			b.Fatalf("%d cells", len(st.Cells))
		}
		if _, err := st.DependencyOrder(); err != nil {
			b.Fatal(err)
		}
		for _, c := range st.Cells {
			st.CellHashes(c)
		}
		for _, a := range st.Applies {
			if _, err := st.ApplyHash(a); err != nil {
				b.Fatal(err)
			}
		}
	}
	// The machine is shared: CPU time per op (all workers) is the figure
	// that contention disturbs least.
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
}

// BenchmarkLoad1000 loads, decodes and hashes 1,000 cells (1,000 files).
func BenchmarkLoad1000(b *testing.B) { benchLoad(b, 1000) }

// BenchmarkLoad2000 is the same with 2,000 cells; it should cost at most
// 2.2 times BenchmarkLoad1000.
func BenchmarkLoad2000(b *testing.B) { benchLoad(b, 2000) }
