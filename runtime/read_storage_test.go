package runtime

import (
	"reflect"
	"testing"

	"cells/kernel"
	"cells/runtime/paths"
)

func TestBuildStorageRows(t *testing.T) {
	p := paths.New(t.TempDir(), "")
	mkdirs(t, p.CellDir("web"), p.Volume("webroot"))
	st := sampleState()
	cells := BuildCellRows(p, st, []kernel.Cell{{ID: 1, Name: "web", Root: p.CellRoot("web")}})
	vols := BuildVolumeRows(p, st, []string{"webroot"}, MountSet{})
	rows := BuildStorageRows(vols, cells)
	type brief struct {
		name, typ, path  string
		present, mounted bool
		refs             int
		users            []string
	}
	var got []brief
	for _, r := range rows {
		got = append(got, brief{r.Name, r.Type(), r.Path, r.RuntimePresent, r.Mounted, r.Refs, r.UsedBy})
	}
	want := []brief{
		{"shared", "volume", p.Volume("shared"), false, false, 0, nil},
		{"webroot", "volume", p.Volume("webroot"), true, false, 2, []string{"web", "db"}},
		{"db", "overlay", "", false, false, 0, []string{"db"}},
		{"parked", "overlay", "", false, false, 0, []string{"parked"}},
		{"pend", "overlay", "", false, false, 0, []string{"pend"}},
		{"web", "overlay", p.CellOverlay("web"), true, true, 0, []string{"web"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("storage rows:\n got %+v\nwant %+v", got, want)
	}
}
