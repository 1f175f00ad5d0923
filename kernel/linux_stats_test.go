//go:build linux

package kernel

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestLinuxParseStat(t *testing.T) {
	line := "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 5 7 0 0 20 0 1 0 1234 8392704 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	state, vsize, ok := lxParseStat([]byte(line))
	if !ok || state != 'S' || vsize != 8392704 {
		t.Errorf("got %c %d %v", state, vsize, ok)
	}
	if _, _, ok := lxParseStat([]byte("42 (x) Z 1")); ok {
		t.Error("short line parsed")
	}
	if v := lxField([]byte("usage_usec 1234\nuser_usec 5\n"), "user_usec "); v != 5 {
		t.Errorf("lxField: %d", v)
	}
}

// TestLinuxSamplerAllocatesNothing: the once-a-second scan and CPU read of
// an idle holder must not allocate (no garbage, no collections).
func TestLinuxSamplerAllocatesNothing(t *testing.T) {
	root, err := lxCgroupRoot()
	if err != nil {
		t.Skipf("needs cgroup v2: %v", err)
	}
	fd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	cpu, err := os.Open(root + "/cpu.stat")
	if err != nil {
		t.Skipf("no cpu.stat: %v", err)
	}
	defer cpu.Close()
	h := &lxHolder{procDir: fd, cpuStat: cpu}
	if st := h.scan(); st.Procs == 0 || st.Memory == 0 {
		t.Fatalf("scan of the host's /proc: %+v", st)
	}
	if h.cpuTicks() == 0 {
		t.Errorf("no CPU time in %s/cpu.stat", root)
	}
	allocs := testing.AllocsPerRun(20, func() {
		h.scan()
		h.cpuTicks()
	})
	if allocs != 0 {
		t.Errorf("sampler allocates %.0f objects per round", allocs)
	}
}
