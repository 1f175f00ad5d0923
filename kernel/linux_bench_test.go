//go:build linux

package kernel

import (
	"fmt"
	"testing"
)

// BenchmarkCreateExecDestroy is one cell's whole life through the driver:
// create, run /bin/true inside, wait, destroy (scripts/bench-cells.sh
// measures the same through cellctl, next to crun and unshare).
func BenchmarkCreateExecDestroy(b *testing.B) {
	d := lxTestDriver(b)
	root := lxTestRoot(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id, err := d.Create(CreateSpec{Name: fmt.Sprintf("bench%d", i), Root: root})
		if err != nil {
			b.Fatal(err)
		}
		p, err := d.Exec(id, ExecSpec{Argv: []string{"/bin/true"}})
		if err != nil {
			b.Fatal(err)
		}
		if st, err := p.Wait(); err != nil || !st.Success() {
			b.Fatalf("true: %+v %v", st, err)
		}
		if err := d.Destroy(id); err != nil {
			b.Fatal(err)
		}
	}
}
