package kernel

// OpenFake opens the file-backed fake driver kept under opts.StateDir.
// (Placeholder: the real fake lands with cellctl.)
func OpenFake(opts Options) (Driver, error) { return nil, ErrNotSupported }
