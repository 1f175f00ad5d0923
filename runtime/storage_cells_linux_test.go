package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"cells/kernel"
)

// runInCell runs a shell command in the active cell name.
func runInCell(t *testing.T, d kernel.Driver, name, cmd string) bool {
	t.Helper()
	cells, err := d.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cells {
		if c.Name != name {
			continue
		}
		pr, err := d.Exec(c.ID, kernel.ExecSpec{Argv: []string{"/bin/sh", "-c", cmd}})
		if err != nil {
			t.Fatal(err)
		}
		st, err := pr.Wait()
		if err != nil {
			t.Fatal(err)
		}
		return st.Success()
	}
	t.Fatalf("cell %s is not running", name)
	return false
}

// A real cell (overlayfs root, rw volume): nothing of it is removed,
// archived or restored while it runs; its overlay round-trips with the
// whiteout of a deleted base file; reset stops it and wipes everything.
func TestStorageRealCell(t *testing.T) {
	p, d := realDriver(t)
	if err := os.MkdirAll(p.DSLDir, 0o755); err != nil {
		t.Fatal(err)
	}
	dsl := `volume("data", {})
cell("st-web", { mounts = { volume("data", { target = "/srv/data", mode = "rw" }) } })
`
	if err := os.WriteFile(filepath.Join(p.DSLDir, "01.lua"), []byte(dsl), 0o644); err != nil {
		t.Fatal(err)
	}
	lo := LifecycleOptions{Paths: p, Driver: d, Logf: t.Logf}
	so := StorageOptions{Paths: p, Driver: d, Logf: t.Logf}
	if err := StartCell("st-web", lo); err != nil {
		t.Fatal(err)
	}
	if !runInCell(t, d, "st-web", "echo hi > /srv/data/f && echo note > /etc/note && rm /etc/shells && rm -rf /var && mkdir /var && touch /var/only") {
		t.Fatal("writing in the cell failed")
	}
	if _, _, err := CreateBackup(so, VolumeBackup, "data"); err != nil {
		t.Fatalf("live volume backup: %v", err)
	}
	want := map[string]string{
		"cell remove":    "cannot remove cell st-web: cell is running",
		"overlay backup": "cannot backup overlay st-web: cell is running or overlay is mounted",
		"volume restore": "cannot restore runtime volume data: currently mounted",
		"volume remove":  "cannot remove volume data: referenced by cell st-web",
		"reset volumes":  "refusing system reset --volumes: mounted: ",
	}
	got := map[string]error{}
	_, got["cell remove"] = RemoveCells(so, RemoveRequest{Name: "st-web", Yes: true})
	_, _, got["overlay backup"] = CreateBackup(so, OverlayBackup, "st-web")
	_, got["volume restore"] = RestoreBackup(so, VolumeBackup, "data", "", true)
	_, got["volume remove"] = RemoveVolumes(so, RemoveRequest{Name: "data", Yes: true})
	got["reset volumes"] = Reset(so, ResetRequest{Volumes: true, Yes: true})
	for k, w := range want {
		if got[k] == nil || !strings.HasPrefix(got[k].Error(), w) {
			t.Errorf("%s while running: %v, want %q", k, got[k], w)
		}
	}

	if err := StopCell("st-web", lo); err != nil {
		t.Fatal(err)
	}
	l := Layout(p, "st-web")
	arc, st, err := CreateBackup(so, OverlayBackup, "st-web")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("overlay archive %s: %+v", arc, st)
	os.Remove(filepath.Join(l.Upper, "etc", "shells"))
	os.Remove(filepath.Join(l.Upper, "etc", "note"))
	os.RemoveAll(filepath.Join(l.Upper, "var"))
	if _, err := RestoreBackup(so, OverlayBackup, "st-web", "", true); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(l.Upper, "etc", "shells"))
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 || fi.Sys().(*syscall.Stat_t).Rdev != 0 {
		t.Fatalf("whiteout not restored: %v %v", fi, err)
	}
	if err := StartCell("st-web", lo); err != nil {
		t.Fatal(err)
	}
	if !runInCell(t, d, "st-web", "test ! -e /etc/shells && test \"$(cat /etc/note)\" = note && test \"$(cat /srv/data/f)\" = hi && test -e /var/only && test ! -e /var/log") {
		t.Error("restored overlay not seen in the cell")
	}

	if err := Reset(so, ResetRequest{Cells: true, Volumes: true, Yes: true}); err != nil {
		t.Fatal(err)
	}
	if cells, _ := d.List(); len(cells) != 0 {
		t.Errorf("cells after reset: %+v", cells)
	}
	if m, ok, _ := MountedUnder(p.VarDir); ok {
		t.Errorf("mounted after reset: %s", m)
	}
	for _, dir := range []string{p.CellsDir, p.VolumesDir} {
		if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
			t.Errorf("%s after reset: %v %v", dir, ents, err)
		}
	}
	if _, err := os.Stat(filepath.Join(p.DSLDir, "01.lua")); err != nil {
		t.Errorf("spec file gone: %v", err)
	}
}
