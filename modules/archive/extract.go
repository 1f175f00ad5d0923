package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Extract validates the gzip tar archive read from r (see Check) and writes
// its entries into dir, which must be an empty directory the caller owns (a
// staging directory). Every create is relative to a descriptor of an
// already extracted directory, opened without following symbolic links, and
// exclusive (a name is never written twice). Directory modes, owners and
// times are set last, deepest first. On error dir holds a partial tree for
// the caller to remove.
func Extract(r io.Reader, dir string, o Options) (Stats, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return Stats{}, fmt.Errorf("extract: %s: %w", dir, err)
	}
	x := &extractor{root: fd, o: o, cacheFd: -1}
	defer x.close()
	st, err := walk(r, o, x.entry)
	if err != nil {
		return st, err
	}
	if err := x.finish(); err != nil {
		return st, err
	}
	return st, nil
}

// dirMeta is the metadata of a directory, applied after its contents.
type dirMeta struct {
	name     string
	mode     uint32
	uid, gid int
	mtime    time.Time
	owner    bool // set the owner (an entry of the archive, with Owners)
	opaque   bool // mark overlayfs-opaque (with Whiteouts)
}

// extractor writes validated entries below root.
type extractor struct {
	root     int
	o        Options
	dirs     []dirMeta
	cacheDir string // the last parent opened, kept for the next entries
	cacheFd  int
}

func (x *extractor) close() {
	if x.cacheFd >= 0 {
		unix.Close(x.cacheFd)
		x.cacheFd = -1
	}
	unix.Close(x.root)
}

// parent returns a descriptor of directory rel ("." is the root), creating
// missing components (mode 0700 until finish). The descriptor stays owned by
// the extractor.
func (x *extractor) parent(rel string) (int, error) {
	if rel == "." {
		return x.root, nil
	}
	if x.cacheFd >= 0 && x.cacheDir == rel {
		return x.cacheFd, nil
	}
	fd, err := x.openDir(rel, true)
	if err != nil {
		return -1, err
	}
	if x.cacheFd >= 0 {
		unix.Close(x.cacheFd)
	}
	x.cacheDir, x.cacheFd = rel, fd
	return fd, nil
}

// openDir opens directory rel below the root without following symbolic
// links (openBeneath), creating missing components when create is set. The
// caller closes the descriptor.
func (x *extractor) openDir(rel string, create bool) (int, error) {
	fd, err := openBeneath(x.root, rel)
	if err == nil || !create || !errors.Is(err, unix.ENOENT) {
		if err != nil {
			return -1, fmt.Errorf("extract: open %s: %w", rel, err)
		}
		return fd, nil
	}
	cur := x.root
	for i, c := range strings.Split(rel, "/") {
		if err := unix.Mkdirat(cur, c, 0o700); err == nil {
			x.dirs = append(x.dirs, dirMeta{name: strings.Join(strings.Split(rel, "/")[:i+1], "/"), mode: 0o755})
		} else if !errors.Is(err, unix.EEXIST) {
			x.closeIfNotRoot(cur)
			return -1, fmt.Errorf("extract: mkdir %s: %w", rel, err)
		}
		next, err := unix.Openat(cur, c, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		x.closeIfNotRoot(cur)
		if err != nil {
			return -1, fmt.Errorf("extract: open %s: %w", rel, err)
		}
		cur = next
	}
	return cur, nil
}

func (x *extractor) closeIfNotRoot(fd int) {
	if fd != x.root {
		unix.Close(fd)
	}
}

func timespecs(t time.Time) []unix.Timespec {
	ts := unix.NsecToTimespec(t.UnixNano())
	return []unix.Timespec{ts, ts}
}

// entry writes one validated entry.
func (x *extractor) entry(e entry, data io.Reader) error {
	h := e.hdr
	if e.name == "." {
		x.dirs = append(x.dirs, dirMeta{name: ".", mode: e.mode, uid: h.Uid, gid: h.Gid, mtime: h.ModTime, owner: x.o.Owners})
		return nil
	}
	opaque := x.o.Whiteouts && h.PAXRecords[paxOpaque] == "y"
	pfd, err := x.parent(path.Dir(e.name))
	if err != nil {
		return err
	}
	base := path.Base(e.name)
	fail := func(op string, err error) error { return fmt.Errorf("extract: %s %s: %w", op, e.name, err) }
	switch e.typ {
	case tar.TypeDir:
		if err := unix.Mkdirat(pfd, base, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return fail("mkdir", err)
		}
		// An implicit directory made earlier gets the entry's metadata.
		x.dirs = append(x.dirs, dirMeta{name: e.name, mode: e.mode, uid: h.Uid, gid: h.Gid, mtime: h.ModTime, owner: x.o.Owners, opaque: opaque})
		return nil
	case tar.TypeReg:
		fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return fail("create", err)
		}
		f := os.NewFile(uintptr(fd), e.name)
		_, err = io.Copy(f, data)
		if err == nil && x.o.Owners {
			err = f.Chown(h.Uid, h.Gid)
		}
		if err == nil {
			err = unix.Fchmod(fd, e.mode)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fail("write", err)
		}
	case tar.TypeLink:
		sfd, err := x.openDir(path.Dir(e.link), false)
		if err != nil {
			return err
		}
		err = unix.Linkat(sfd, path.Base(e.link), pfd, base, 0)
		unix.Close(sfd)
		if err != nil {
			return fail("link", err)
		}
		return nil // the times and owner are the first name's
	case tar.TypeSymlink:
		if err := unix.Symlinkat(h.Linkname, pfd, base); err != nil {
			return fail("symlink", err)
		}
	case tar.TypeChar:
		if err := mkWhiteout(pfd, base, e.mode); err != nil {
			return fail("mknod", err)
		}
	default:
		return fail("write", fmt.Errorf("unexpected type %q", e.typ))
	}
	if x.o.Owners && e.typ != tar.TypeReg {
		if err := unix.Fchownat(pfd, base, h.Uid, h.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fail("chown", err)
		}
	}
	if err := unix.UtimesNanoAt(pfd, base, timespecs(h.ModTime), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fail("utimes", err)
	}
	return nil
}

// finish applies the directories' metadata, deepest first so a directory's
// time is set after its last child changed it. The last record of a name
// wins (an entry after the implicit creation).
func (x *extractor) finish() error {
	last := map[string]int{}
	for i, d := range x.dirs {
		last[d.name] = i
	}
	order := make([]int, 0, len(last))
	for _, i := range last {
		order = append(order, i)
	}
	depth := func(n string) int {
		if n == "." {
			return 0
		}
		return strings.Count(n, "/") + 1
	}
	sort.Slice(order, func(a, b int) bool {
		da, db := depth(x.dirs[order[a]].name), depth(x.dirs[order[b]].name)
		if da != db {
			return da > db
		}
		return x.dirs[order[a]].name < x.dirs[order[b]].name
	})
	if x.cacheFd >= 0 {
		unix.Close(x.cacheFd)
		x.cacheFd = -1
	}
	for _, i := range order {
		d := x.dirs[i]
		fd := x.root
		if d.name != "." {
			var err error
			if fd, err = x.openDir(d.name, false); err != nil {
				return err
			}
		}
		err := x.applyDir(fd, d)
		x.closeIfNotRoot(fd)
		if err != nil {
			return fmt.Errorf("extract: %s: %w", d.name, err)
		}
	}
	return nil
}

func (x *extractor) applyDir(fd int, d dirMeta) error {
	if d.owner {
		if err := unix.Fchown(fd, d.uid, d.gid); err != nil {
			return err
		}
	}
	if d.opaque {
		if err := setOpaque(fd); err != nil {
			return err
		}
	}
	if err := unix.Fchmod(fd, d.mode); err != nil {
		return err
	}
	if d.mtime.IsZero() {
		return nil
	}
	tv := unix.NsecToTimeval(d.mtime.UnixNano())
	return unix.Futimes(fd, []unix.Timeval{tv, tv})
}
