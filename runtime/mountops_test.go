package runtime

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"cells/runtime/paths"
	"cells/spec"
)

func TestPlanMountsMessages(t *testing.T) {
	hostDir := t.TempDir()
	hostFile := filepath.Join(hostDir, "file")
	os.WriteFile(hostFile, nil, 0o644)
	p := paths.New(t.TempDir(), "")
	st := &spec.State{Volumes: []*spec.Volume{{Name: "data"}, {Name: "logs", Mode: "0700"}}}
	mk := func(specs ...string) *spec.Cell {
		c := &spec.Cell{Name: "web"}
		for _, s := range specs {
			src, rest, _ := strings.Cut(s, ":")
			tgt, mode, _ := strings.Cut(rest, ":")
			c.Mounts = append(c.Mounts, spec.Mount{Source: src, Target: tgt, Mode: mode})
		}
		return c
	}
	cases := []struct {
		name  string
		allow string // CELL_ALLOW_HOST_MOUNTS
		specs []string
		want  string // error; "" = ok
	}{
		{"volume ok", "", []string{"data:/srv/data:rw", "logs:/var/log/app:ro"}, ""},
		{"missing volume", "", []string{"nope:/x:rw"}, "missing referenced volume manifest: nope"},
		{"bad volume name", "", []string{"a b:/x:rw"}, "invalid volume mount source: a b"},
		{"relative target", "", []string{"data:x:rw"}, "mount target must be absolute: x"},
		{"root target", "", []string{"data:/:rw"}, "mount target is not allowed: /"},
		{"dev target", "", []string{"data:/dev/shm:rw"}, "mount target is not allowed: /dev/shm"},
		{"overlay target", "", []string{"data:/.overlay:rw"}, "mount target is not allowed: /.overlay"},
		{"bad mode", "", []string{"data:/x:rx"}, "mount mode must be ro or rw: rx"},
		{"empty source", "", []string{":/x:rw"}, "mount source cannot be empty"},
		{"host root", "YES", []string{"/:/x:rw"}, "host mount source is not allowed: /"},
		{"overlap equal", "", []string{"data:/srv:rw", "logs:/srv:ro"}, "overlapping mount targets are not allowed: /srv and /srv"},
		{"overlap nested", "", []string{"data:/srv/a/b:rw", "logs:/srv/a:ro"}, "overlapping mount targets are not allowed: /srv/a/b and /srv/a"},
		{"siblings", "", []string{"data:/srv/a:rw", "logs:/srv/ab:ro"}, ""},
		{"host disabled", "", []string{hostDir + ":/h:ro"}, "host-path mounts are disabled (set CELL_ALLOW_HOST_MOUNTS=YES)"},
		{"host disabled NO", "NO", []string{hostDir + ":/h:ro"}, "host-path mounts are disabled (set CELL_ALLOW_HOST_MOUNTS=YES)"},
		{"host ok", "YES", []string{hostDir + ":/h:ro"}, ""},
		{"host missing", "YES", []string{hostDir + "/none:/h:ro"}, "host mount source is not a directory: " + hostDir + "/none"},
		{"host file", "YES", []string{hostFile + ":/h:ro"}, "host mount source is not a directory: " + hostFile},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CELL_ALLOW_HOST_MOUNTS", tc.allow)
			got, err := PlanMounts(p, st, mk(tc.specs...), Config{})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if len(got) != len(tc.specs) {
					t.Fatalf("planned %d mounts, want %d", len(got), len(tc.specs))
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPlanMountsSourcesAndConfigGate(t *testing.T) {
	p := paths.New(t.TempDir(), "")
	hostDir := t.TempDir()
	conf := filepath.Join(t.TempDir(), "cellman.conf")
	os.WriteFile(conf, []byte("CELL_ALLOW_HOST_MOUNTS=YES\n"), 0o644)
	cfg, err := LoadConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("CELL_ALLOW_HOST_MOUNTS", "")
	st := &spec.State{Volumes: []*spec.Volume{{Name: "data"}}}
	c := &spec.Cell{Name: "web", Mounts: []spec.Mount{
		{Source: "data", Target: "/srv/data", Mode: "rw"},
		{Source: hostDir, Target: "/host", Mode: "ro"},
	}}
	got, err := PlanMounts(p, st, c, cfg)
	if err != nil {
		t.Fatalf("host mounts allowed by cellman.conf: %v", err)
	}
	if got[0].Source != p.Volume("data") || got[0].ReadOnly || got[0].Volume == nil {
		t.Fatalf("volume mount planned as %+v", got[0])
	}
	if got[1].Source != hostDir || !got[1].ReadOnly || got[1].Volume != nil {
		t.Fatalf("host mount planned as %+v", got[1])
	}
}

func TestEnsureVolumeDir(t *testing.T) {
	p := paths.New(t.TempDir(), "")
	v := &spec.Volume{Name: "data", Mode: "0750"}
	for i := 0; i < 2; i++ { // idempotent
		if err := EnsureVolumeDir(p, v); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p.Volume("data"))
		if err != nil || fi.Mode().Perm() != 0o750 || !fi.IsDir() {
			t.Fatalf("volume dir: %v %v", fi.Mode(), err)
		}
	}
	if err := EnsureVolumeDir(p, &spec.Volume{Name: "data", Mode: "1777"}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p.Volume("data")); fi.Mode()&os.ModeSticky == 0 || fi.Mode().Perm() != 0o777 {
		t.Fatalf("mode 1777 gave %v", fi.Mode())
	}
	if err := EnsureVolumeDir(p, &spec.Volume{Name: "plain"}); err != nil {
		t.Fatal(err)
	}
	if err := EnsureVolumeDir(p, &spec.Volume{Name: "bad", Mode: "99"}); err == nil || err.Error() != "volume bad: invalid mode '99'" {
		t.Fatalf("bad mode: %v", err)
	}
	os.WriteFile(p.Volume("file"), nil, 0o644)
	if err := EnsureVolumeDir(p, &spec.Volume{Name: "file"}); err == nil {
		t.Fatal("a file in place of a volume directory was accepted")
	}
}

func TestMountsUnderDeepestFirst(t *testing.T) {
	table := []mountEntry{
		{Point: "/"}, {Point: "/var/c/root"}, {Point: "/var/c/root/usr"},
		{Point: "/var/c/root/srv/data"}, {Point: "/var/c/rootx"}, {Point: "/var/c/root/srv/data"},
		{Point: "/var/c/root/a"},
	}
	got := mountsUnder(table, "/var/c/root")
	want := []string{"/var/c/root/srv/data", "/var/c/root/usr", "/var/c/root/a", "/var/c/root"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("mountsUnder = %q, want %q", got, want)
	}
}

func TestLayout(t *testing.T) {
	l := Layout(paths.New("/x", ""), "web")
	want := CellLayout{
		Dir: "/x/var/cellman/cells/web", Root: "/x/var/cellman/cells/web/root",
		Overlay: "/x/var/cellman/cells/web/overlay", Upper: "/x/var/cellman/cells/web/overlay/upper",
		Work: "/x/var/cellman/cells/web/overlay/work", State: "/x/var/cellman/cells/web/state",
	}
	if l != want {
		t.Fatalf("Layout = %+v", l)
	}
}
