//go:build !linux

package cellctl

import "os"

// terminalProxy is needed on Linux only: elsewhere the command is
// cellctl's own child in its session and shares its terminal.
func terminalProxy(stdin, stdout *os.File) (pts *os.File, stop func(), ok bool, err error) {
	return nil, nil, false, nil
}
