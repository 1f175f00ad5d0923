package runtime

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func needRootMounts(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts tmpfs and bind mounts")
	}
}

// mountForTest mounts and unmounts again at cleanup.
func mountForTest(t *testing.T, src, target, fstype string, flags uintptr, data string) {
	t.Helper()
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(src, target, fstype, flags, data); err != nil {
		t.Fatalf("mount %s on %s: %v", src, target, err)
	}
	t.Cleanup(func() { unix.Unmount(target, unix.MNT_DETACH) })
}

func TestBackupCreateDiskFull(t *testing.T) {
	needRootMounts(t)
	o := storageEnv(t)
	if err := CreateVolume(o, "data", ""); err != nil {
		t.Fatal(err)
	}
	noise := make([]byte, 3<<20) // incompressible, larger than the disk
	rand.Read(noise)
	if err := os.WriteFile(filepath.Join(o.Paths.Volume("data"), "noise"), noise, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := o.Paths.VolumeBackups()
	mountForTest(t, "tmpfs", dir, "tmpfs", 0, "size=1m")
	_, _, err := CreateBackup(o, VolumeBackup, "data")
	if err == nil || !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("backup on a full disk: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left in the backup dir: %v", ents)
	}
	// With room again a backup works.
	os.Remove(filepath.Join(o.Paths.Volume("data"), "noise"))
	if _, _, err := CreateBackup(o, VolumeBackup, "data"); err != nil {
		t.Fatal(err)
	}
}

func TestStorageRefusesMounted(t *testing.T) {
	needRootMounts(t)
	o := storageEnv(t)
	if err := CreateVolume(o, "data", ""); err != nil {
		t.Fatal(err)
	}
	vol := o.Paths.Volume("data")
	putFiles(t, vol, "live", "keep")
	if _, _, err := CreateBackup(o, VolumeBackup, "data"); err != nil {
		t.Fatal(err)
	}

	// The volume bound into a (stopped-cell) directory elsewhere.
	target := filepath.Join(t.TempDir(), "srv")
	mountForTest(t, vol, target, "", unix.MS_BIND, "")
	for _, f := range []func() error{
		func() error { _, err := RemoveVolumes(o, RemoveRequest{Name: "data", Yes: true}); return err },
		func() error { _, err := RemoveVolumes(o, RemoveRequest{All: true, Yes: true}); return err },
	} {
		if err := f(); err == nil || !strings.HasPrefix(err.Error(), "cannot remove volume data: volume is mounted: ") {
			t.Errorf("remove while mounted: %v", err)
		}
	}
	if _, err := RestoreBackup(o, VolumeBackup, "data", "", true); err == nil || err.Error() != "cannot restore runtime volume data: currently mounted" {
		t.Errorf("restore while mounted: %v", err)
	}
	if err := Reset(o, ResetRequest{Volumes: true, Yes: true}); err == nil || !strings.HasPrefix(err.Error(), "refusing system reset --volumes: mounted: ") {
		t.Errorf("reset while mounted: %v", err)
	}
	unix.Unmount(target, unix.MNT_DETACH)

	// Host data bound inside the volume: nothing deletes through it.
	host := t.TempDir()
	putFiles(t, host, "precious", "precious")
	mountForTest(t, host, filepath.Join(vol, "sub"), "", unix.MS_BIND, "")
	if _, err := RemoveVolumes(o, RemoveRequest{Name: "data", Yes: true}); err == nil || !strings.Contains(err.Error(), "volume is mounted: "+filepath.Join(vol, "sub")) {
		t.Errorf("remove with a mount inside: %v", err)
	}
	if err := removeTree(vol, false); !errors.Is(err, errAcrossMount) {
		t.Errorf("removeTree across a mount: %v", err)
	}
	// Even without the mount table check the walk stops at the mount
	// root (statx) before deleting anything below it.
	fd, err := unix.Open(vol, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	unix.Fstat(fd, &st)
	if err := removeContents(fd, vol, uint64(st.Dev)); !errors.Is(err, errAcrossMount) {
		t.Errorf("removeContents across a bind mount: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(host, "precious")); string(got) != "precious" {
		t.Fatalf("host data deleted through a mount: %q", got)
	}

	// A cell whose root is mounted is not removed, its overlay not
	// archived or restored.
	l := Layout(o.Paths, "web")
	putFiles(t, l.Upper, "x", "file")
	if _, _, err := CreateBackup(o, OverlayBackup, "web"); err != nil {
		t.Fatal(err)
	}
	mountForTest(t, "tmpfs", l.Root, "tmpfs", 0, "size=1m")
	if _, err := RemoveCells(o, RemoveRequest{Name: "web", Yes: true}); err == nil || err.Error() != "cannot remove cell web: cell is mounted: "+l.Root {
		t.Errorf("cell remove while mounted: %v", err)
	}
	if _, _, err := CreateBackup(o, OverlayBackup, "web"); err == nil || err.Error() != "cannot backup overlay web: cell is running or overlay is mounted" {
		t.Errorf("overlay backup while mounted: %v", err)
	}
	if _, err := RestoreBackup(o, OverlayBackup, "web", "", true); err == nil || err.Error() != "cannot restore overlay web: cell is running or overlay is mounted" {
		t.Errorf("overlay restore while mounted: %v", err)
	}
	if err := Reset(o, ResetRequest{Cells: true, Yes: true}); err == nil || err.Error() != "refusing system reset --cells: mounted: "+l.Root {
		t.Errorf("reset while mounted: %v", err)
	}
	if _, err := os.Stat(filepath.Join(l.Upper, "file")); err != nil {
		t.Errorf("overlay data gone: %v", err)
	}
}

// An overlayfs using the cell's overlay (upper and work) counts as a mount
// of the overlay even where it is mounted outside the cell directory.
func TestMountedUnderOverlayLayers(t *testing.T) {
	needRootMounts(t)
	o := storageEnv(t)
	l := Layout(o.Paths, "web")
	lower := t.TempDir()
	for _, d := range []string{l.Upper, l.Work} {
		os.MkdirAll(d, 0o755)
	}
	point := filepath.Join(t.TempDir(), "merged")
	mountForTest(t, "overlay", point, "overlay", 0, "lowerdir="+lower+",upperdir="+l.Upper+",workdir="+l.Work)
	m, ok, err := MountedUnder(l.Overlay)
	if err != nil || !ok || m != point {
		t.Errorf("MountedUnder(overlay) = %q %v %v, want %s", m, ok, err, point)
	}
	if _, _, err := CreateBackup(o, OverlayBackup, "web"); err == nil {
		t.Error("overlay archived while its overlayfs is mounted")
	}
}

// A volumes tree on its own file system is emptied by reset (the mount
// point stays), a mount below it is not crossed.
func TestResetTreeOnItsOwnDisk(t *testing.T) {
	needRootMounts(t)
	o := storageEnv(t)
	mountForTest(t, "tmpfs", o.Paths.VolumesDir, "tmpfs", 0, "size=4m")
	if err := CreateVolume(o, "data", ""); err != nil {
		t.Fatal(err)
	}
	putFiles(t, o.Paths.Volume("data"), "x", "f")
	if err := Reset(o, ResetRequest{Volumes: true, Yes: true}); err != nil {
		t.Fatal(err)
	}
	if ents, err := os.ReadDir(o.Paths.VolumesDir); err != nil || len(ents) != 0 {
		t.Fatalf("volumes after reset: %v %v", ents, err)
	}
	if err := CreateVolume(o, "data", ""); err != nil {
		t.Fatal(err)
	}
	mountForTest(t, "tmpfs", filepath.Join(o.Paths.Volume("data"), "sub"), "tmpfs", 0, "size=1m")
	err := Reset(o, ResetRequest{Volumes: true, Yes: true})
	if want := "refusing system reset --volumes: mounted: " + filepath.Join(o.Paths.Volume("data"), "sub"); err == nil || err.Error() != want {
		t.Errorf("reset with a mount below: %v", err)
	}
}
