package runtime

import (
	"os"
	"testing"

	"cells/kernel"
	"cells/runtime/supervise"
)

// TestMain lets the test binary play the programs the lifecycle starts:
// the kernel driver's re-executed helper (argv[0] cells-init) and the
// daemon stages of `cellctl supervise`, which re-execute the running
// binary as "cellctl supervise cell=<name> cid=<id>".
func TestMain(m *testing.M) {
	kernel.MaybeInit()
	supervise.MaybeMonitor()
	os.Exit(m.Run())
}
