//go:build !linux && !netbsd

package runtime

import (
	"errors"

	"cells/runtime/paths"
)

func bootstrapSystem(p paths.Paths, release, arch string, opts BootstrapOptions) error {
	return errors.New("system bootstrap is supported on NetBSD and Linux only")
}
