package kernel

// openNative opens the NetBSD secmodel_cell driver. (Placeholder.)
func openNative(opts Options) (Driver, error) { return nil, ErrNotSupported }
