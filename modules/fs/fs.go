// Package fs resolves and opens paths inside a directory tree, a cell root,
// without ever leaving it (DESIGN difference 5, the lesson of
// CVE-2021-30465): every symlink met on the way is resolved as if the tree
// were "/" (an absolute link restarts at the tree's top, ".." stops there),
// so a link planted inside a cell can redirect a host operation only to
// another place inside the same cell, never to the host.
//
// On Linux the kernel does the walk (openat2 with RESOLVE_IN_ROOT and
// RESOLVE_NO_MAGICLINKS); elsewhere, and on kernels without openat2, a
// component-wise walk does it in userland: each component is examined with
// fstatat(AT_SYMLINK_NOFOLLOW), opened with O_NOFOLLOW relative to the
// previous directory's descriptor, and checked to be the object examined.
//
// The Lua module require("cells.fs") builds on this package.
package fs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// maxLinks bounds the symlinks followed in one resolution (Linux's limit).
const maxLinks = 40

// Root is an open directory under which paths are resolved.
type Root struct {
	dir  *os.File
	path string
}

// OpenRoot opens the directory path as a root. The path itself is trusted
// (it is the host's, e.g. /var/cellman/cells/<n>/root); everything below it
// is not.
func OpenRoot(dir string) (*Root, error) {
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_CLOEXEC|dirOpenFlags, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open root", Path: dir, Err: err}
	}
	return &Root{dir: os.NewFile(uintptr(fd), dir), path: dir}, nil
}

// Path is the host path the root was opened with.
func (r *Root) Path() string { return r.path }

// Fd is the root's descriptor (valid until Close).
func (r *Root) Fd() int { return int(r.dir.Fd()) }

// Close releases the root's descriptor.
func (r *Root) Close() error { return r.dir.Close() }

// Join is the host path of rel under the root, for messages: it says what
// was asked for, not where a link led.
func (r *Root) Join(rel string) string { return path.Join(r.path, "/", rel) }

// Clean turns a path inside the root ("/srv/www", "srv/www") into the
// relative form the resolvers take ("srv/www"; "." for the root itself).
func Clean(p string) string {
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if c == "" {
		return "."
	}
	return c
}

// OpenDir resolves the existing directory rel inside the root and returns a
// descriptor of it (O_PATH on Linux: usable as a mount target through
// /proc/self/fd, and for *at calls).
func (r *Root) OpenDir(rel string) (*os.File, error) {
	rel = Clean(rel)
	fd, err := resolve(r.Fd(), rel, unix.O_DIRECTORY|dirOpenFlags)
	if err != nil {
		return nil, &os.PathError{Op: "resolve in root", Path: r.Join(rel), Err: err}
	}
	return os.NewFile(uintptr(fd), r.Join(rel)), nil
}

// MkdirAll resolves rel inside the root, creating every missing directory
// with mode (subject to the umask) on the way, and returns a descriptor of
// the final directory as OpenDir does. A component that exists but is not a
// directory (or is a dangling link) is an error.
func (r *Root) MkdirAll(rel string, mode os.FileMode) (*os.File, error) {
	rel = Clean(rel)
	if f, err := r.OpenDir(rel); err == nil || !errors.Is(err, unix.ENOENT) {
		return f, err
	}
	comps := strings.Split(rel, "/")
	parent, err := r.OpenDir(".")
	if err != nil {
		return nil, err
	}
	for i := range comps {
		prefix := strings.Join(comps[:i+1], "/")
		next, err := r.OpenDir(prefix)
		if errors.Is(err, unix.ENOENT) {
			// Why mkdirat on the parent's descriptor: the parent was
			// resolved inside the root, and mkdirat never follows a
			// link in its last component, so the new directory is
			// created exactly there or not at all.
			if merr := unix.Mkdirat(int(parent.Fd()), comps[i], uint32(mode.Perm())); merr != nil && !errors.Is(merr, unix.EEXIST) {
				parent.Close()
				return nil, &os.PathError{Op: "mkdir in root", Path: r.Join(prefix), Err: merr}
			}
			next, err = r.OpenDir(prefix)
		}
		parent.Close()
		if err != nil {
			return nil, err
		}
		parent = next
	}
	return parent, nil
}

// ReadFile reads the regular file rel inside the root, at most max bytes
// (a larger file is an error).
func (r *Root) ReadFile(rel string, max int64) ([]byte, error) {
	rel = Clean(rel)
	if in, err := r.Stat(rel); err == nil && in.Type != "file" {
		return nil, &os.PathError{Op: "open in root", Path: r.Join(rel), Err: errNotRegular}
	}
	// O_NONBLOCK: a FIFO planted at the name must not hang the host.
	fd, err := resolve(r.Fd(), rel, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, &os.PathError{Op: "open in root", Path: r.Join(rel), Err: err}
	}
	f := os.NewFile(uintptr(fd), r.Join(rel))
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "open in root", Path: r.Join(rel), Err: errors.New("not a regular file")}
	}
	if fi.Size() > max {
		return nil, &os.PathError{Op: "read in root", Path: r.Join(rel), Err: fmt.Errorf("file larger than %d bytes", max)}
	}
	buf, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, &os.PathError{Op: "read in root", Path: r.Join(rel), Err: err}
	}
	if int64(len(buf)) > max {
		return nil, &os.PathError{Op: "read in root", Path: r.Join(rel), Err: fmt.Errorf("file larger than %d bytes", max)}
	}
	return buf, nil
}
