package spec

import (
	"errors"
	"fmt"
	"strings"
)

// ParseMount checks a mount specification "source:/target[:ro|rw]" with
// every rule that needs no runtime (cellman-spec(5), MOUNTS) and returns it
// with the mode defaulted to rw. The messages are upstream's.
func ParseMount(s string) (Mount, error) {
	if s == "" {
		return Mount{}, errors.New("empty mount specification")
	}
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return Mount{}, fmt.Errorf("invalid mount specification '%s' (too many ':')", s)
	}
	if len(parts) < 2 {
		return Mount{}, fmt.Errorf("invalid mount specification '%s' (expected source:/target[:ro|rw])", s)
	}
	m := Mount{Source: parts[0], Target: parts[1], Mode: "rw"}
	if len(parts) == 3 {
		m.Mode = parts[2]
	}
	switch {
	case m.Source == "":
		return Mount{}, errors.New("mount source cannot be empty")
	case m.Source == "/":
		return Mount{}, errors.New("host mount source is not allowed: /")
	case m.Source[0] == '/':
		if !cleanAbs(m.Source) {
			return Mount{}, fmt.Errorf("host mount source is not a clean path: %s", m.Source)
		}
	case !ValidName(m.Source):
		return Mount{}, fmt.Errorf("invalid volume mount source: %s", m.Source)
	}
	t := m.Target
	switch {
	case !strings.HasPrefix(t, "/"):
		return Mount{}, fmt.Errorf("mount target must be absolute: %s", t)
	case t == "/", t == "/dev", strings.HasPrefix(t, "/dev/"), t == "/.overlay", strings.HasPrefix(t, "/.overlay/"):
		return Mount{}, fmt.Errorf("mount target is not allowed: %s", t)
	case !cleanAbs(t):
		return Mount{}, fmt.Errorf("mount target is not a clean path: %s", t)
	case strings.IndexFunc(t, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return Mount{}, fmt.Errorf("mount target contains control characters: %s", t)
	}
	if m.Mode != "ro" && m.Mode != "rw" {
		return Mount{}, fmt.Errorf("mount mode must be ro or rw: %s", m.Mode)
	}
	return m, nil
}

// cleanAbs reports whether an absolute path has no empty, "." or ".."
// components and no trailing slash.
func cleanAbs(p string) bool {
	if p == "/" {
		return true
	}
	for _, c := range strings.Split(p[1:], "/") {
		if c == "" || c == "." || c == ".." {
			return false
		}
	}
	return true
}
