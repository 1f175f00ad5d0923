package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"cells/kernel"
	"cells/runtime/paths"
	"cells/spec"
)

func sampleState() *spec.State {
	return &spec.State{
		Cells: []*spec.Cell{
			{Name: "web", Autostart: true, AutostartSet: true,
				Create:    spec.Create{Profile: "high", ReservedPorts: "8080", RlimitNofile: "4096", RlimitAS: "1073741824", RlimitCore: "0"},
				Supervise: spec.Supervise{Cmd: "httpd", RunAs: "cell:www"},
				Mounts:    []spec.Mount{{Source: "webroot", Target: "/var/www", Mode: "ro"}, {Source: "/srv/x", Target: "/x", Mode: "rw"}},
				DependsOn: []string{"db"}, Healthcheck: "test -f /x"},
			{Name: "db", Mounts: []spec.Mount{{Source: "webroot", Target: "/a", Mode: "rw"}, {Source: "webroot", Target: "/b", Mode: "ro"}}},
			{Name: "parked"},
			{Name: "pend", Autostart: true, AutostartSet: true},
		},
		Volumes: []*spec.Volume{{Name: "webroot", Mode: "0755"}, {Name: "shared"}},
		Applies: []*spec.Apply{{Name: "web"}},
	}
}

func mkdirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBuildCellRows(t *testing.T) {
	p := paths.New(t.TempDir(), "")
	mkdirs(t, p.CellDir("web"), p.CellDir("parked"), p.CellDir("orphan"))
	active := []kernel.Cell{
		{ID: 7, Name: "web", Root: "/k/root", Refs: 3, Procs: 2, CPU1s: 1, CPU10s: 2, Memory: 4096, Age: 90},
		{ID: 9, Name: "stray", Root: "/s"},
		{ID: 10, Name: "orphan"},
	}
	rows := BuildCellRows(p, sampleState(), active)
	var names, states []string
	for _, r := range rows {
		names = append(names, r.Name)
		states = append(states, r.State)
	}
	wantNames := []string{"db", "orphan", "parked", "pend", "stray", "web"}
	wantStates := []string{StateDeclared, StateOrphaned, StateParked, StatePending, StateAbsent, StateManaged}
	if !reflect.DeepEqual(names, wantNames) || !reflect.DeepEqual(states, wantStates) {
		t.Fatalf("rows %v %v, want %v %v", names, states, wantNames, wantStates)
	}
	raw := func(r CellRow, fields string) string {
		var out []string
		for _, f := range strings.Split(fields, ",") {
			out = append(out, r.Value(f).Raw())
		}
		return strings.Join(out, "|")
	}
	web := rows[5]
	if got, want := raw(web, "running,cid,refs,procs,cpu1s,cpu10s,memory,age,root,autostart,profile,reserved_ports,rlimit_nofile,rlimit_as,rlimit_core,depends_on,healthcheck,supervise_cmd,volume_mounts,apply_present,supervise_run_as"),
		"1|7|3|2|1|2|4096|90|/k/root|YES|high|8080|4096|1073741824|0|db|test -f /x|httpd|webroot:/var/www:ro,/srv/x:/x:rw|1|cell:www"; got != want {
		t.Errorf("web:\n got %s\nwant %s", got, want)
	}
	db := rows[0]
	if got, want := raw(db, "running,cid,procs,age,root,autostart,rlimit_nofile,rlimit_as,rlimit_core,apply_present"), "0|||||NO|unlimited|unlimited|unlimited|0"; got != want {
		t.Errorf("db: got %s want %s", got, want)
	}
	if v := db.Value("cid"); !v.Null || v.Type != FieldNumber {
		t.Errorf("db cid = %+v, want null number", v)
	}
	parked := rows[2]
	if got, want := parked.Value("root").Raw(), p.CellRoot("parked"); got != want {
		t.Errorf("parked root = %q, want %q", got, want)
	}
	stray := rows[4]
	if got, want := raw(stray, "running,cid,root,autostart,rlimit_nofile,profile"), "1|9|/s|NO||"; got != want {
		t.Errorf("stray: got %s want %s", got, want)
	}
	// a kernel cell with no root falls back to the runtime root
	if got, want := raw(rows[1], "running,cid,root"), "1|10|"+p.CellRoot("orphan"); got != want {
		t.Errorf("orphan: got %s want %s", got, want)
	}
}

// Kernel cells called "." and ".." have no runtime directory, although
// cells/. and cells/.. are directories.
func TestBuildCellRowsDotNames(t *testing.T) {
	p := paths.New(t.TempDir(), "")
	if err := os.MkdirAll(p.CellDir("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	rows := BuildCellRows(p, nil, []kernel.Cell{{ID: 1, Name: "."}, {ID: 2, Name: ".."}})
	for _, r := range rows {
		if r.Rendered || r.State != StateAbsent || r.Root != "" {
			t.Errorf("%s: rendered=%v state=%s root=%q; want absent without root", r.Name, r.Rendered, r.State, r.Root)
		}
	}
}

func TestBuildCellRowsNilState(t *testing.T) {
	p := paths.New(t.TempDir(), "")
	if rows := BuildCellRows(p, nil, nil); len(rows) != 0 {
		t.Fatalf("rows = %v", rows)
	}
}

func TestBuildVolumeRows(t *testing.T) {
	p := paths.New(t.TempDir(), "")
	mkdirs(t, p.Volume("webroot"), p.Volume("old"), p.Volume("bad name"))
	if err := os.WriteFile(p.Volume("afile"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dirs, err := volumeDirs(p.VolumesDir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dirs, []string{"old", "webroot"}) {
		t.Fatalf("volumeDirs = %v", dirs)
	}
	mounts := MountSet{}
	mounts.add(p.Volume("webroot"))
	rows := BuildVolumeRows(p, sampleState(), dirs, mounts)
	var got []string
	for _, r := range rows {
		var vals []string
		for _, f := range VolumeCatalog.Fields {
			vals = append(vals, r.Value(f.Name).Raw())
		}
		got = append(got, strings.Join(vals, "|"))
	}
	want := []string{
		"old|orphaned||" + p.Volume("old") + "|0|0|",
		"shared|pending||" + p.Volume("shared") + "|0|0|",
		"webroot|managed|0755|" + p.Volume("webroot") + "|1|2|web,db",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("volume rows:\n got %q\nwant %q", got, want)
	}
	if d, err := volumeDirs(filepath.Join(p.Prefix, "nope")); err != nil || d != nil {
		t.Errorf("missing volumes dir: %v %v", d, err)
	}
}

func TestParseView(t *testing.T) {
	for _, v := range []string{"merged", "desired", "runtime", "compact"} {
		if got, err := ParseView(v); err != nil || string(got) != v {
			t.Errorf("ParseView(%q) = %q, %v", v, got, err)
		}
	}
	_, err := ParseView("full")
	if err == nil || err.Error() != "invalid view 'full' (expected merged|desired|runtime|compact)" {
		t.Errorf("ParseView(full) err = %v", err)
	}
	if err := VolumeCatalog.CheckView(ViewCompact); err == nil || err.Error() != "volume: view 'compact' is not supported" {
		t.Errorf("volume compact: %v", err)
	}
	if err := CellCatalog.CheckView(ViewCompact); err != nil {
		t.Errorf("cell compact: %v", err)
	}
}

func fieldNames(fs []Field) string {
	var n []string
	for _, f := range fs {
		n = append(n, f.Name)
	}
	return strings.Join(n, ",")
}

func TestCatalogParse(t *testing.T) {
	for _, tc := range []struct {
		cat       *Catalog
		list      string
		view      View
		want, err string
	}{
		{CellCatalog, "", ViewCompact, "name,state,running,cid,procs,age,autostart,reserved_ports", ""},
		{CellCatalog, "state,name,,name", ViewDesired, "state,name,name", ""},
		{CellCatalog, ",", ViewMerged, "", "cell: field list is empty"},
		{CellCatalog, "Name", ViewMerged, "", "invalid field token 'Name'"},
		{CellCatalog, "name, state", ViewMerged, "", "invalid field token ' state'"},
		{CellCatalog, "nope", ViewMerged, "", "cell: unknown field 'nope'"},
		{CellCatalog, "name,cid", ViewDesired, "", "cell: field 'cid' is not available in view 'desired'"},
		{CellCatalog, "supervise_run_as", ViewRuntime, "supervise_run_as", ""},
		{VolumeCatalog, "", ViewMerged, "name,state,refs,mounted,mode,path,used_by", ""},
		{VolumeCatalog, "mode", ViewRuntime, "", "volume: field 'mode' is not available in view 'runtime'"},
		{VolumeCatalog, "cid", ViewRuntime, "", "volume: unknown field 'cid'"},
		{VolumeCatalog, ",,", ViewRuntime, "", "volume: field list is empty"},
	} {
		got, err := tc.cat.Parse(tc.list, tc.view)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%s %q %s: err = %v, want %s", tc.cat.Kind, tc.list, tc.view, err, tc.err)
			}
			continue
		}
		if err != nil || fieldNames(got) != tc.want {
			t.Errorf("%s %q %s = %s, %v; want %s", tc.cat.Kind, tc.list, tc.view, fieldNames(got), err, tc.want)
		}
	}
}

func TestCatalogDefaultsAndAvailable(t *testing.T) {
	for _, cat := range []*Catalog{CellCatalog, VolumeCatalog} {
		for _, v := range []View{ViewMerged, ViewDesired, ViewRuntime, ViewCompact} {
			if !cat.Supports(v) {
				continue
			}
			_ = cat.Defaults(v) // panics on a bad table
		}
	}
	if got, want := fieldNames(CellCatalog.Available(ViewCompact)), "name,running,state,cid,procs,age,autostart,reserved_ports"; got != want {
		t.Errorf("compact fields = %s, want %s", got, want)
	}
	if got, want := fieldNames(VolumeCatalog.Available(ViewDesired)), "name,state,mode,refs,used_by"; got != want {
		t.Errorf("volume desired fields = %s, want %s", got, want)
	}
	if n := len(CellCatalog.Available(ViewMerged)); n != 23 {
		t.Errorf("merged cell fields = %d, want 23", n)
	}
}

func TestHumanAge(t *testing.T) {
	for sec, want := range map[uint64]string{
		0: "0s", 59: "59s", 60: "1m0s", 3599: "59m59s", 3600: "1h0m", 86399: "23h59m",
		86400: "1d0h", 604799: "6d23h", 604800: "1w0d", 1300000: "2w1d",
	} {
		if got := HumanAge(sec); got != want {
			t.Errorf("HumanAge(%d) = %q, want %q", sec, got, want)
		}
	}
}

func TestObserveKernelFake(t *testing.T) {
	t.Setenv("CELLS_DRIVER", "fake")
	p := paths.New(t.TempDir(), "")
	cells, err := ObserveKernel(p)
	if err != nil || len(cells) != 0 {
		t.Fatalf("ObserveKernel = %v, %v", cells, err)
	}
}

func TestKernelUnavailable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{fmt.Errorf("kernel: list: %w", kernel.ErrPermission), true},
		{fmt.Errorf("open: %w", syscall.EACCES), true},
		{&os.PathError{Op: "open", Path: "/x", Err: syscall.EPERM}, true},
		{fmt.Errorf("kernel: %w", kernel.ErrNotSupported), true},
		{errors.New("permission denied"), false}, // text alone does not count
		{fmt.Errorf("kernel: %w", kernel.ErrInvalid), false},
	} {
		if got := kernelUnavailable(tc.err); got != tc.want {
			t.Errorf("kernelUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
