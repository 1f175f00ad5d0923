package archive

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// DefaultMaxBytes is the size limit when Options.MaxBytes is 0.
const DefaultMaxBytes int64 = 10 << 30

// maxTrailing bounds the bytes accepted after the tar end marker (GNU tar
// pads to 10 KiB records; anything much larger is not an archive of ours).
const maxTrailing = 1 << 20

// Options are the rules of Check and Extract.
type Options struct {
	// MaxBytes limits the expanded size: the data of every regular file
	// plus EntryOverhead per entry. 0 means DefaultMaxBytes.
	MaxBytes int64
	// Whiteouts allows character devices 0:0, the whiteouts overlayfs
	// keeps in an upper layer for deleted files, and restores the opaque
	// mark of directories (Linux overlays). Other extended attributes are
	// never restored.
	Whiteouts bool
	// AbsoluteLinks allows symbolic links with absolute targets. An
	// overlay is the root of its cell, so "/etc/x" there means the cell's
	// /etc/x; nothing on the host follows such links.
	AbsoluteLinks bool
	// Owners makes Extract set the numeric owners of the entries (needs
	// root); otherwise the extracting user owns everything.
	Owners bool
}

// ErrTooLarge is the refusal of an archive expanding past the size limit
// (errors.Is(err, ErrRefused) holds too).
var ErrTooLarge error = &refusal{"archive expands past the size limit"}

// kind is what a name is in the archive seen so far.
type kind uint8

const (
	kImplicitDir kind = iota + 1 // a parent of an entry, not an entry itself
	kDir
	kFile
	kSymlink
	kOther // whiteout
)

// entry is a validated header.
type entry struct {
	hdr  *tar.Header
	name string // clean, relative, "." for the root
	typ  byte   // tar.TypeReg, TypeDir, TypeSymlink, TypeLink or TypeChar
	mode uint32 // permission and sticky bits (setuid/setgid dropped)
	link string // hard links: the clean name of the earlier file
}

// validator applies the rules to one archive's headers, in order.
type validator struct {
	o     Options
	seen  map[string]kind
	total int64
	stats Stats
}

func newValidator(o Options) *validator {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	return &validator{o: o, seen: map[string]kind{}}
}

// cleanName returns the clean relative form of an entry name ("." for the
// root), refusing absolute names and any ".." component.
func cleanName(raw string) (string, error) {
	if raw == "" || strings.IndexByte(raw, 0) >= 0 {
		return "", refuse(raw, "invalid name")
	}
	if raw[0] == '/' {
		return "", refuse(raw, "absolute name")
	}
	for _, c := range strings.Split(raw, "/") {
		if c == ".." {
			return "", refuse(raw, "name contains '..'")
		}
	}
	return path.Clean(raw), nil
}

// checkLinkTarget refuses a symbolic link target that leaves the tree when
// resolved lexically from the link's directory. A ".." after a normal
// component is refused as well: the component may itself be a link, and
// "l/.." is not where the text suggests (l -> . makes "l/../.." climb
// twice from the link's directory while cleaning says it stays).
func checkLinkTarget(name, target string, absolute bool) error {
	if target == "" || strings.IndexByte(target, 0) >= 0 {
		return refuse(name, "invalid symbolic link target")
	}
	if target[0] == '/' && !absolute {
		return refuse(name, "symbolic link to absolute path %q", target)
	}
	up, normal := 0, false
	for _, c := range strings.Split(target, "/") {
		switch c {
		case "", ".":
		case "..":
			if normal {
				return refuse(name, "symbolic link target %q has '..' after a name", target)
			}
			up++
		default:
			normal = true
		}
	}
	if target[0] == '/' {
		return nil // rooted at the tree: "/.." is "/"
	}
	depth := 0
	if d := path.Dir(name); d != "." {
		depth = strings.Count(d, "/") + 1
	}
	if up > depth {
		return refuse(name, "symbolic link to %q leaves the tree", target)
	}
	return nil
}

// check validates one header and records it.
func (v *validator) check(hdr *tar.Header) (entry, error) {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return entry{}, err
	}
	e := entry{hdr: hdr, name: name, typ: hdr.Typeflag, mode: uint32(hdr.Mode) & 0o1777}
	var k kind
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA:
		e.typ, k = tar.TypeReg, kFile
		if hdr.Size < 0 {
			return e, refuse(hdr.Name, "negative size")
		}
	case tar.TypeDir:
		k = kDir
	case tar.TypeSymlink:
		k = kSymlink
		if err := checkLinkTarget(name, hdr.Linkname, v.o.AbsoluteLinks); err != nil {
			return e, err
		}
	case tar.TypeLink:
		k = kFile
		target, err := cleanName(hdr.Linkname)
		if err != nil || v.seen[target] != kFile {
			return e, refuse(hdr.Name, "hard link to %q, which is not an earlier regular file of the archive", hdr.Linkname)
		}
		e.link = target
	case tar.TypeChar:
		if !v.o.Whiteouts || hdr.Devmajor != 0 || hdr.Devminor != 0 {
			return e, refuse(hdr.Name, "device node")
		}
		k = kOther
	case tar.TypeBlock:
		return e, refuse(hdr.Name, "device node")
	case tar.TypeFifo:
		return e, refuse(hdr.Name, "FIFO")
	default:
		return e, refuse(hdr.Name, "unsupported entry type %q", hdr.Typeflag)
	}
	if name == "." {
		if k != kDir {
			return e, refuse(hdr.Name, "the root must be a directory")
		}
	} else if err := v.parents(name); err != nil {
		return e, err
	}
	switch prev := v.seen[name]; {
	case prev == 0:
	case prev == kImplicitDir && k == kDir:
	default:
		return e, refuse(hdr.Name, "duplicate entry")
	}
	v.seen[name] = k
	v.total += EntryOverhead
	if e.typ == tar.TypeReg {
		v.total += hdr.Size
		v.stats.Bytes += hdr.Size
	}
	if v.total > v.o.MaxBytes {
		return e, fmt.Errorf("%w of %d bytes", ErrTooLarge, v.o.MaxBytes)
	}
	v.stats.Entries++
	return e, nil
}

// parents checks that every parent of name is a directory (or not seen
// yet, then it becomes an implicit one): nothing is ever written below a
// file or through a symbolic link of the archive.
func (v *validator) parents(name string) error {
	for i := 0; i < len(name); i++ {
		if name[i] != '/' {
			continue
		}
		p := name[:i]
		switch v.seen[p] {
		case 0:
			v.seen[p] = kImplicitDir
		case kDir, kImplicitDir:
		default:
			return refuse(name, "parent %q is not a directory", p)
		}
	}
	return nil
}

// walk reads a gzip tar archive, validating every header and handing each
// entry to fn with its data (regular files). The stream must be complete:
// a truncated or corrupt gzip stream, or more than a little data after the
// tar end marker, is an error.
func walk(r io.Reader, o Options, fn func(e entry, data io.Reader) error) (Stats, error) {
	v := newValidator(o)
	zr, err := gzip.NewReader(r)
	if err != nil {
		return v.stats, fmt.Errorf("not a gzip stream: %w", err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return v.stats, fmt.Errorf("corrupt archive: %w", err)
		}
		e, err := v.check(hdr)
		if err != nil {
			return v.stats, err
		}
		if err := fn(e, tr); err != nil {
			return v.stats, err
		}
	}
	n, err := io.Copy(io.Discard, io.LimitReader(zr, maxTrailing+1))
	if err != nil {
		return v.stats, fmt.Errorf("corrupt archive: %w", err)
	}
	if n > maxTrailing {
		return v.stats, &refusal{"data after the end of the archive"}
	}
	return v.stats, nil
}

// Check validates the gzip tar archive read from r with the rules of
// Extract, writing nothing, and returns its entry and byte counts.
func Check(r io.Reader, o Options) (Stats, error) {
	return walk(r, o, func(e entry, data io.Reader) error {
		if e.typ != tar.TypeReg {
			return nil
		}
		if _, err := io.Copy(io.Discard, data); err != nil {
			return fmt.Errorf("corrupt archive: %s: %w", e.hdr.Name, err)
		}
		return nil
	})
}
