package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"cells/runtime/paths"
	"cells/spec"
)

func needMountRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts overlayfs and bind mounts")
	}
}

// bootstrappedPrefix is a scratch prefix with a Linux base layer; every
// mount under it is removed when the test ends, also on failure.
func bootstrappedPrefix(t *testing.T) paths.Paths {
	t.Helper()
	dir := t.TempDir()
	p := paths.New(dir, "")
	t.Cleanup(func() {
		if err := UnmountCell(dir, t.Logf); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if _, err := Bootstrap(p, BootstrapOptions{}); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCellRootMissingBase(t *testing.T) {
	p := paths.New(t.TempDir(), "")
	release, arch, _ := Uname()
	err := MountCellRoot(p, "web", t.Logf)
	want := "missing " + BaseDir(p, release, arch) + "; run bootstrap first"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestCellRootOverlay(t *testing.T) {
	needMountRoot(t)
	p := bootstrappedPrefix(t)
	l := Layout(p, "web")
	for i := 0; i < 2; i++ { // idempotent
		if err := MountCellRoot(p, "web", t.Logf); err != nil {
			t.Fatal(err)
		}
	}
	mounts, err := CellMounts(l.Root)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range HostSystemDirs {
		if fi, err := os.Lstat("/" + d); err == nil && fi.IsDir() {
			want = append(want, filepath.Join(l.Root, d))
		}
	}
	want = append(want, l.Root)
	if len(mounts) != len(want) {
		t.Fatalf("mounts under the root = %q, want %q (once each)", mounts, want)
	}
	for _, w := range want {
		if !slices.Contains(mounts, w) {
			t.Fatalf("mounts under the root = %q, missing %s", mounts, w)
		}
	}
	// /usr is the host's, read-only.
	if _, err := os.Stat(filepath.Join(l.Root, "usr/bin/env")); err != nil {
		t.Fatalf("host /usr not visible in the cell root: %v", err)
	}
	err = os.WriteFile(filepath.Join(l.Root, "usr/cells-test"), nil, 0o644)
	if !errors.Is(err, syscall.EROFS) {
		t.Fatalf("write to /usr: %v, want EROFS", err)
	}
	// /etc is the cell's: writes land in the overlay's upper layer.
	if err := os.WriteFile(filepath.Join(l.Root, "etc/motd"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(l.Upper, "etc/motd")); err != nil || string(b) != "hi\n" {
		t.Fatalf("upper/etc/motd = %q, %v", b, err)
	}
	release, arch, _ := Uname()
	if _, err := os.Stat(filepath.Join(BaseDir(p, release, arch), "etc/motd")); !os.IsNotExist(err) {
		t.Fatalf("write reached the base: %v", err)
	}
	if err := UnmountCell(l.Root, t.Logf); err != nil {
		t.Fatal(err)
	}
	if left, _ := CellMounts(l.Root); len(left) != 0 {
		t.Fatalf("left mounted: %q", left)
	}
}

func TestCellRootDifferentSource(t *testing.T) {
	needMountRoot(t)
	p := bootstrappedPrefix(t)
	l := Layout(p, "web")
	os.MkdirAll(l.Root, 0o755)
	if err := unix.Mount("tmpfs", l.Root, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatal(err)
	}
	err := MountCellRoot(p, "web", t.Logf)
	if err == nil || err.Error() != "cell root already mounted with different source: "+l.Root {
		t.Fatalf("error = %v", err)
	}
}

// mountedCell mounts the root of cell web and returns its layout and the
// desired state with two volumes.
func mountedCell(t *testing.T) (paths.Paths, CellLayout, *spec.State) {
	t.Helper()
	p := bootstrappedPrefix(t)
	if err := MountCellRoot(p, "web", t.Logf); err != nil {
		t.Fatal(err)
	}
	st := &spec.State{Volumes: []*spec.Volume{{Name: "data", Mode: "0750"}, {Name: "logs"}}}
	return p, Layout(p, "web"), st
}

func planFor(t *testing.T, p paths.Paths, st *spec.State, mounts ...spec.Mount) []PlannedMount {
	t.Helper()
	pm, err := PlanMounts(p, st, &spec.Cell{Name: "web", Mounts: mounts}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	return pm
}

func TestDeclaredMountsReadOnlyAndReadWrite(t *testing.T) {
	needMountRoot(t)
	p, l, st := mountedCell(t)
	pm := planFor(t, p, st,
		spec.Mount{Source: "data", Target: "/srv/data", Mode: "rw"},
		spec.Mount{Source: "logs", Target: "/var/log/app", Mode: "ro"})
	before, _ := CellMounts(l.Root)
	for i := 0; i < 2; i++ { // idempotent: the second run keeps both
		if err := MountDeclared(p, l.Root, pm, t.Logf); err != nil {
			t.Fatal(err)
		}
	}
	after, _ := CellMounts(l.Root)
	if len(after) != len(before)+2 {
		t.Fatalf("mounts %q -> %q, want two more", before, after)
	}
	if fi, err := os.Stat(p.Volume("data")); err != nil || fi.Mode().Perm() != 0o750 {
		t.Fatalf("volume data created as %v, %v", fi, err)
	}
	if err := os.WriteFile(filepath.Join(l.Root, "srv/data/index.html"), []byte("ok"), 0o644); err != nil {
		t.Fatalf("rw volume: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(p.Volume("data"), "index.html")); err != nil || string(b) != "ok" {
		t.Fatalf("write through the rw mount did not reach the volume: %q %v", b, err)
	}
	os.WriteFile(filepath.Join(p.Volume("logs"), "old.log"), []byte("x"), 0o644)
	if _, err := os.Stat(filepath.Join(l.Root, "var/log/app/old.log")); err != nil {
		t.Fatalf("ro volume contents not visible: %v", err)
	}
	if err := os.WriteFile(filepath.Join(l.Root, "var/log/app/new.log"), nil, 0o644); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("write to the ro volume: %v, want EROFS", err)
	}
	// A different source on a mounted target is refused.
	other := planFor(t, p, st, spec.Mount{Source: "logs", Target: "/srv/data", Mode: "rw"})
	err := MountDeclared(p, l.Root, other, t.Logf)
	if err == nil || err.Error() != "mount target already mounted with different source: "+filepath.Join(l.Root, "srv/data") {
		t.Fatalf("different source: %v", err)
	}
}

// CVE-2021-30465 class: a link planted in the cell's overlay at (or
// above) a mount target never makes the host mount outside the root.
func TestDeclaredMountTargetLinkConfined(t *testing.T) {
	needMountRoot(t)
	p := bootstrappedPrefix(t)
	l := Layout(p, "web")
	host := t.TempDir() // a host directory the attacker aims at
	os.MkdirAll(filepath.Join(l.Upper, "etc"), 0o755)
	rel, _ := filepath.Rel(filepath.Join(l.Root), host)
	for name, target := range map[string]string{
		"srv":  host,                     // absolute link to the host dir
		"srv2": rel,                      // relative link climbing out of the root
		"srv3": "/etc",                   // a link to the cell's own /etc
		"srv4": "/proc/self/root" + host, // through a magic link
	} {
		if err := os.Symlink(target, filepath.Join(l.Upper, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := MountCellRoot(p, "web", t.Logf); err != nil {
		t.Fatal(err)
	}
	st := &spec.State{Volumes: []*spec.Volume{{Name: "data"}}}
	before, _ := CellMounts(l.Root)
	for _, target := range []string{"/srv/data", "/srv", "/srv2/data", "/srv4/data"} {
		pm := planFor(t, p, st, spec.Mount{Source: "data", Target: target, Mode: "rw"})
		err := MountDeclared(p, l.Root, pm, t.Logf)
		if err == nil {
			// A confined result is acceptable only inside the root.
			now, _ := CellMounts(l.Root)
			t.Logf("%s mounted confined: %q", target, now)
			UnmountCell(l.Root, t.Logf)
			MountCellRoot(p, "web", t.Logf)
		} else {
			t.Logf("%s: %v", target, err)
		}
		table, _ := readMountTable()
		for _, e := range table {
			if withinDir(e.Point, host) {
				t.Fatalf("target %s: mounted at %s, outside the cell root", target, e.Point)
			}
		}
		if ents, _ := os.ReadDir(host); len(ents) != 0 {
			t.Fatalf("target %s: host directory written to: %v", target, ents)
		}
		if after, _ := CellMounts(l.Root); len(after) != len(before) {
			t.Fatalf("target %s: mounts %q left after a refused mount", target, after)
		}
	}
	// A link to the cell's own /etc resolves inside: the volume lands on
	// <root>/etc, never the host's /etc.
	pm := planFor(t, p, st, spec.Mount{Source: "data", Target: "/srv3", Mode: "ro"})
	if err := MountDeclared(p, l.Root, pm, t.Logf); err != nil {
		t.Fatal(err)
	}
	table, _ := readMountTable()
	if _, ok := topMount(table, filepath.Join(l.Root, "etc")); !ok {
		t.Fatalf("confined mount not at %s/etc", l.Root)
	}
	if _, ok := topMount(table, "/etc"); ok {
		t.Fatal("host /etc is a mount point after the test")
	}
}

func TestDeclaredMountsRollback(t *testing.T) {
	needMountRoot(t)
	p, l, st := mountedCell(t)
	before, _ := CellMounts(l.Root)
	// /etc/hosts is a file of the base: the second target cannot be made.
	pm := planFor(t, p, st,
		spec.Mount{Source: "data", Target: "/srv/data", Mode: "rw"},
		spec.Mount{Source: "logs", Target: "/etc/hosts/x", Mode: "ro"})
	err := MountDeclared(p, l.Root, pm, t.Logf)
	if err == nil || !strings.Contains(err.Error(), "mount target /etc/hosts/x") {
		t.Fatalf("error = %v", err)
	}
	after, _ := CellMounts(l.Root)
	if !slices.Equal(before, after) {
		t.Fatalf("mounts %q after the failed call, want %q (rolled back)", after, before)
	}
}

func TestUnmountCellDeepestFirst(t *testing.T) {
	needMountRoot(t)
	p, l, st := mountedCell(t)
	pm := planFor(t, p, st, spec.Mount{Source: "data", Target: "/srv/data", Mode: "rw"})
	if err := MountDeclared(p, l.Root, pm, t.Logf); err != nil {
		t.Fatal(err)
	}
	// A mount inside the volume mount: unmounting /srv/data before it
	// would fail busy.
	inner := filepath.Join(l.Root, "srv/data/inner")
	os.MkdirAll(inner, 0o755)
	if err := unix.Mount("tmpfs", inner, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatal(err)
	}
	old := unmountAttempts
	unmountAttempts = 1 // a wrong order would show as a lazy detach warning
	t.Cleanup(func() { unmountAttempts = old })
	var warned []string
	logf := func(f string, a ...any) { warned = append(warned, f) }
	if err := UnmountCell(l.Root, logf); err != nil {
		t.Fatal(err)
	}
	if left, _ := CellMounts(l.Root); len(left) != 0 {
		t.Fatalf("left mounted: %q", left)
	}
	if len(warned) != 0 {
		t.Fatalf("unmount needed lazy detaches: %q", warned)
	}
	if _, err := os.Stat(filepath.Join(p.Volume("data"), "inner")); err != nil {
		t.Fatalf("volume contents lost: %v", err)
	}
}

// A prefix reached through a symlink: the mount table names real paths,
// and mounting stays idempotent and unmounting complete.
func TestCellRootThroughLinkedPrefix(t *testing.T) {
	needMountRoot(t)
	real := bootstrappedPrefix(t)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real.Prefix, link); err != nil {
		t.Fatal(err)
	}
	p := paths.New(link, "")
	l := Layout(p, "web")
	st := &spec.State{Volumes: []*spec.Volume{{Name: "data"}}}
	pm := planFor(t, p, st, spec.Mount{Source: "data", Target: "/srv/data", Mode: "rw"})
	var counts []int
	for i := 0; i < 2; i++ {
		if err := MountCellRoot(p, "web", t.Logf); err != nil {
			t.Fatal(err)
		}
		if err := MountDeclared(p, l.Root, pm, t.Logf); err != nil {
			t.Fatal(err)
		}
		m, _ := CellMounts(l.Root)
		counts = append(counts, len(m))
	}
	if counts[0] < 2 || counts[0] != counts[1] {
		t.Fatalf("mount counts %v: not idempotent through a linked prefix", counts)
	}
	if err := UnmountCell(l.Root, t.Logf); err != nil {
		t.Fatal(err)
	}
	if left, _ := CellMounts(Layout(real, "web").Root); len(left) != 0 {
		t.Fatalf("left mounted: %q", left)
	}
}

// A link planted over a system directory in the overlay is refused: the
// host's /usr is bound only onto the cell's literal /usr.
func TestCellRootSystemDirLinkRefused(t *testing.T) {
	needMountRoot(t)
	if fi, err := os.Lstat("/usr"); err != nil || !fi.IsDir() {
		t.Skip("host /usr is not a directory")
	}
	p := bootstrappedPrefix(t)
	l := Layout(p, "web")
	os.MkdirAll(l.Upper, 0o755)
	os.MkdirAll(filepath.Join(l.Upper, "opt/fakeusr"), 0o755)
	if err := os.Symlink("/opt/fakeusr", filepath.Join(l.Upper, "usr")); err != nil {
		t.Fatal(err)
	}
	err := MountCellRoot(p, "web", t.Logf)
	if err == nil || !strings.Contains(err.Error(), "mount target /usr: resolves to "+filepath.Join(l.Root, "opt/fakeusr")+" through a symlink") {
		t.Fatalf("error = %v", err)
	}
	if left, _ := CellMounts(l.Root); len(left) != 0 {
		t.Fatalf("left mounted after the refusal: %q", left)
	}
}
