package kernel

// openNative opens the Linux driver. (Placeholder until the driver lands.)
func openNative(opts Options) (Driver, error) { return nil, ErrNotSupported }

// InitMain is the body of the re-executed helper. (Placeholder.)
func InitMain() int { return 1 }
