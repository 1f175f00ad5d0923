package runtime

// The root integration tests (integration_*_root_linux_test.go) live in
// package runtime_test so they can drive the cellman command line
// in-process (cells/bin/cellman/cellman imports this package); these names
// hand them the fixtures of the in-package root tests.

// RootPrefixForTest is rootPrefix: a bootstrapped scratch prefix whose
// cells are stopped (and checked unmounted) when the test ends.
var RootPrefixForTest = rootPrefix

// KernelCellIDForTest is kernelCellID: the id of an active cell.
var KernelCellIDForTest = kernelCellID
