package kernel

// openNative opens the NetBSD secmodel_cell driver. (Placeholder.)
func openNative(opts Options) (Driver, error) { return nil, ErrNotSupported }

// InitMain is the body of the re-executed helper. (Placeholder.)
func InitMain() int { return 1 }
