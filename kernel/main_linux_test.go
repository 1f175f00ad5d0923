package kernel

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve as the driver's re-executed helper
// ("cells-init holder", "cells-init exec"), as every Cells main does.
func TestMain(m *testing.M) {
	MaybeInit()
	if os.Getenv(lxOthersEnv) != "" {
		os.Exit(lxOthersMain())
	}
	code := m.Run()
	lxTestCleanupShared()
	os.Exit(code)
}
