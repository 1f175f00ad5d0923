package supervise

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"cells/kernel"
)

// testInit runs before the tests in the top-level test process (set by
// platform test files).
var testInit func()

// TestMain lets the test binary play the programs the tests start: `cellctl`
// (the CLI entry and both daemon stages), `svc-flood` (a service that
// writes to stdout as fast as it can) and the kernel driver's helper.
func TestMain(m *testing.M) {
	switch filepath.Base(os.Args[0]) {
	case "cellctl":
		if len(os.Args) < 2 || os.Args[1] != "supervise" {
			os.Exit(2)
		}
		// Knobs the tests use to shorten the monitor's timings.
		if d, err := time.ParseDuration(os.Getenv("SUPERVISE_TEST_RESET_AFTER")); err == nil {
			ResetAfter = d
		}
		if d, err := time.ParseDuration(os.Getenv("SUPERVISE_TEST_STOP_GRACE")); err == nil {
			StopGrace = d
		}
		os.Exit(Command(os.Args[2:], os.Stdout, os.Stderr))
	case "svc-flood":
		os.Exit(floodMain(os.Args[1:]))
	case kernel.InitArg0: // the real driver's re-executed helpers
		os.Exit(kernel.InitMain())
	}
	if testInit != nil {
		testInit()
	}
	os.Exit(m.Run())
}
