//go:build !linux && !netbsd

package kernel

func openNative(opts Options) (Driver, error) { return nil, ErrNotSupported }

// InitMain is the body of the re-executed helper; unsupported here.
func InitMain() int { return 1 }
