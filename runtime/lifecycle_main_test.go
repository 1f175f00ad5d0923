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
// binary as "<argv0> supervise cell=<name> cid=<id>".
func TestMain(m *testing.M) {
	kernel.MaybeInit()
	if os.Getenv("CELLS_SUPERVISE_MONITOR") != "" && len(os.Args) > 1 && os.Args[1] == "supervise" {
		os.Exit(supervise.Command(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
