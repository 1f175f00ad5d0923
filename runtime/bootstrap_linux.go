package runtime

import (
	"fmt"
	"os"
	"path/filepath"

	"cells/runtime/paths"
)

// HostSystemDirs are the host's read-only system directories a Linux cell
// sees: bind-mounted read-only at start. In the base layer each is the same
// symlink as on the host (merged /usr) or an empty mount point.
var HostSystemDirs = []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr"}

// baseDirs are the directories of the Linux base skeleton and their modes.
var baseDirs = []struct {
	name string
	mode os.FileMode
}{
	{"dev", 0o755}, {"proc", 0o555}, {"sys", 0o555}, {"etc", 0o755},
	{"tmp", os.ModeSticky | 0o777}, {"var", 0o755}, {"var/tmp", os.ModeSticky | 0o777}, {"var/log", 0o755},
	{"var/run", 0o755}, {"var/www", 0o755}, {"run", 0o755}, {"root", 0o700},
	{"home", 0o755}, {"opt", 0o755}, {"mnt", 0o755},
}

// baseEtc is the cell's own small /etc: never the host's shadow or keys.
var baseEtc = map[string]string{
	"passwd":        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
	"group":         "root:x:0:\nnobody:x:65534:\nnogroup:x:65534:\n",
	"hosts":         "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
	"nsswitch.conf": "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n",
	"shells":        "/bin/sh\n",
}

// bootstrapSystem builds the Linux base layer from the host: no download.
// The base is a skeleton (mount points for the host's system directories,
// the writable tree, a small /etc); a cell root is an overlay of the base
// and the cell's own upper layer, with the system directories bound on top.
func bootstrapSystem(p paths.Paths, release, arch string, opts BootstrapOptions) error {
	base := BaseDir(p, release, arch)
	opts.Log("bootstrap base %s", base)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", base, err)
	}
	for _, d := range HostSystemDirs {
		host := filepath.Join("/", d)
		fi, err := os.Lstat(host)
		if err != nil {
			continue // e.g. no /libx32 on this host
		}
		dst := filepath.Join(base, d)
		if fi.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(host)
			if err != nil {
				return fmt.Errorf("base: %s: %w", host, err)
			}
			if cur, err := os.Readlink(dst); err == nil && cur == target {
				continue
			}
			os.Remove(dst)
			if err := os.Symlink(target, dst); err != nil {
				return fmt.Errorf("base: %s: %w", dst, err)
			}
			continue
		}
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return fmt.Errorf("base: %s: %w", dst, err)
		}
	}
	for _, d := range baseDirs {
		dst := filepath.Join(base, d.name)
		if err := os.MkdirAll(dst, d.mode); err != nil {
			return fmt.Errorf("base: %s: %w", dst, err)
		}
		if err := os.Chmod(dst, d.mode); err != nil {
			return fmt.Errorf("base: %s: %w", dst, err)
		}
	}
	etc := filepath.Join(base, "etc")
	for name, content := range baseEtc {
		if err := writeIfChanged(filepath.Join(etc, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	// resolv.conf and localtime: the host's contents, copied (the host's
	// files may be symlinks into places the cell cannot see).
	for _, name := range []string{"resolv.conf", "localtime"} {
		data, err := os.ReadFile(filepath.Join("/etc", name))
		if err != nil {
			continue
		}
		if err := writeIfChanged(filepath.Join(etc, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeIfChanged writes atomically unless the file already holds data.
func writeIfChanged(path string, data []byte, mode os.FileMode) error {
	if cur, err := os.ReadFile(path); err == nil && string(cur) == string(data) {
		return nil
	}
	if err := WriteFileAtomic(path, data, mode); err != nil {
		return fmt.Errorf("base: %w", err)
	}
	return nil
}
