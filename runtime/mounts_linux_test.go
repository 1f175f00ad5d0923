package runtime

import (
	"strings"
	"testing"
)

const sampleMountinfo = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
23 22 0:21 / /proc rw,nosuid - proc proc rw
40 22 8:1 /var/cellman/volumes/web\040root /var/cellman/cells/web/root/var/www rw,relatime shared:1 - ext4 /dev/sda1 rw
41 22 8:17 / /srv rw - ext4 /dev/sdb1 rw
42 22 8:17 /data/shared /var/cellman/cells/app/root/shared ro - ext4 /dev/sdb1 ro
`

func TestParseMountinfo(t *testing.T) {
	set, err := parseMountinfo(strings.NewReader(sampleMountinfo))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"/", "/proc", "/srv", "/dev/sda1",
		"/var/cellman/cells/web/root/var/www",
		"/var/cellman/volumes/web root", // bind source from the root fs
		"/srv/data/shared",              // bind source from the fs mounted at /srv
		"/var/cellman/cells/app/root/shared",
	} {
		if !set.Has(p) {
			t.Errorf("%q not in set", p)
		}
	}
	for _, p := range []string{"/var/cellman/volumes", "/data/shared", "/var/cellman/volumes/other"} {
		if set.Has(p) {
			t.Errorf("%q unexpectedly in set", p)
		}
	}
}

func TestParseMountinfoMalformed(t *testing.T) {
	if _, err := parseMountinfo(strings.NewReader("1 2 3\n")); err == nil {
		t.Fatal("malformed line accepted")
	}
}

func TestMountsSelf(t *testing.T) {
	set, err := Mounts()
	if err != nil {
		t.Fatal(err)
	}
	if !set.Has("/") {
		t.Fatal("/ is not a mount point")
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	for in, want := range map[string]string{`a\040b`: "a b", `a\134b`: `a\b`, `a\04`: `a\04`, `plain`: "plain"} {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}
