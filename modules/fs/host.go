package fs

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// OpenHost opens the host file src (an operator's source: a copy, untar,
// template or script source) for reading: it must be a regular file, and a
// FIFO planted there does not block.
func OpenHost(src string) (*os.File, error) {
	f, err := os.OpenFile(src, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if err := regular(f); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: src, Err: err}
	}
	return f, nil
}

// ReadHost reads the host file src, at most max bytes.
func ReadHost(src string, max int64) ([]byte, error) {
	f, err := OpenHost(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(limited(f, max))
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: src, Err: err}
	}
	if int64(len(b)) > max {
		return nil, &os.PathError{Op: "read", Path: src, Err: fmt.Errorf("file larger than %d bytes", max)}
	}
	return b, nil
}

// CopyFromHost copies the host file src to rel inside the root (parents
// created, new file 0644, an existing file keeps its mode and owner),
// atomically as WriteFrom does. It reports whether rel changed.
func (r *Root) CopyFromHost(src, rel string) (bool, error) {
	f, err := OpenHost(src)
	if err != nil {
		return false, err
	}
	defer f.Close()
	return r.WriteFrom(rel, f, 0o644)
}
