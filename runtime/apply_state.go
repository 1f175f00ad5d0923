package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"cells/runtime/paths"
)

// StoredHashes are the hashes recorded by the last successful apply of a
// cell in <prefix>/var/cellman/cells/<name>/state/*.sha256, "" when the
// file is missing ("never applied").
type StoredHashes struct {
	Manifest string
	Service  string
	Policy   string
	Apply    string
}

// hashFiles are the state files, in the order they are written.
var hashFiles = []string{"manifest", "service", "policy", "apply"}

func (h *StoredHashes) field(name string) *string {
	switch name {
	case "manifest":
		return &h.Manifest
	case "service":
		return &h.Service
	case "policy":
		return &h.Policy
	}
	return &h.Apply
}

// ReadHashes reads the stored hashes of cell name; trailing whitespace is
// trimmed and a missing file is an empty hash.
func ReadHashes(p paths.Paths, name string) (StoredHashes, error) {
	var h StoredHashes
	dir := p.CellState(name)
	for _, f := range hashFiles {
		b, err := os.ReadFile(filepath.Join(dir, f+".sha256"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return h, fmt.Errorf("state %s: %w", name, err)
		}
		*h.field(f) = strings.TrimRight(string(b), " \t\r\n")
	}
	return h, nil
}

// WriteHashes records the hashes of cell name atomically, one file at a
// time (temp file, fsync, rename, fsync of the directory); an empty Apply
// deletes apply.sha256. The state directory is created 0755.
func WriteHashes(p paths.Paths, name string, h StoredHashes) error {
	dir := p.CellState(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("state %s: %w", name, err)
	}
	for _, f := range hashFiles {
		v := *h.field(f)
		path := filepath.Join(dir, f+".sha256")
		if v == "" {
			if f != "apply" {
				return fmt.Errorf("state %s: empty %s hash", name, f)
			}
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("state %s: %w", name, err)
			}
			syncDir(dir)
			continue
		}
		if err := WriteFileAtomic(path, []byte(v+"\n"), 0o644); err != nil {
			return fmt.Errorf("state %s: %w", name, err)
		}
	}
	return nil
}

// syncDir makes a rename or unlink in dir durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// EnsureCellRuntime creates <prefix>/var/cellman/cells/<name>/root (0755).
func EnsureCellRuntime(p paths.Paths, name string) error {
	if err := os.MkdirAll(p.CellRoot(name), 0o755); err != nil {
		return fmt.Errorf("cell %s: %w", name, err)
	}
	return nil
}

// EnsureVolume creates the directory of volume name (0755) when missing and
// sets the declared octal mode, if any; it returns the directory.
func EnsureVolume(p paths.Paths, name, mode string) (string, error) {
	dir := p.Volume(name)
	var perm fs.FileMode
	if mode != "" {
		m, err := strconv.ParseUint(mode, 8, 32)
		if err != nil || m > 0o7777 {
			return "", fmt.Errorf("invalid volume mode: %s", mode)
		}
		perm = fs.FileMode(m & 0o777)
		if m&0o4000 != 0 {
			perm |= fs.ModeSetuid
		}
		if m&0o2000 != 0 {
			perm |= fs.ModeSetgid
		}
		if m&0o1000 != 0 {
			perm |= fs.ModeSticky
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("volume %s: %w", name, err)
	}
	if mode != "" {
		if err := os.Chmod(dir, perm); err != nil {
			return "", fmt.Errorf("volume %s: %w", name, err)
		}
	}
	return dir, nil
}
