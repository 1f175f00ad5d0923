package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"cells/runtime/paths"
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

// TestReadVolumesMounted bind-mounts a volume directory and checks that
// both the source (the volume) and the target count as mounted.
func TestReadVolumesMounted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: bind mount")
	}
	p := paths.New(t.TempDir(), filepath.Join(t.TempDir(), "dsl"))
	target := filepath.Join(p.Prefix, "target")
	mkdirs(t, p.Volume("busy"), p.Volume("idle"), target)
	// A private mount namespace is not available to one goroutine, so the
	// bind is made in the host namespace and removed on every exit path.
	if err := unix.Mount(p.Volume("busy"), target, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("needs bind mounts: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", target, err)
		}
	})
	set, err := Mounts()
	if err != nil {
		t.Fatal(err)
	}
	if !set.Has(target) || !set.Has(p.Volume("busy")) {
		t.Fatalf("bind %s -> %s not seen (target %v, source %v)", p.Volume("busy"), target, set.Has(target), set.Has(p.Volume("busy")))
	}
	rows, err := ReadVolumes(p)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range rows {
		got[r.Name] = r.Mounted
	}
	if !got["busy"] || got["idle"] || len(got) != 2 {
		t.Fatalf("mounted = %v, want busy only", got)
	}
}
