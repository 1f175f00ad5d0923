package portguard

import (
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// BenchmarkReserveRelease measures one Reserve + Release pair of a single
// port from this process. "first" is the first reservation on the machine:
// it loads, attaches and pins both programs, and Release detaches and
// unpins them again. "more" runs while another owner keeps the programs
// attached, so only the map and the lock are touched.
func BenchmarkReserveRelease(b *testing.B) {
	f := newFixture(b)
	p := freePort(b, f)
	run := func(b *testing.B) {
		for b.Loop() {
			if err := f.g.Reserve(f.idA, []uint16{p}); err != nil {
				b.Fatal(err)
			}
			if err := f.g.Release(f.idA); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("first", run)
	if err := f.g.Reserve(f.idB, []uint16{freePort(b, f, p)}); err != nil {
		b.Fatal(err)
	}
	b.Run("more", run)
}

// BenchmarkBind measures socket+bind+close of an unreserved loopback port
// from a host process, without and with the guard attached at the cgroup v2
// root: the difference is the cost of the BPF hook on every bind(2). The
// "hook" variant turns on kernel BPF run-time statistics and reports the
// programs' own mean run time per bind as bpf-ns/bind.
func BenchmarkBind(b *testing.B) {
	f := newFixture(b)
	p := freePort(b, f)
	run := func(kind string) func(*testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				if err := bindOnce(kind, p); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	for _, kind := range []string{"tcp4", "udp6"} {
		b.Run(kind+"/without", run(kind))
	}
	if err := f.g.Reserve(f.idB, []uint16{freePort(b, f, p)}); err != nil {
		b.Fatal(err)
	}
	for _, kind := range []string{"tcp4", "udp6"} {
		b.Run(kind+"/with", run(kind))
	}
	b.Run("hook", func(b *testing.B) {
		stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
		if err != nil {
			b.Skipf("BPF run-time statistics: %v", err)
		}
		defer stats.Close()
		before := f.hookStats(b)
		run("tcp4")(b)
		after := f.hookStats(b)
		if n := after.RunCount - before.RunCount; n > 0 {
			b.ReportMetric(float64(after.Runtime-before.Runtime)/float64(n), "bpf-ns/bind")
		}
	})
}

// hookStats sums the run-time statistics of the guard's two programs.
func (f *fixture) hookStats(b *testing.B) ebpf.ProgramStats {
	var sum ebpf.ProgramStats
	for _, id := range f.attachedIDs(b) {
		prog, err := ebpf.NewProgramFromID(id)
		if err != nil {
			b.Fatal(err)
		}
		st, err := prog.Stats()
		prog.Close()
		if err != nil {
			b.Fatal(err)
		}
		sum.Runtime += st.Runtime
		sum.RunCount += st.RunCount
	}
	return sum
}
