package fs

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Untar extracts the host archive src (tar, optionally gzip, bzip2, xz or
// zstd compressed; the last two through the host's xz/zstd as pure
// decompressors) into the directory dst inside the root, created when
// missing, dropping the first strip components of every name (entries with
// fewer are skipped, as tar --strip-components does). Every entry is
// created through the confined resolver. Refused: absolute names, names
// with "..", symbolic links whose relative target climbs above the cell
// root, hard links to names outside the archive's tree, device nodes and
// FIFOs. Setuid and setgid bits are dropped; owners are kept when running
// as root. It returns the number of entries written.
func (r *Root) Untar(src, dst string, strip int) (int, error) {
	f, err := OpenHost(src)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rd, done, err := decompress(f)
	if err != nil {
		return 0, fmt.Errorf("untar %s: %w", src, err)
	}
	n, err := r.extract(tar.NewReader(rd), Clean(dst), strip)
	if derr := done(err != nil); err == nil && derr != nil {
		err = derr
	}
	if err != nil {
		return n, fmt.Errorf("untar %s: %w", src, err)
	}
	return n, nil
}

func (r *Root) extract(tr *tar.Reader, dst string, strip int) (int, error) {
	d, err := r.MkdirAll(dst, 0o755)
	if err != nil {
		return 0, pathErr("mkdir", dst, err)
	}
	d.Close()
	root := os.Geteuid() == 0
	n := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		name, ok, err := entryName(hdr.Name, strip)
		if err != nil {
			return n, err
		}
		if !ok {
			continue
		}
		full := path.Join(dst, name)
		mode := uint32(hdr.Mode) & 0o1777
		switch hdr.Typeflag {
		case tar.TypeDir:
			d, err := r.MkdirAll(full, 0o755)
			if err != nil {
				return n, pathErr("mkdir", full, err)
			}
			d.Close()
			err = r.Chmod(full, mode)
			if err != nil {
				return n, err
			}
		case tar.TypeReg, tar.TypeRegA:
			if _, err := r.WriteFrom(full, tr, mode); err != nil {
				return n, err
			}
			if err := r.Chmod(full, mode); err != nil {
				return n, err
			}
		case tar.TypeSymlink:
			if escapes(path.Dir(inPath(full)), hdr.Linkname) {
				return n, fmt.Errorf("entry %s: link target %s leaves the cell root", hdr.Name, hdr.Linkname)
			}
			if _, err := r.Symlink(hdr.Linkname, full); err != nil {
				return n, err
			}
		case tar.TypeLink:
			old, ok, err := entryName(hdr.Linkname, strip)
			if err != nil || !ok {
				return n, fmt.Errorf("entry %s: hard link target %s is outside the archive", hdr.Name, hdr.Linkname)
			}
			if err := r.link(path.Join(dst, old), full); err != nil {
				return n, err
			}
		case tar.TypeXGlobalHeader:
			continue
		default:
			return n, fmt.Errorf("entry %s: unsupported type %q (device nodes and FIFOs are refused)", hdr.Name, hdr.Typeflag)
		}
		if root {
			if err := r.Chown(full, hdr.Uid, hdr.Gid); err != nil {
				return n, err
			}
		}
		n++
	}
}

// entryName cleans an archive name and strips its first strip components;
// ok is false when nothing remains.
func entryName(name string, strip int) (string, bool, error) {
	if strings.HasPrefix(name, "/") {
		return "", false, fmt.Errorf("entry %s: absolute name", name)
	}
	var parts []string
	for _, c := range strings.Split(name, "/") {
		switch c {
		case "", ".":
		case "..":
			return "", false, fmt.Errorf("entry %s: name contains '..'", name)
		default:
			parts = append(parts, c)
		}
	}
	if len(parts) <= strip {
		return "", false, nil
	}
	return strings.Join(parts[strip:], "/"), true, nil
}

// escapes reports whether the relative link target, read from the in-cell
// directory dir, climbs above the cell root. Absolute targets are read in
// the cell's own view and cannot.
func escapes(dir, target string) bool {
	if strings.HasPrefix(target, "/") {
		return false
	}
	depth := len(splitPath(dir))
	for _, c := range splitPath(target) {
		switch c {
		case ".":
		case "..":
			if depth--; depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// link makes newRel a hard link to the entry oldRel (not followed), both
// resolved inside the root, replacing what was at newRel.
func (r *Root) link(oldRel, newRel string) error {
	od, oname, err := r.parent(oldRel, false)
	if err != nil {
		return pathErr("link", oldRel, err)
	}
	defer od.Close()
	nd, nname, err := r.parent(newRel, true)
	if err != nil {
		return pathErr("link", newRel, err)
	}
	defer nd.Close()
	if err := unlinkEntry(int(nd.Fd()), nname); err != nil && !errors.Is(err, unix.ENOENT) {
		return pathErr("link", newRel, err)
	}
	if err := unix.Linkat(int(od.Fd()), oname, int(nd.Fd()), nname, 0); err != nil {
		return pathErr("link", newRel, err)
	}
	return nil
}

// decompress detects the compression of f by its magic bytes. done(abort)
// releases a decompressor process and reports its failure.
func decompress(f *os.File) (io.Reader, func(bool) error, error) {
	br := bufio.NewReader(f)
	magic, _ := br.Peek(6)
	none := func(bool) error { return nil }
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		return z, none, nil
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(br), none, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return external("xz", br)
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return external("zstd", br)
	}
	return br, none, nil
}

// external decompresses src with `<tool> -dc` on the host: a filter from
// stdin to stdout that never touches a path.
func external(tool string, src io.Reader) (io.Reader, func(bool) error, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(tool, "-dc")
	cmd.Stdin = src
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("%s decompressor: %w", tool, err)
	}
	done := func(abort bool) error {
		if abort {
			cmd.Process.Kill()
		}
		io.Copy(io.Discard, out)
		if err := cmd.Wait(); err != nil && !abort {
			return fmt.Errorf("%s decompressor: %v: %s", tool, err, strings.TrimSpace(stderr.String()))
		}
		return nil
	}
	return out, done, nil
}
