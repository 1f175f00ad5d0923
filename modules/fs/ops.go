package fs

import (
	"bytes"
	"errors"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// MaxTextFile caps the files AppendLine reads back and the Lua read_file.
const MaxTextFile = 64 << 20

// parent resolves the directory holding rel inside the root (creating the
// missing ones with mode 0755 when create is set) and returns it with the
// last component's name. The root itself is returned as its own parent
// with the name ".".
func (r *Root) parent(rel string, create bool) (*os.File, string, error) {
	rel = Clean(rel)
	if rel == "." {
		fd, err := unix.Dup(r.Fd())
		if err != nil {
			return nil, "", err
		}
		return os.NewFile(uintptr(fd), r.path), ".", nil
	}
	dir, name := path.Dir(rel), path.Base(rel)
	var f *os.File
	var err error
	if create {
		f, err = r.MkdirAll(dir, 0o755)
	} else {
		f, err = r.OpenDir(dir)
	}
	if err != nil {
		return nil, "", err
	}
	return f, name, nil
}

// inPath is how errors name rel: the path inside the cell, "/etc/motd".
func inPath(rel string) string { return "/" + strings.TrimPrefix(Clean(rel), ".") }

// pathErr wraps err for rel, keeping an error that already names a path.
func pathErr(op, rel string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return &os.PathError{Op: op, Path: inPath(rel), Err: pe.Err}
	}
	return &os.PathError{Op: op, Path: inPath(rel), Err: err}
}

// AppendLine appends text and a newline to the file rel (created 0644 with
// its parents when missing) unless a line of the file, with surrounding
// whitespace trimmed, already equals text (upstream's `line` action). A
// file not ending in a newline gets one first, so text never joins the
// last line. It reports whether the file changed.
func (r *Root) AppendLine(rel, text string) (bool, error) {
	dir, name, err := r.parent(rel, true)
	if err != nil {
		return false, pathErr("line", rel, err)
	}
	defer dir.Close()
	// A device node or FIFO is refused before it is opened: opening one
	// can have effects of its own (the check after the open stays, for a
	// swap in between).
	if in, err := r.Stat(rel); err == nil && in.Type != "file" {
		return false, pathErr("line", rel, errNotRegular)
	}
	// The existing file is opened through the confined resolver (a link
	// to another file of the cell is followed); a missing one is created
	// in the resolved parent, never through a link.
	fd, err := resolve(r.Fd(), Clean(rel), unix.O_RDWR|unix.O_APPEND|unix.O_NONBLOCK)
	if errors.Is(err, unix.ENOENT) {
		fd, err = unix.Openat(int(dir.Fd()), name, unix.O_RDWR|unix.O_APPEND|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	}
	if err != nil {
		return false, pathErr("line", rel, err)
	}
	f := os.NewFile(uintptr(fd), inPath(rel))
	defer f.Close()
	if err := regular(f); err != nil {
		return false, pathErr("line", rel, err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(limited(f, MaxTextFile)); err != nil {
		return false, pathErr("line", rel, err)
	}
	if buf.Len() > MaxTextFile {
		return false, pathErr("line", rel, errTooLarge)
	}
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.TrimSpace(l) == text {
			return false, nil
		}
	}
	add := text + "\n"
	if b := buf.Bytes(); len(b) > 0 && b[len(b)-1] != '\n' {
		add = "\n" + add
	}
	if _, err := f.WriteString(add); err != nil {
		return false, pathErr("line", rel, err)
	}
	if err := f.Sync(); err != nil {
		return false, pathErr("line", rel, err)
	}
	return true, nil
}

// Symlink makes linkpath (its parents created) a symbolic link to target,
// replacing whatever entry was there (an empty directory included). The
// target is stored verbatim: it is the cell's business, and every host
// operation resolves it inside the root. It reports false when the link
// already pointed at target.
func (r *Root) Symlink(target, linkpath string) (bool, error) {
	dir, name, err := r.parent(linkpath, true)
	if err != nil {
		return false, pathErr("symlink", linkpath, err)
	}
	defer dir.Close()
	dfd := int(dir.Fd())
	if cur, err := readlinkat(dfd, name); err == nil && cur == target {
		return false, nil
	}
	if err := unlinkEntry(dfd, name); err != nil && !errors.Is(err, unix.ENOENT) {
		return false, pathErr("symlink", linkpath, err)
	}
	if err := unix.Symlinkat(target, dfd, name); err != nil {
		return false, pathErr("symlink", linkpath, err)
	}
	return true, nil
}

// unlinkEntry removes the entry name of dfd without following it: a file,
// a link, or an empty directory.
func unlinkEntry(dfd int, name string) error {
	err := unix.Unlinkat(dfd, name, 0)
	if errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EPERM) {
		// unlink(2) refuses directories (EISDIR on Linux, EPERM on
		// NetBSD); rmdir is the directory form.
		if rerr := unix.Unlinkat(dfd, name, unix.AT_REMOVEDIR); rerr == nil || !errors.Is(rerr, unix.ENOTDIR) {
			return rerr
		}
	}
	return err
}

// Remove deletes the entry rel (a file, a link, or an empty directory)
// without following a link in its last component. It reports false when
// there was nothing to remove.
func (r *Root) Remove(rel string) (bool, error) {
	if Clean(rel) == "." {
		return false, pathErr("remove", rel, unix.EBUSY)
	}
	dir, name, err := r.parent(rel, false)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, pathErr("remove", rel, err)
	}
	defer dir.Close()
	if err := unlinkEntry(int(dir.Fd()), name); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return false, nil
		}
		return false, pathErr("remove", rel, err)
	}
	return true, nil
}

// Chown changes the owner and group of rel (-1 keeps one) with lchown
// semantics: a link in the last component is changed itself, never its
// target.
func (r *Root) Chown(rel string, uid, gid int) error {
	dir, name, err := r.parent(rel, false)
	if err != nil {
		return pathErr("chown", rel, err)
	}
	defer dir.Close()
	if err := unix.Fchownat(int(dir.Fd()), name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return pathErr("chown", rel, err)
	}
	return nil
}

// Chmod sets the permission bits (07777) of rel; a link in the last
// component is followed inside the root.
func (r *Root) Chmod(rel string, mode uint32) error {
	fd, err := resolve(r.Fd(), Clean(rel), pathOpenFlags)
	if err != nil {
		return pathErr("chmod", rel, err)
	}
	defer unix.Close(fd)
	if err := fchmod(fd, mode&0o7777); err != nil {
		return pathErr("chmod", rel, err)
	}
	return nil
}

// Info describes an entry of the root.
type Info struct {
	Type   string // file dir link fifo socket char block
	Mode   uint32 // permission bits, 07777
	UID    uint32
	GID    uint32
	Size   int64
	Target string // link target (Lstat of a link only)
}

func infoOf(st *unix.Stat_t) Info {
	t := "file"
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		t = "dir"
	case unix.S_IFLNK:
		t = "link"
	case unix.S_IFIFO:
		t = "fifo"
	case unix.S_IFSOCK:
		t = "socket"
	case unix.S_IFCHR:
		t = "char"
	case unix.S_IFBLK:
		t = "block"
	}
	return Info{Type: t, Mode: uint32(st.Mode) & 0o7777, UID: st.Uid, GID: st.Gid, Size: st.Size}
}

// Lstat describes the entry rel itself (a link is not followed).
func (r *Root) Lstat(rel string) (Info, error) {
	dir, name, err := r.parent(rel, false)
	if err != nil {
		return Info{}, pathErr("lstat", rel, err)
	}
	defer dir.Close()
	var st unix.Stat_t
	if err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return Info{}, pathErr("lstat", rel, err)
	}
	in := infoOf(&st)
	if in.Type == "link" {
		in.Target, _ = readlinkat(int(dir.Fd()), name)
	}
	return in, nil
}

// Stat describes the object rel names, links followed inside the root.
func (r *Root) Stat(rel string) (Info, error) {
	fd, err := resolve(r.Fd(), Clean(rel), pathOpenFlags)
	if err != nil {
		return Info{}, pathErr("stat", rel, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return Info{}, pathErr("stat", rel, err)
	}
	return infoOf(&st), nil
}

// errTooLarge is returned for text files above MaxTextFile.
var errTooLarge = errors.New("file too large")

// errNotRegular is returned where only a regular file will do.
var errNotRegular = errors.New("not a regular file")

func regular(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errNotRegular
	}
	return nil
}
