//go:build !linux && !netbsd

package kernel

func openNative(opts Options) (Driver, error) { return nil, ErrNotSupported }
