package fs

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// WriteFile replaces the file rel with data atomically (see WriteFrom).
func (r *Root) WriteFile(rel string, data []byte, perm uint32) (bool, error) {
	if r.sameContent(rel, data) {
		return false, nil
	}
	return r.WriteFrom(rel, bytes.NewReader(data), perm)
}

// sameContent reports whether rel is a regular file holding exactly data:
// the converged case, answered without a temporary file.
func (r *Root) sameContent(rel string, data []byte) bool {
	dir, name, err := r.parent(rel, false)
	if err != nil {
		return false
	}
	defer dir.Close()
	var st unix.Stat_t
	if unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil ||
		st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size != int64(len(data)) {
		return false
	}
	want := sha256.Sum256(data)
	return bytes.Equal(sumAt(int(dir.Fd()), name, &st), want[:])
}

// WriteFrom replaces the file rel with the bytes of src: written to a
// temporary file in the same (confined) directory, synced, renamed over
// rel, and the directory synced, so a crash leaves the old or the new file,
// never a mix. Parents are created (0755). A new file gets perm; an
// existing regular file keeps its mode and owner. An entry that is a link
// is replaced by the file, never written through. When the content is
// unchanged nothing is written and it reports false.
func (r *Root) WriteFrom(rel string, src io.Reader, perm uint32) (bool, error) {
	dir, name, err := r.parent(rel, true)
	if err != nil {
		return false, pathErr("write", rel, err)
	}
	defer dir.Close()
	if name == "." {
		return false, pathErr("write", rel, unix.EISDIR)
	}
	dfd := int(dir.Fd())
	var old unix.Stat_t
	exists := unix.Fstatat(dfd, name, &old, unix.AT_SYMLINK_NOFOLLOW) == nil
	isReg := exists && old.Mode&unix.S_IFMT == unix.S_IFREG
	if exists && old.Mode&unix.S_IFMT == unix.S_IFDIR {
		return false, pathErr("write", rel, unix.EISDIR)
	}
	var oldSum []byte
	if isReg {
		oldSum = sumAt(dfd, name, &old)
		perm = uint32(old.Mode) & 0o7777
	}
	tmpName, tmp, err := createTemp(dfd, name)
	if err != nil {
		return false, pathErr("write", rel, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			unix.Unlinkat(dfd, tmpName, 0)
		}
	}()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), src); err != nil {
		return false, pathErr("write", rel, err)
	}
	if oldSum != nil && bytes.Equal(oldSum, h.Sum(nil)) {
		return false, nil
	}
	if isReg {
		// Keep the owner of the file being replaced; only root can give
		// a file away, and only root can own another's file anyway.
		if err := tmp.Chown(int(old.Uid), int(old.Gid)); err != nil && os.Geteuid() == 0 {
			return false, pathErr("write", rel, err)
		}
	}
	// Chmod after creation: the umask must not decide the mode.
	if err := tmp.Chmod(os.FileMode(perm&0o777) | modeBits(perm)); err != nil {
		return false, pathErr("write", rel, err)
	}
	if err := tmp.Sync(); err != nil {
		return false, pathErr("write", rel, err)
	}
	if err := tmp.Close(); err != nil {
		return false, pathErr("write", rel, err)
	}
	if err := unix.Renameat(dfd, tmpName, dfd, name); err != nil {
		return false, pathErr("write", rel, err)
	}
	committed = true
	syncDir(dfd)
	return true, nil
}

// modeBits maps the setuid, setgid and sticky bits of an octal mode to Go's.
func modeBits(perm uint32) os.FileMode {
	var m os.FileMode
	if perm&0o4000 != 0 {
		m |= os.ModeSetuid
	}
	if perm&0o2000 != 0 {
		m |= os.ModeSetgid
	}
	if perm&0o1000 != 0 {
		m |= os.ModeSticky
	}
	return m
}

// createTemp creates a fresh, private temporary file beside name in dfd.
func createTemp(dfd int, name string) (string, *os.File, error) {
	for i := 0; ; i++ {
		var b [6]byte
		rand.Read(b[:])
		tmpName := "." + name + ".cells-" + hex.EncodeToString(b[:])
		if len(tmpName) > 255 {
			tmpName = ".cells-" + hex.EncodeToString(b[:])
		}
		fd, err := unix.Openat(dfd, tmpName, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EEXIST) && i < 8 {
			continue
		}
		if err != nil {
			return "", nil, err
		}
		return tmpName, os.NewFile(uintptr(fd), tmpName), nil
	}
}

// sumAt hashes the regular file name of dfd, the object st describes; nil
// when it cannot be read (the file is then rewritten).
func sumAt(dfd int, name string, st *unix.Stat_t) []byte {
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	var got unix.Stat_t
	if unix.Fstat(fd, &got) != nil || got.Dev != st.Dev || got.Ino != st.Ino {
		return nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil
	}
	return h.Sum(nil)
}

// syncDir flushes the directory dfd so a rename in it is durable.
func syncDir(dfd int) {
	fd, err := unix.Openat(dfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	unix.Fsync(fd)
	unix.Close(fd)
}

// limited reads at most max+1 bytes of r, so a caller sees an overflow.
func limited(r io.Reader, max int64) io.Reader { return io.LimitReader(r, max+1) }
