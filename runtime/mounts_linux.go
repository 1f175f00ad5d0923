package runtime

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Mounts returns the paths of the current mount namespace's mounts, read
// from /proc/self/mountinfo.
//
// A Linux bind mount does not name its source directory: mountinfo records
// the device and the bind's root inside that device's filesystem. The
// source path is recovered by finding another mount of the same device
// whose root is a prefix of the bind's root and joining its mount point
// with the rest (a bind of /var/cellman/volumes/v from the root filesystem
// appears as root=/var/cellman/volumes/v, dev 8:1, and / is dev 8:1 with
// root=/, so the source is /var/cellman/volumes/v). Mounts made inside
// another mount namespace (a cell's) are not visible here.
func Mounts() (MountSet, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("mounts: %w", err)
	}
	defer f.Close()
	set, err := parseMountinfo(f)
	if err != nil {
		return nil, fmt.Errorf("mounts: /proc/self/mountinfo: %w", err)
	}
	return set, nil
}

type mountinfoEntry struct {
	dev, root, point, source string
}

func parseMountinfo(r io.Reader) (MountSet, error) {
	var entries []mountinfoEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// id parent major:minor root mountpoint options [optional...] - fstype source superopts
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 7 || sep < 0 || sep+2 >= len(f) {
			return nil, fmt.Errorf("malformed line: %q", sc.Text())
		}
		entries = append(entries, mountinfoEntry{
			dev:    f[2],
			root:   unescapeMountinfo(f[3]),
			point:  unescapeMountinfo(f[4]),
			source: unescapeMountinfo(f[sep+2]),
		})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	set := MountSet{}
	for _, e := range entries {
		set.add(e.point)
		set.add(e.source)
		if e.root == "/" {
			continue
		}
		for _, o := range entries {
			if o.dev != e.dev || o.point == e.point || !pathUnder(e.root, o.root) {
				continue
			}
			set.add(o.point + "/" + strings.TrimPrefix(e.root, o.root))
		}
	}
	return set, nil
}

// pathUnder reports whether p equals dir or lies below it.
func pathUnder(p, dir string) bool {
	if dir == "/" || p == dir {
		return true
	}
	return strings.HasPrefix(p, dir+"/")
}

// unescapeMountinfo decodes the octal escapes (\040 for a space, \011,
// \012, \134) the kernel writes into mountinfo paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
